package signer_test

import (
	"bytes"
	"crypto"
	"math/rand/v2"
	"testing"

	"elicense/signer"
)

// benchPDF is a one-page license-sized PDF (about 70 KB).
var benchPDF = licensePDF(70_000, true)

func BenchmarkSign(b *testing.B) {
	z, _ := testSealer(b)
	for _, f := range []signer.Format{signer.FormatSES, signer.FormatPKCS7} {
		b.Run(f.String(), func(b *testing.B) {
			rnd := rand.NewChaCha8([32]byte{7})
			var out bytes.Buffer
			b.SetBytes(int64(len(benchPDF)))
			b.ReportAllocs()
			for b.Loop() {
				out.Reset()
				if _, err := signer.Sign(&out, benchPDF, signer.SignOptions{Sealer: z, Format: f, Now: signTime, Rand: rnd}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFloor is the crypto floor of sealing: SM3 over the same input
// plus one SM2 signature.
func BenchmarkFloor(b *testing.B) {
	p := testPKI(b)
	d, _ := p.Department("amr")
	var key crypto.Signer = d.SignerKey
	rnd := rand.NewChaCha8([32]byte{8})
	b.SetBytes(int64(len(benchPDF)))
	b.ReportAllocs()
	for b.Loop() {
		sum := signer.DocumentDigest(benchPDF)
		if _, err := signer.SignMessage(key, rnd, sum); err != nil {
			b.Fatal(err)
		}
	}
}
