package signer_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/pkcs7"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	tjsm2 "github.com/tjfoc/gmsm/sm2"
	tjx509 "github.com/tjfoc/gmsm/x509"

	"elicense/signer"
)

// pkcs7Sealed is a FormatPKCS7 sealed PDF taken apart without package
// signer: the DER container read from /Contents (zero padding stripped) and
// the bytes the /ByteRange covers.
type pkcs7Sealed struct {
	der    []byte
	signed []byte
	seal   []byte // the Sealer's seal DER
	root   []byte // the test root certificate DER
}

func sealPKCS7(t *testing.T) pkcs7Sealed {
	t.Helper()
	z, p := testSealer(t)
	var out bytes.Buffer
	res, err := signer.Sign(&out, licensePDF(3000, true), signer.SignOptions{Sealer: z, Format: signer.FormatPKCS7, Now: signTime, Rand: rand.NewChaCha8([32]byte{10})})
	if err != nil {
		t.Fatal(err)
	}
	pdf, br := out.Bytes(), res.ByteRange
	if pdf[br[1]] != '<' || pdf[br[2]-1] != '>' {
		t.Fatalf("/ByteRange %v does not frame the /Contents string", br)
	}
	raw := make([]byte, (br[2]-br[1]-2)/2)
	if _, err := hex.Decode(raw, pdf[br[1]+1:br[2]-1]); err != nil {
		t.Fatal(err)
	}
	var top asn1.RawValue
	rest, err := asn1.Unmarshal(raw, &top)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Trim(string(rest), "\x00") != "" {
		t.Fatal("/Contents: non-zero bytes after the DER element")
	}
	if !bytes.Equal(top.FullBytes, res.Signature) {
		t.Fatal("/Contents differs from SignResult.Signature")
	}
	signed := append(append([]byte(nil), pdf[:br[1]]...), pdf[br[2]:br[2]+br[3]]...)
	return pkcs7Sealed{der: top.FullBytes, signed: signed, seal: z.Seal().Raw, root: p.Root.Raw()}
}

// oidDER encodes a dotted OID with math/big, so arcs beyond 64 bits work
// (encoding/asn1 stops at 31 bits).
func oidDER(t *testing.T, dotted string) []byte {
	t.Helper()
	var arcs []*big.Int
	for _, s := range strings.Split(dotted, ".") {
		n, ok := new(big.Int).SetString(s, 10)
		if !ok {
			t.Fatalf("OID %s", dotted)
		}
		arcs = append(arcs, n)
	}
	first := new(big.Int).Add(new(big.Int).Mul(arcs[0], big.NewInt(40)), arcs[1])
	var body []byte
	for _, a := range append([]*big.Int{first}, arcs[2:]...) {
		var b []byte
		for v := new(big.Int).Set(a); ; {
			b = append([]byte{byte(new(big.Int).And(v, big.NewInt(0x7f)).Int64())}, b...)
			if v.Rsh(v, 7); v.Sign() == 0 {
				break
			}
		}
		for i := 0; i < len(b)-1; i++ {
			b[i] |= 0x80
		}
		body = append(body, b...)
	}
	return append([]byte{0x06, byte(len(body))}, body...)
}

// TestCrossCheckPKCS7 takes a FormatPKCS7 signature apart with
// encoding/asn1 and checks it with gmsm and tjfoc/gmsm primitives, then
// hands it to both libraries' PKCS#7 readers.
func TestCrossCheckPKCS7(t *testing.T) {
	s := sealPKCS7(t)
	var ci struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"explicit,tag:0"`
	}
	var sd struct {
		Version     int
		DigestAlgs  []pkix.AlgorithmIdentifier `asn1:"set"`
		Encap       struct{ Type asn1.ObjectIdentifier }
		Certs       asn1.RawValue   `asn1:"tag:0"`
		SignerInfos []asn1.RawValue `asn1:"set"`
	}
	var si struct {
		Version   int
		IAS       asn1.RawValue
		DigestAlg pkix.AlgorithmIdentifier
		Attrs     asn1.RawValue `asn1:"tag:0"`
		SigAlg    pkix.AlgorithmIdentifier
		Sig       []byte
	}
	if rest, err := asn1.Unmarshal(s.der, &ci); err != nil || len(rest) > 0 || !ci.Type.Equal(signer.OIDSM2SignedData) {
		t.Fatalf("ContentInfo: %v, type %v", err, ci.Type)
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil || len(sd.SignerInfos) != 1 {
		t.Fatalf("SignedData: %v, %d signers", err, len(sd.SignerInfos))
	}
	if _, err := asn1.Unmarshal(sd.SignerInfos[0].FullBytes, &si); err != nil {
		t.Fatalf("SignerInfo: %v", err)
	}
	if len(sd.DigestAlgs) != 1 || !sd.DigestAlgs[0].Algorithm.Equal(signer.OIDSM3) || !si.DigestAlg.Algorithm.Equal(signer.OIDSM3) ||
		!si.SigAlg.Algorithm.Equal(signer.OIDSM2Sign) || !sd.Encap.Type.Equal(signer.OIDSM2Data) {
		t.Fatalf("algorithms: %v %v %v, content type %v", sd.DigestAlgs, si.DigestAlg.Algorithm, si.SigAlg.Algorithm, sd.Encap.Type)
	}
	cert, err := smx509.ParseCertificate(sd.Certs.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	// The signed message is the attributes re-tagged as SET OF.
	msg := append([]byte{0x31}, si.Attrs.FullBytes[1:]...)
	attrs := map[string][]byte{}
	for rest := si.Attrs.Bytes; len(rest) > 0; {
		var a struct {
			Type   asn1.RawValue // RawValue: the seal OID is beyond encoding/asn1
			Values asn1.RawValue `asn1:"set"`
		}
		var err error
		if rest, err = asn1.Unmarshal(rest, &a); err != nil {
			t.Fatal(err)
		}
		attrs[string(a.Type.FullBytes)] = a.Values.Bytes
	}
	md, _ := asn1.Marshal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4})
	var digest []byte
	if _, err := asn1.Unmarshal(attrs[string(md)], &digest); err != nil {
		t.Fatalf("messageDigest: %v", err)
	}
	sum := sm3.Sum(s.signed)

	t.Run("messageDigest is SM3 of the ByteRange", func(t *testing.T) {
		if !bytes.Equal(digest, sum[:]) {
			t.Fatalf("messageDigest %x, SM3 of the spans %x", digest, sum)
		}
	})
	t.Run("seal attribute is the seal", func(t *testing.T) {
		v, ok := attrs[string(oidDER(t, signer.OIDSealAttribute))]
		if !ok {
			t.Fatalf("no signed attribute %s", signer.OIDSealAttribute)
		}
		if !bytes.Equal(v, s.seal) {
			t.Fatal("seal attribute value differs from the seal DER")
		}
	})
	t.Run("gmsm sm2 and chain", func(t *testing.T) {
		pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
		if !ok || !sm2.VerifyASN1WithSM2(pub, nil, msg, si.Sig) {
			t.Fatal("gmsm rejects the signature over the signed attributes")
		}
		bad := append([]byte(nil), msg...)
		bad[len(bad)-1] ^= 1
		if sm2.VerifyASN1WithSM2(pub, nil, bad, si.Sig) {
			t.Fatal("gmsm accepts modified attributes")
		}
		root, err := smx509.ParseCertificate(s.root)
		if err != nil {
			t.Fatal(err)
		}
		pool := smx509.NewCertPool()
		pool.AddCert(root)
		if _, err := cert.Verify(smx509.VerifyOptions{Roots: pool, CurrentTime: signTime, KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny}}); err != nil {
			t.Fatalf("signer certificate does not chain to the test root: %v", err)
		}
	})
	t.Run("tjfoc sm2", func(t *testing.T) {
		c, err := tjx509.ParseCertificate(sd.Certs.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		e := c.PublicKey.(*ecdsa.PublicKey)
		pub := &tjsm2.PublicKey{Curve: tjsm2.P256Sm2(), X: e.X, Y: e.Y}
		if !pub.Verify(msg, si.Sig) {
			t.Fatal("tjfoc/gmsm rejects the signature over the signed attributes")
		}
	})
	// Both libraries read SignerInfo with encoding/asn1, whose
	// ObjectIdentifier cannot hold the seal attribute's 2.25.<UUID> arc:
	// they drop the SignerInfos without an error. The subtests then stop
	// with that diagnosis; they check everything once the signer is read.
	const dropped = "SignerInfo dropped: encoding/asn1 cannot read the seal attribute OID " + signer.OIDSealAttribute
	t.Run("gmsm pkcs7", func(t *testing.T) {
		p7, err := pkcs7.Parse(s.der)
		if err != nil {
			t.Fatal(err)
		}
		if len(p7.Certificates) != 1 || !bytes.Equal(p7.Certificates[0].Raw, sd.Certs.Bytes) {
			t.Fatal("certificates")
		}
		if len(p7.Signers) == 0 {
			t.Skip(dropped)
		}
		p7.Content = s.signed
		if err := p7.Verify(); err != nil {
			t.Fatal(err)
		}
		root, _ := smx509.ParseCertificate(s.root)
		pool := smx509.NewCertPool()
		pool.AddCert(root)
		if err := p7.VerifyWithChainAtTime(pool, &signTime); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("tjfoc pkcs7", func(t *testing.T) {
		p7, err := tjx509.ParsePKCS7(s.der)
		if err != nil {
			t.Fatal(err)
		}
		if len(p7.Certificates) != 1 || !bytes.Equal(p7.Certificates[0].Raw, sd.Certs.Bytes) {
			t.Fatal("certificates")
		}
		if len(p7.Signers) == 0 {
			t.Skip(dropped)
		}
		// tjfoc maps SM3 only to SM3withSM2 (1.2.156.10197.1.501), not to
		// SM2-1 as GB/T 35275 writes it, so p7.Verify cannot be used: check
		// what its API exposes.
		var got []byte
		if err := p7.UnmarshalSignedAttribute(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}, &got); err != nil || !bytes.Equal(got, sum[:]) {
			t.Fatalf("messageDigest: %v", err)
		}
		if !bytes.Equal(p7.Signers[0].EncryptedDigest, si.Sig) || p7.GetOnlySigner() == nil {
			t.Fatal("signer")
		}
	})
}
