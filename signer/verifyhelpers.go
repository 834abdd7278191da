package signer

// Exported functions for the verification policy (package verify): an SM3
// constructor, a reader and checker of third-party PKCS#7 / GB/T 35275
// SignedData, and VerifyCache, which lets the checks memoise their
// time-independent, expensive parts (certificate parsing, the seal maker's
// signature, chain building).

import (
	"bytes"
	"crypto/subtle"
	"encoding/asn1"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// NewSM3 returns a new SM3 hash. The value also implements
// encoding.BinaryMarshaler and encoding.BinaryUnmarshaler, so a caller can
// fork a running digest (for example to hash a file and its /ByteRange
// spans in one pass).
func NewSM3() hash.Hash { return sm3.New() }

// OIDs of the RFC 5652 (PKCS#7) SignedData flavour and SM3withSM2.
var (
	// OIDPKCS7SignedData is 1.2.840.113549.1.7.2.
	OIDPKCS7SignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	// OIDPKCS7Data is 1.2.840.113549.1.7.1.
	OIDPKCS7Data = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
)

// CMSSignature is a parsed single-signer SignedData: GB/T 35275 (outer OID
// OIDSM2SignedData) or RFC 5652 (OIDPKCS7SignedData). Byte slices alias the
// input.
type CMSSignature struct {
	// ContentType is the outer ContentInfo type.
	ContentType asn1.ObjectIdentifier
	// EncapType is the encapsulated content type.
	EncapType asn1.ObjectIdentifier
	// Content is the encapsulated content; nil when detached.
	Content []byte
	// Certificates are the DER certificates of the certificates field.
	Certificates [][]byte
	// SignerCert is the certificate matching the SignerInfo's issuer and
	// serial number (or the first certificate when none matches; see
	// Warnings); nil when there are no certificates.
	SignerCert []byte
	// DigestAlgorithm and SignatureAlgorithm are the SignerInfo algorithms.
	DigestAlgorithm    asn1.ObjectIdentifier
	SignatureAlgorithm asn1.ObjectIdentifier
	// SignedAttrs is the DER SET OF Attribute that the signature covers
	// (re-tagged from [0] to SET); nil when the SignerInfo has none, in which
	// case the signature covers the content itself.
	SignedAttrs []byte
	// ContentTypeAttr, MessageDigest and SigningTime are the standard
	// signed attributes (zero when absent).
	ContentTypeAttr asn1.ObjectIdentifier
	MessageDigest   []byte
	SigningTime     time.Time
	// SealDER is the seal carried as signed attribute OIDSealAttribute; nil
	// when absent.
	SealDER []byte
	// Value is the signature value.
	Value []byte
	// Warnings lists tolerated deviations.
	Warnings []string
}

// IsSM reports whether the signature uses SM3 and SM2 (either OID flavour),
// the only algorithms Check can verify.
func (c *CMSSignature) IsSM() bool {
	digestOK := c.DigestAlgorithm.Equal(OIDSM3)
	sigOK := c.SignatureAlgorithm.Equal(OIDSM2Sign) || c.SignatureAlgorithm.Equal(OIDSM3WithSM2) ||
		c.SignatureAlgorithm.Equal(asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301})
	return digestOK && sigOK
}

// ParseCMS reads a ContentInfo holding a SignedData with exactly one
// SignerInfo, detached or with attached content. Trailing zero bytes (PDF
// /Contents padding) are ignored; anything else after the element is an
// error.
func ParseCMS(der []byte) (c *CMSSignature, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("%w: CMS: %v", ErrMalformed, r)
		}
	}()
	if len(der) > maxSealSize {
		return nil, ErrTooLarge
	}
	raw, rest, ok := readElement(der)
	if !ok || !allZero(rest) {
		return nil, fmt.Errorf("%w: CMS: not one DER element", ErrMalformed)
	}
	bad := func(what string) error { return fmt.Errorf("%w: CMS: %s", ErrMalformed, what) }
	c = &CMSSignature{}
	s := cryptobyte.String(raw)
	var top, sd, sdSeq, algs, encap, signers, si cryptobyte.String
	ctx0 := cbasn1.Tag(0).Constructed().ContextSpecific()
	if !s.ReadASN1(&top, cbasn1.SEQUENCE) || !top.ReadASN1ObjectIdentifier(&c.ContentType) ||
		!top.ReadASN1(&sd, ctx0) || !sd.ReadASN1(&sdSeq, cbasn1.SEQUENCE) {
		return nil, bad("ContentInfo")
	}
	if !c.ContentType.Equal(OIDSM2SignedData) && !c.ContentType.Equal(OIDPKCS7SignedData) {
		return nil, bad("content type " + c.ContentType.String() + " is not signedData")
	}
	var ver int64
	if !sdSeq.ReadASN1Integer(&ver) || !sdSeq.ReadASN1(&algs, cbasn1.SET) || !sdSeq.ReadASN1(&encap, cbasn1.SEQUENCE) {
		return nil, bad("SignedData")
	}
	if !encap.ReadASN1ObjectIdentifier(&c.EncapType) {
		return nil, bad("encapContentInfo")
	}
	if !encap.Empty() {
		var ec cryptobyte.String
		if !encap.ReadASN1(&ec, ctx0) || !encap.Empty() {
			return nil, bad("encapContentInfo content")
		}
		var oct cryptobyte.String
		if ec.ReadASN1(&oct, cbasn1.OCTET_STRING) && ec.Empty() {
			c.Content = oct
		} else {
			c.Content = ec
			c.Warnings = append(c.Warnings, "content is not an OCTET STRING")
		}
	}
	if sdSeq.PeekASN1Tag(ctx0) {
		var certs cryptobyte.String
		sdSeq.ReadASN1(&certs, ctx0)
		for !certs.Empty() {
			var e cryptobyte.String
			var t cbasn1.Tag
			if !certs.ReadAnyASN1Element(&e, &t) {
				return nil, bad("certificates")
			}
			if t == cbasn1.SEQUENCE {
				c.Certificates = append(c.Certificates, e)
			}
		}
	}
	if sdSeq.PeekASN1Tag(cbasn1.Tag(1).Constructed().ContextSpecific()) {
		sdSeq.SkipASN1(cbasn1.Tag(1).Constructed().ContextSpecific())
	}
	if !sdSeq.ReadASN1(&signers, cbasn1.SET) || !sdSeq.Empty() {
		return nil, bad("signerInfos")
	}
	if !signers.ReadASN1(&si, cbasn1.SEQUENCE) || !signers.Empty() {
		return nil, bad("exactly one SignerInfo expected")
	}
	var sid, dalg cryptobyte.String
	var sidTag cbasn1.Tag
	if !si.ReadASN1Integer(&ver) || !si.ReadAnyASN1(&sid, &sidTag) || !si.ReadASN1(&dalg, cbasn1.SEQUENCE) ||
		!dalg.ReadASN1ObjectIdentifier(&c.DigestAlgorithm) {
		return nil, bad("SignerInfo")
	}
	var issuer, serial []byte
	if sidTag == cbasn1.SEQUENCE {
		var iss cryptobyte.String
		var ser cryptobyte.String
		if sid.ReadASN1Element(&iss, cbasn1.SEQUENCE) && sid.ReadASN1Element(&ser, cbasn1.INTEGER) {
			issuer, serial = iss, ser
		}
	}
	if si.PeekASN1Tag(ctx0) {
		var attrsFull cryptobyte.String
		if !si.ReadASN1Element(&attrsFull, ctx0) {
			return nil, bad("signedAttrs")
		}
		c.SignedAttrs = append([]byte{0x31}, attrsFull[1:]...)
		if err := c.readAttrs(cryptobyte.String(attrsFull[headerLen(attrsFull):])); err != nil {
			return nil, err
		}
	}
	var sigAlg, sig cryptobyte.String
	if !si.ReadASN1(&sigAlg, cbasn1.SEQUENCE) || !sigAlg.ReadASN1ObjectIdentifier(&c.SignatureAlgorithm) {
		return nil, bad("signature algorithm")
	}
	if !si.ReadASN1(&sig, cbasn1.OCTET_STRING) {
		return nil, bad("signature")
	}
	c.Value = sig
	if si.PeekASN1Tag(cbasn1.Tag(1).Constructed().ContextSpecific()) {
		si.SkipASN1(cbasn1.Tag(1).Constructed().ContextSpecific())
	}
	if !si.Empty() {
		return nil, bad("trailing data in SignerInfo")
	}
	c.SignerCert = c.matchSigner(issuer, serial)
	return c, nil
}

func (c *CMSSignature) readAttrs(body cryptobyte.String) error {
	bad := func(what string) error { return fmt.Errorf("%w: CMS: %s", ErrMalformed, what) }
	seen := map[string]bool{}
	for !body.Empty() {
		var a, vals, oidRaw cryptobyte.String
		if !body.ReadASN1(&a, cbasn1.SEQUENCE) || !a.ReadASN1(&oidRaw, cbasn1.OBJECT_IDENTIFIER) || !a.ReadASN1(&vals, cbasn1.SET) {
			return bad("attribute")
		}
		if seen[string(oidRaw)] {
			return bad("duplicate signed attribute")
		}
		seen[string(oidRaw)] = true
		switch {
		case bytes.Equal(oidRaw, oidSealAttrDER):
			c.SealDER = vals
		case bytes.Equal(oidRaw, mustOIDBody(oidAttrMessageDigest)):
			var d cryptobyte.String
			if !vals.ReadASN1(&d, cbasn1.OCTET_STRING) || !vals.Empty() {
				return bad("messageDigest")
			}
			c.MessageDigest = d
		case bytes.Equal(oidRaw, mustOIDBody(oidAttrSigningTime)):
			var t time.Time
			if vals.PeekASN1Tag(cbasn1.UTCTime) {
				if !vals.ReadASN1UTCTime(&t) {
					return bad("signingTime")
				}
			} else if !vals.ReadASN1GeneralizedTime(&t) {
				return bad("signingTime")
			}
			c.SigningTime = t
		case bytes.Equal(oidRaw, mustOIDBody(oidAttrContentType)):
			if !vals.ReadASN1ObjectIdentifier(&c.ContentTypeAttr) {
				return bad("contentType")
			}
		}
	}
	return nil
}

func (c *CMSSignature) matchSigner(issuer, serial []byte) []byte {
	if len(c.Certificates) == 0 {
		return nil
	}
	if issuer != nil {
		for _, der := range c.Certificates {
			if iss, ser, ok := issuerAndSerial(der); ok && bytes.Equal(iss, issuer) && bytes.Equal(ser, serial) {
				return der
			}
		}
	}
	c.Warnings = append(c.Warnings, "no certificate matches the SignerInfo issuer and serial; using the first")
	return c.Certificates[0]
}

// issuerAndSerial returns the issuer Name and serialNumber INTEGER elements
// of a DER certificate without parsing the rest of it.
func issuerAndSerial(der []byte) (issuer, serial []byte, ok bool) {
	s := cryptobyte.String(der)
	var cert, tbs, ser, iss cryptobyte.String
	if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!tbs.ReadASN1Element(&ser, cbasn1.INTEGER) || !tbs.SkipASN1(cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&iss, cbasn1.SEQUENCE) {
		return nil, nil, false
	}
	return iss, ser, true
}

// VerifyCache memoises what seal and signature checks can safely reuse
// between documents: parsed certificates (keyed by their DER bytes), the
// result of a seal maker's signature (keyed by the seal's DER bytes) and
// certificate chains that verified (keyed by certificate DER and root pool,
// reused only for times inside every chain member's validity). Failures are
// never cached. A VerifyCache is safe for concurrent use; each map is
// cleared when it reaches the size given to NewVerifyCache.
type VerifyCache struct {
	mu     sync.Mutex
	max    int
	certs  map[string]*Certificate
	seals  map[string]sealSig
	chains map[chainKey]chainEntry
}

type sealSig struct {
	ok  bool
	q   sigQuality
	err error
}

type chainKey struct {
	cert  string
	roots *CertPool
}

type chainEntry struct {
	chain    []*Certificate
	from, to time.Time
}

// NewVerifyCache returns a cache holding at most max entries per kind
// (max <= 0 means 256).
func NewVerifyCache(max int) *VerifyCache {
	if max <= 0 {
		max = 256
	}
	return &VerifyCache{max: max, certs: map[string]*Certificate{}, seals: map[string]sealSig{}, chains: map[chainKey]chainEntry{}}
}

// Certificate parses der, through the cache when c is not nil.
func (c *VerifyCache) Certificate(der []byte) (*Certificate, error) {
	if c == nil {
		return ParseCertificate(der)
	}
	c.mu.Lock()
	cert, ok := c.certs[string(der)]
	c.mu.Unlock()
	if ok {
		return cert, nil
	}
	cert, err := ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.certs) >= c.max {
		clear(c.certs)
	}
	c.certs[string(der)] = cert
	c.mu.Unlock()
	return cert, nil
}

func (c *VerifyCache) makerSig(s *Seal, maker *Certificate) (bool, sigQuality, error) {
	if c != nil {
		c.mu.Lock()
		r, ok := c.seals[string(s.Raw)]
		c.mu.Unlock()
		if ok {
			return r.ok, r.q, r.err
		}
	}
	ok, q, err := verifySM2(maker.PublicKey(), s.SignedMessage, s.SignedValue)
	if c != nil && ok && err == nil {
		c.mu.Lock()
		if len(c.seals) >= c.max {
			clear(c.seals)
		}
		c.seals[string(s.Raw)] = sealSig{ok: ok, q: q}
		c.mu.Unlock()
	}
	return ok, q, err
}

func (c *VerifyCache) verifyChain(cert *Certificate, opts CheckOptions, at time.Time) ([]*Certificate, error) {
	if c == nil || len(opts.Intermediates) > 0 || opts.Roots == nil {
		return cert.Verify(opts.Roots, opts.Intermediates, at)
	}
	k := chainKey{cert: string(cert.Raw()), roots: opts.Roots}
	c.mu.Lock()
	e, ok := c.chains[k]
	c.mu.Unlock()
	if ok && !at.Before(e.from) && !at.After(e.to) {
		return e.chain, nil
	}
	chain, err := cert.Verify(opts.Roots, opts.Intermediates, at)
	if err != nil {
		return nil, err
	}
	e = chainEntry{chain: chain, from: chain[0].NotBefore(), to: chain[0].NotAfter()}
	for _, x := range chain[1:] {
		if x.NotBefore().After(e.from) {
			e.from = x.NotBefore()
		}
		if x.NotAfter().Before(e.to) {
			e.to = x.NotAfter()
		}
	}
	c.mu.Lock()
	if len(c.chains) >= c.max {
		clear(c.chains)
	}
	c.chains[k] = e
	c.mu.Unlock()
	return chain, nil
}

// Check runs G1–G7 on a SignedData whose algorithms are SM3 and SM2
// (see IsSM): G1 format, G2 SM2 signature over the signed attributes (or
// over content when there are none), G3 signer certificate listed in the
// seal attribute, G4 signer certificate chain at T, G5 seal S1–S4, G6 time
// stamp (skipped), G7 messageDigest equals docDigest. content is the signed
// data, needed only when the SignerInfo has no signed attributes; seal is
// the parsed SealDER (nil when absent: G3 and G5 are skipped). T is
// opts.At, or the self-asserted signingTime when zero. opts.Cache is used
// when set.
func (c *CMSSignature) Check(opts CheckOptions, docDigest, content []byte, seal *Seal) []Check {
	out := make([]Check, 0, 7)
	switch {
	case !c.IsSM():
		out = append(out, fail("G1", "algorithms "+c.DigestAlgorithm.String()+" / "+c.SignatureAlgorithm.String()+" are not SM3 / SM2"))
	case c.SignerCert == nil:
		out = append(out, fail("G1", "no signer certificate"))
	case c.SignedAttrs != nil && (c.MessageDigest == nil || c.ContentTypeAttr == nil):
		out = append(out, fail("G1", "signed attributes lack messageDigest or contentType"))
	case c.SignedAttrs != nil && !c.ContentTypeAttr.Equal(c.EncapType):
		out = append(out, fail("G1", "contentType attribute "+c.ContentTypeAttr.String()+" differs from "+c.EncapType.String()))
	case len(c.Warnings) > 0:
		out = append(out, warn("G1", "SignedData, tolerated: "+strings.Join(c.Warnings, "; ")))
	default:
		out = append(out, pass("G1", "SignedData "+c.ContentType.String()+", SM3/SM2"))
	}
	if out[0].Status == StatusFail {
		return out
	}
	cert, err := opts.Cache.Certificate(c.SignerCert)
	if err != nil {
		return append(out, fail("G2", "signer certificate: "+err.Error()))
	}
	msg := c.SignedAttrs
	what := "signature over signed attributes"
	if msg == nil {
		msg, what = content, "signature over content"
		if c.Content != nil {
			msg = c.Content
		}
	}
	if msg == nil {
		out = append(out, fail("G2", "no signed attributes and no content to verify"))
	} else {
		ok, q, err := verifySM2(cert.PublicKey(), msg, c.Value)
		out = append(out, sigCheck("G2", what, ok, q, err))
	}
	if seal == nil {
		out = append(out, Check{ID: "G3", Status: StatusSkip, Detail: "no seal attribute (plain signature)"})
	} else {
		out = append(out, bindingCheck(seal, c.SignerCert))
	}
	at, note := opts.At, ""
	if at.IsZero() {
		at, note = c.SigningTime, " (T = self-asserted signingTime)"
	}
	out = append(out, certCheck("G4", "signer", cert, opts, at, note))
	if seal == nil {
		out = append(out, Check{ID: "G5", Status: StatusSkip, Detail: "no seal"})
	} else {
		out = append(out, sealSummary(seal, opts, at))
	}
	out = append(out, Check{ID: "G6", Status: StatusSkip, Detail: "no time stamp; signing time is self-asserted"})
	switch {
	case c.SignedAttrs == nil && c.Content != nil && content != nil:
		if bytes.Equal(c.Content, content) {
			out = append(out, pass("G7", "attached content equals the document"))
		} else {
			out = append(out, fail("G7", "attached content differs from the document"))
		}
	case c.SignedAttrs == nil:
		out = append(out, pass("G7", "signature covers the content directly"))
	case docDigest == nil:
		out = append(out, Check{ID: "G7", Status: StatusSkip, Detail: "document not supplied"})
	case subtle.ConstantTimeCompare(docDigest, c.MessageDigest) == 1:
		out = append(out, pass("G7", "messageDigest equals SM3 of the document"))
	default:
		out = append(out, fail("G7", "messageDigest differs from SM3 of the document"))
	}
	return out
}
