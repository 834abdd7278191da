package qrtoken_test

import (
	"encoding/asn1"
	"math/big"
	"testing"

	"github.com/emmansun/gmsm/sm2"

	"elicense/signer/qrtoken"
)

// BenchmarkVerify is the full offline verification of a printed static
// token (URL text, key list, status list): parse, key lookup, SM2, policy.
func BenchmarkVerify(b *testing.B) {
	e := newEnv(b)
	text := qrtoken.Text(signStatic(b, orgLicense(), e.key), demoBase)
	opts := e.opts()
	if res := qrtoken.Verify(text, opts); !res.Valid {
		b.Fatal(res.Reason)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !qrtoken.Verify(text, opts).Valid {
			b.Fatal("invalid")
		}
	}
}

// BenchmarkVerifyDynamic verifies a dynamic token without a ticket cache
// (so that the same token can be verified again).
func BenchmarkVerifyDynamic(b *testing.B) {
	e := newEnv(b)
	text := qrtoken.Text(signDynamic(b, personLicense(), e.key, testNow, 1), demoBase)
	opts := e.opts()
	opts.Seen = nil
	b.ReportAllocs()
	for b.Loop() {
		if !qrtoken.Verify(text, opts).Valid {
			b.Fatal("invalid")
		}
	}
}

// BenchmarkSM2VerifyFloor is one gmsm SM2 verification with the digest
// e = SM3(Z_A ‖ M) and the DER signature already computed: the floor of BenchmarkVerify.
func BenchmarkSM2VerifyFloor(b *testing.B) {
	k := genKey(b, 2)
	tok, err := qrtoken.Parse(signStatic(b, orgLicense(), k))
	if err != nil {
		b.Fatal(err)
	}
	e, err := sm2.CalculateSM2Hash(pub(k), tok.SignedBytes(), []byte(qrtoken.DefaultUserID))
	if err != nil {
		b.Fatal(err)
	}
	var der struct{ R, S *big.Int }
	der.R = new(big.Int).SetBytes(tok.Signature[:32])
	der.S = new(big.Int).SetBytes(tok.Signature[32:])
	sig, err := asn1.Marshal(der)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !sm2.VerifyASN1(pub(k), e, sig) {
			b.Fatal("invalid")
		}
	}
}

// BenchmarkParseText decodes the digits and parses the token, no crypto.
func BenchmarkParseText(b *testing.B) {
	e := newEnv(b)
	text := qrtoken.Text(signStatic(b, orgLicense(), e.key), demoBase)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := qrtoken.ParseText(text); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSign signs a static token with a software key.
func BenchmarkSign(b *testing.B) {
	e := newEnv(b)
	c, err := qrtoken.NewStatic(orgLicense())
	if err != nil {
		b.Fatal(err)
	}
	rnd := seeded(3)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := qrtoken.Sign(c, e.key, rnd); err != nil {
			b.Fatal(err)
		}
	}
}
