package verify_test

import (
	"context"
	"testing"

	"elicense/signer"
	"elicense/verify"
)

// fuzzOptions trusts the test PKI so fuzzed files can reach every check.
func fuzzOptions(tb testing.TB) verify.Options {
	o := options(tb, nil)
	o.Limits = verify.Limits{MaxFileSize: 4 << 20, MaxDecoded: 1 << 20}
	return o
}

func FuzzVerifyPDF(f *testing.F) {
	f.Add(sealed(f, signer.FormatSES))
	f.Add(sealed(f, signer.FormatPKCS7))
	for _, n := range []string{"base.pdf", "weird-byterange.pdf", "one-byterange.pdf", "tail-uncovered.pdf", "signature-gap-too-big.pdf"} {
		if b := fixtureOK(f, "attacks/"+n); b != nil {
			f.Add(b)
		}
	}
	o := fuzzOptions(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		res := verify.Verify(context.Background(), data, o)
		if len(res.Checks) == 0 {
			t.Fatal("no checks")
		}
		if res.Valid && !res.Authentic {
			t.Fatal("valid but not authentic")
		}
	})
}

func FuzzVerifyOFD(f *testing.F) {
	for _, n := range []string{"seals/SESV4SignDoc.ofd", "seals/signedFile.ofd"} {
		if b := fixtureOK(f, n); b != nil {
			f.Add(b)
		}
	}
	f.Add([]byte("PK\x03\x04"))
	o := fuzzOptions(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		res := verify.Verify(context.Background(), data, o)
		if len(res.Checks) == 0 {
			t.Fatal("no checks")
		}
		if res.Authentic {
			t.Fatal("an OFD from an untrusted root became authentic")
		}
	})
}

// FuzzParseCMS covers the SignedData reader used for PDF and OFD
// signatures (the SES parsers have their own fuzz targets in signer).
func FuzzParseCMS(f *testing.F) {
	for _, n := range []string{"cms/sadkSignedData.der", "cms/sadkSignedDataDetach.der"} {
		if b := fixtureOK(f, n); b != nil {
			f.Add(b)
		}
	}
	o := options(f, nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := signer.ParseCMS(data)
		if err != nil {
			return
		}
		var seal *signer.Seal
		if c.SealDER != nil {
			seal, _ = signer.ParseSeal(c.SealDER)
		}
		c.Check(signer.CheckOptions{Roots: o.TrustedRoots}, make([]byte, 32), []byte("x"), seal)
	})
}
