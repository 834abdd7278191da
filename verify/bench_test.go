package verify_test

import (
	"context"
	"crypto"
	"testing"

	"elicense/catalog/catalogtest"
	"elicense/signer"
	"elicense/verify"
)

// BenchmarkVerify verifies the sealed food-business sample with every
// check, in both formats, with and without a registry.
func BenchmarkVerify(b *testing.B) {
	_, lic, kind := baseDocument(b)
	if kind != "food-business" {
		b.Logf("no CJK font: benchmarking the small fallback PDF")
	}
	for _, f := range []signer.Format{signer.FormatSES, signer.FormatPKCS7} {
		file := sealed(b, f)
		reg := catalogtest.NewMemStore()
		l := *lic
		l.Digest, l.StatusIndex = sm3hex(file), -1
		if err := reg.Create(context.Background(), &l); err != nil {
			b.Fatal(err)
		}
		for _, withReg := range []bool{false, true} {
			name := f.String()
			o := options(b, nil)
			if withReg {
				name += "+registry"
				o.Registry = reg
			}
			b.Run(name, func(b *testing.B) {
				ctx := context.Background()
				b.SetBytes(int64(len(file)))
				b.ReportAllocs()
				for b.Loop() {
					res := verify.Verify(ctx, file, o)
					if !res.Authentic || (withReg && !res.Valid) {
						b.Fatalf("not authentic: %s", res.Reason)
					}
				}
			})
		}
	}
}

// BenchmarkFloor is the cryptographic floor of verifying the same file:
// SM3 over the file plus two SM2 verifications.
func BenchmarkFloor(b *testing.B) {
	file := sealed(b, signer.FormatSES)
	d, _ := testPKI(b).Department("amr")
	var key crypto.Signer = d.SignerKey
	msg := []byte("to be signed")
	sig, err := signer.SignMessage(key, randReader{}, msg)
	if err != nil {
		b.Fatal(err)
	}
	pub := d.SignerCert.PublicKey()
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		_ = signer.DocumentDigest(file)
		if !signer.VerifyMessage(pub, msg, sig) || !signer.VerifyMessage(pub, msg, sig) {
			b.Fatal("verify")
		}
	}
}

type randReader struct{}

func (randReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i*7 + 1)
	}
	return len(p), nil
}
