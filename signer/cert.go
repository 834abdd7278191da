package signer

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// Certificate is a parsed X.509 certificate with an SM2 (or other) key.
// It wraps the gmsm certificate type so callers do not depend on gmsm.
type Certificate struct {
	c *smx509.Certificate
}

// ParseCertificate parses one DER certificate.
func ParseCertificate(der []byte) (*Certificate, error) {
	c, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: certificate: %w", ErrMalformed, err)
	}
	return &Certificate{c: c}, nil
}

// ParseCertificatesPEM parses every CERTIFICATE block of data, in order.
func ParseCertificatesPEM(data []byte) ([]*Certificate, error) {
	var out []*Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != pemCertificate {
			continue
		}
		c, err := ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no CERTIFICATE PEM block", ErrMalformed)
	}
	return out, nil
}

// Raw returns the DER encoding (do not modify).
func (c *Certificate) Raw() []byte { return c.c.Raw }

// PEM returns the certificate as a PEM block.
func (c *Certificate) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: c.c.Raw})
}

// Subject returns the subject distinguished name in RFC 2253 form.
func (c *Certificate) Subject() string { return c.c.Subject.String() }

// Issuer returns the issuer distinguished name in RFC 2253 form.
func (c *Certificate) Issuer() string { return c.c.Issuer.String() }

// CommonName returns the subject common name.
func (c *Certificate) CommonName() string { return c.c.Subject.CommonName }

// SerialNumber returns a copy of the serial number.
func (c *Certificate) SerialNumber() *big.Int { return new(big.Int).Set(c.c.SerialNumber) }

// NotBefore returns the start of the validity period.
func (c *Certificate) NotBefore() time.Time { return c.c.NotBefore }

// NotAfter returns the end of the validity period.
func (c *Certificate) NotAfter() time.Time { return c.c.NotAfter }

// IsCA reports whether basic constraints mark the certificate as a CA.
func (c *Certificate) IsCA() bool { return c.c.BasicConstraintsValid && c.c.IsCA }

// PublicKey returns the subject public key (an *ecdsa.PublicKey on the SM2
// curve for SM2 certificates).
func (c *Certificate) PublicKey() crypto.PublicKey { return c.c.PublicKey }

// KeyUsage returns the key usage bits in crypto/x509 numbering.
func (c *Certificate) KeyUsage() x509.KeyUsage { return x509.KeyUsage(c.c.KeyUsage) }

// SM3Fingerprint returns SM3 of the DER encoding.
func (c *Certificate) SM3Fingerprint() [32]byte { return sm3.Sum(c.c.Raw) }

// Equal reports whether both certificates have the same DER encoding.
func (c *Certificate) Equal(o *Certificate) bool {
	return c != nil && o != nil && bytes.Equal(c.c.Raw, o.c.Raw)
}

// CheckSignatureFrom verifies that parent signed c.
func (c *Certificate) CheckSignatureFrom(parent *Certificate) error {
	if err := c.c.CheckSignatureFrom(parent.c); err != nil {
		return fmt.Errorf("%w: certificate signature: %w", ErrVerify, err)
	}
	return nil
}

// CertPool is a set of trusted root certificates.
type CertPool struct {
	p     *smx509.CertPool
	certs []*Certificate
}

// NewCertPool returns an empty pool.
func NewCertPool() *CertPool { return &CertPool{p: smx509.NewCertPool()} }

// Add adds a trusted certificate.
func (p *CertPool) Add(c *Certificate) {
	p.p.AddCert(c.c)
	p.certs = append(p.certs, c)
}

// Len returns the number of certificates in the pool.
func (p *CertPool) Len() int {
	if p == nil {
		return 0
	}
	return len(p.certs)
}

// Verify builds a chain from c to a root in p through intermediates, valid at
// time at, for any extended key usage. It returns the first chain found.
func (c *Certificate) Verify(roots *CertPool, intermediates []*Certificate, at time.Time) ([]*Certificate, error) {
	if roots == nil || roots.Len() == 0 {
		return nil, fmt.Errorf("%w: no trusted roots", ErrVerify)
	}
	inter := smx509.NewCertPool()
	for _, i := range intermediates {
		inter.AddCert(i.c)
	}
	chains, err := c.c.Verify(smx509.VerifyOptions{
		Roots:         roots.p,
		Intermediates: inter,
		CurrentTime:   at,
		KeyUsages:     []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: certificate chain: %w", ErrVerify, err)
	}
	out := make([]*Certificate, len(chains[0]))
	for i, x := range chains[0] {
		out[i] = &Certificate{c: x}
	}
	return out, nil
}

// CertificateRole selects the profile IssueCertificate applies.
type CertificateRole int

// Certificate roles.
const (
	// RoleRootCA: self-signed CA, pathlen 1, keyCertSign + cRLSign.
	RoleRootCA CertificateRole = iota + 1
	// RoleSealMaker: 制章者 end-entity certificate, digitalSignature +
	// nonRepudiation; signs seals.
	RoleSealMaker
	// RoleSigner: 签章者 end-entity certificate, digitalSignature +
	// nonRepudiation, EKU documentSigning; signs documents.
	RoleSigner
	// RoleQR: end-entity certificate for the QR token key, digitalSignature.
	RoleQR
)

// CertTemplate holds the variable parts of a certificate to issue.
type CertTemplate struct {
	Role         CertificateRole
	CommonName   string
	Organization string
	// OrganizationalUnit is optional.
	OrganizationalUnit string
	// USCC (统一社会信用代码) goes into the subject serialNumber attribute
	// when set.
	USCC      string
	Serial    *big.Int // required, positive
	NotBefore time.Time
	NotAfter  time.Time
}

var oidEKUDocumentSigning = []int{1, 3, 6, 1, 5, 5, 7, 3, 36}

// IssueCertificate creates a certificate for pub signed by issuerKey. For
// RoleRootCA, issuer must be nil (self-signed, issuerKey must match pub).
// Randomness comes from rnd.
func IssueCertificate(rnd io.Reader, t CertTemplate, pub crypto.PublicKey, issuer *Certificate, issuerKey crypto.Signer) (*Certificate, error) {
	if t.Serial == nil || t.Serial.Sign() <= 0 {
		return nil, errors.New("signer: issue certificate: serial must be positive")
	}
	if !sm2.IsSM2PublicKey(pub) {
		return nil, ErrNotSM2
	}
	tmpl := &smx509.Certificate{
		SerialNumber: t.Serial,
		Subject: pkix.Name{
			CommonName:   t.CommonName,
			Country:      []string{"CN"},
			SerialNumber: t.USCC,
		},
		NotBefore:             t.NotBefore.UTC(),
		NotAfter:              t.NotAfter.UTC(),
		BasicConstraintsValid: true,
	}
	if t.Organization != "" {
		tmpl.Subject.Organization = []string{t.Organization}
	}
	if t.OrganizationalUnit != "" {
		tmpl.Subject.OrganizationalUnit = []string{t.OrganizationalUnit}
	}
	switch t.Role {
	case RoleRootCA:
		tmpl.IsCA = true
		tmpl.MaxPathLen = 1
		tmpl.KeyUsage = smx509.KeyUsageCertSign | smx509.KeyUsageCRLSign
	case RoleSealMaker:
		tmpl.KeyUsage = smx509.KeyUsageDigitalSignature | smx509.KeyUsageContentCommitment
	case RoleSigner:
		tmpl.KeyUsage = smx509.KeyUsageDigitalSignature | smx509.KeyUsageContentCommitment
		tmpl.UnknownExtKeyUsage = append(tmpl.UnknownExtKeyUsage, oidEKUDocumentSigning)
	case RoleQR:
		tmpl.KeyUsage = smx509.KeyUsageDigitalSignature
	default:
		return nil, fmt.Errorf("signer: issue certificate: unknown role %d", t.Role)
	}
	parent := tmpl
	if issuer != nil {
		if t.Role == RoleRootCA {
			return nil, errors.New("signer: issue certificate: a root is self-signed")
		}
		parent = issuer.c
	} else if t.Role != RoleRootCA {
		return nil, errors.New("signer: issue certificate: issuer required")
	}
	der, err := smx509.CreateCertificate(rnd, tmpl, parent, pub, hsmAdapter{issuerKey})
	if err != nil {
		return nil, fmt.Errorf("signer: issue certificate: %w", err)
	}
	return ParseCertificate(der)
}
