package signer_test

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/pem"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	tjsm2 "github.com/tjfoc/gmsm/sm2"
	tjx509 "github.com/tjfoc/gmsm/x509"

	"elicense/signer"
)

// signedParts seals a PDF and returns, per check, the signer certificate,
// the signed message and the signature value, for cross-checking with
// independent implementations.
type signedPart struct {
	name     string
	certDER  []byte
	msg, sig []byte
}

func crossParts(t *testing.T) []signedPart {
	t.Helper()
	z, _ := testSealer(t)
	var parts []signedPart
	seal := z.Seal()
	parts = append(parts, signedPart{"seal maker", seal.MakerCert, seal.SignedMessage, seal.SignedValue})
	var out bytes.Buffer
	if _, err := signer.Sign(&out, licensePDF(2000, true), signer.SignOptions{Sealer: z, Now: signTime, Rand: rand.NewChaCha8([32]byte{9})}); err != nil {
		t.Fatal(err)
	}
	ps, err := signer.VerifyPDF(out.Bytes(), signer.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := ps.SES
	parts = append(parts, signedPart{"document (SES)", g.SignerCert, g.RawToSign, g.Value})
	// dataHash must be SM3 of the ByteRange spans, recomputed independently.
	br := ps.ByteRange
	pdf := out.Bytes()
	if !bytes.Equal(signer.DocumentDigest(pdf[:br[1]], pdf[br[2]:br[2]+br[3]]), g.DataHash) {
		t.Fatal("dataHash is not SM3 of the ByteRange spans")
	}
	return parts
}

func TestCrossCheckTjfoc(t *testing.T) {
	for _, p := range crossParts(t) {
		t.Run(p.name, func(t *testing.T) {
			c, err := tjx509.ParseCertificate(p.certDER)
			if err != nil {
				t.Fatal(err)
			}
			e, ok := c.PublicKey.(*ecdsa.PublicKey)
			if !ok {
				t.Fatalf("tjfoc key type %T", c.PublicKey)
			}
			ec := &tjsm2.PublicKey{Curve: tjsm2.P256Sm2(), X: e.X, Y: e.Y}
			if !ec.Verify(p.msg, p.sig) {
				t.Fatal("tjfoc/gmsm rejects the signature")
			}
			bad := append([]byte(nil), p.msg...)
			bad[len(bad)/2] ^= 1
			if ec.Verify(bad, p.sig) {
				t.Fatal("tjfoc/gmsm accepts a modified message")
			}
		})
	}
}

func TestCrossCheckOpenSSL(t *testing.T) {
	ossl := tool(t, "openssl")
	if out, err := exec.Command(ossl, "list", "-digest-algorithms").CombinedOutput(); err != nil || !strings.Contains(strings.ToUpper(string(out)), "SM3") {
		t.Skipf("openssl lacks SM3/SM2: %s", out)
	}
	for _, p := range crossParts(t) {
		t.Run(p.name, func(t *testing.T) {
			dir := t.TempDir()
			c, err := signer.ParseCertificate(p.certDER)
			if err != nil {
				t.Fatal(err)
			}
			pubDER, _ := signer.MarshalPublicKey(c.PublicKey())
			files := map[string][]byte{
				"pub.pem": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}),
				"msg":     p.msg,
				"sig":     p.sig,
			}
			for n, b := range files {
				os.WriteFile(filepath.Join(dir, n), b, 0o644)
			}
			cmd := exec.Command(ossl, "dgst", "-sm3", "-verify", "pub.pem", "-signature", "sig",
				"-sigopt", "distid:1234567812345678", "msg")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "Verified OK") {
				t.Fatalf("openssl: %v %s", err, out)
			}
		})
	}
}
