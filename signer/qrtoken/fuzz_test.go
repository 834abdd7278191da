package qrtoken_test

import (
	"bytes"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"elicense/signer/qrtoken"
)

func FuzzParse(f *testing.F) {
	e := newEnv(f)
	for _, tok := range [][]byte{
		signStatic(f, orgLicense(), e.key),
		signStatic(f, personLicense(), e.key),
		signDynamic(f, personLicense(), e.key, testNow, 1),
		signStatic(f, foodLicense(), e.key),
		signStatic(f, specialOpsLicense(), e.key),
	} {
		f.Add(tok)
		f.Add([]byte(qrtoken.Text(tok, demoBase)))
		f.Add([]byte(qrtoken.Digits(tok)))
	}
	opts := e.opts()
	f.Fuzz(func(t *testing.T, data []byte) {
		if tok, err := qrtoken.Parse(data); err == nil {
			if !bytes.Equal(tok.Bytes(), data) {
				t.Fatal("Bytes differs from the input")
			}
			back, err := qrtoken.DecodeDigits(qrtoken.Digits(data))
			if err != nil || !bytes.Equal(back, data) {
				t.Fatal("digits round trip failed")
			}
			// One encoding per token: the decoded claims encode back to
			// the same bytes.
			if enc, err := qrtoken.EncodeClaims(&tok.Claims); err != nil || !bytes.Equal(enc, tok.RawClaims()) {
				t.Fatalf("claims do not re-encode identically (%v)", err)
			}
			_ = tok.SignedBytes()
			if res := qrtoken.VerifyToken(data, opts); res.Key != nil && res.Token.Claims.Identifier == "" {
				t.Fatal("identifier not rebuilt after a verified signature")
			}
		}
		if tok, err := qrtoken.ParseText(string(data)); err == nil {
			_ = qrtoken.Verify(string(data), opts)
			if _, err := qrtoken.Parse(tok.Bytes()); err != nil {
				t.Fatalf("ParseText accepted what Parse rejects: %v", err)
			}
		}
	})
}

func docContent(t testing.TB, doc []byte) []byte {
	var env []any
	if err := cbor.Unmarshal(doc, &env); err != nil {
		t.Fatal(err)
	}
	return env[1].([]byte)
}

func FuzzKeyList(f *testing.F) {
	e := newEnv(f, keyEntry(genKey(f, 50), otherDept, qrtoken.KeyRevoked, otherType, demoTypeCode))
	f.Add(e.keyDoc)
	f.Add(docContent(f, e.keyDoc))
	root := pub(e.root)
	f.Fuzz(func(t *testing.T, data []byte) {
		if kl, err := qrtoken.ParseKeyList(data, root); err == nil {
			if _, err := qrtoken.NewKeyList(kl.Version(), kl.Issued(), kl.Keys()); err != nil {
				t.Fatalf("parsed list does not rebuild: %v", err)
			}
		}
		_ = qrtoken.ParseKeyListContent(data)
	})
}

func FuzzStatusList(f *testing.F) {
	e := newEnv(f)
	sl, _ := qrtoken.NewStatusList(qrtoken.StatusBlock)
	_ = sl.Set(5, qrtoken.FlagRevoked)
	doc, err := sl.Sign(e.root, seeded(1), 3, testNow)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(doc)
	f.Add(docContent(f, doc))
	a := qrtoken.NewAllocator()
	_, _ = a.Allocate(seeded(2))
	state, _ := a.MarshalBinary()
	f.Add(state)
	root := pub(e.root)
	f.Fuzz(func(t *testing.T, data []byte) {
		if l, err := qrtoken.ParseStatusList(data, root); err == nil {
			if _, err := l.Get(l.Size() - 1); err != nil {
				t.Fatal(err)
			}
		}
		_ = qrtoken.ParseStatusListContent(data)
		var b qrtoken.Allocator
		if b.UnmarshalBinary(data) == nil {
			out, _ := b.MarshalBinary()
			if !bytes.Equal(out, data) {
				t.Fatal("allocator state does not round-trip")
			}
		}
	})
}
