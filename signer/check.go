package signer

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// CheckStatus is the outcome of one check.
type CheckStatus string

// Check outcomes.
const (
	StatusPass CheckStatus = "pass"
	StatusFail CheckStatus = "fail"
	// StatusWarn: the property holds but with a caveat (lenient encoding,
	// self-asserted time, unverifiable time stamp).
	StatusWarn CheckStatus = "warn"
	// StatusSkip: the check could not run (missing input).
	StatusSkip CheckStatus = "skip"
)

// Check is the result of one named check: S1–S4 for seals, G1–G7 for seal
// signatures (see docs/formats.md).
type Check struct {
	ID     string      `json:"id"`
	Status CheckStatus `json:"status"`
	Detail string      `json:"detail"`
}

// CheckOptions are the inputs of seal and signature checks.
type CheckOptions struct {
	// Roots are the trusted root certificates for both seal maker and
	// signer certificates. Empty: S3/G4 fail.
	Roots *CertPool
	// Intermediates may help chain building.
	Intermediates []*Certificate
	// At is the time T at which validity is judged. Zero: for signatures
	// the signature's timeInfo, for seals the seal's createDate (reported
	// in the detail).
	At time.Time
	// Cache, when set, memoises certificate parsing, seal maker signatures
	// and verified chains across checks (see VerifyCache); nil checks
	// everything afresh. The results are the same either way.
	Cache *VerifyCache
}

// Passed reports whether no check failed (warnings and skips allowed).
func Passed(cs []Check) bool {
	for _, c := range cs {
		if c.Status == StatusFail {
			return false
		}
	}
	return true
}

// Find returns the check with the given id and whether it exists.
func Find(cs []Check, id string) (Check, bool) {
	for _, c := range cs {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

func pass(id, d string) Check { return Check{ID: id, Status: StatusPass, Detail: d} }
func fail(id, d string) Check { return Check{ID: id, Status: StatusFail, Detail: d} }
func warn(id, d string) Check { return Check{ID: id, Status: StatusWarn, Detail: d} }

// Check runs S1 (format), S2 (maker signature), S3 (maker certificate)
// and S4 (seal period) at opts.At, through opts.Cache when it is set. An S3
// failure caused by a validity period has a detail starting with
// CertificateInvalidAt.
func (s *Seal) Check(opts CheckOptions) []Check {
	at, atNote := opts.At, ""
	if at.IsZero() {
		at, atNote = s.CreateDate, " (T = seal createDate)"
	}
	out := make([]Check, 0, 4)
	// S1
	var probs []string
	if s.HeaderID != "ES" {
		probs = append(probs, fmt.Sprintf("header id %q", s.HeaderID))
	}
	if !s.SignAlg.Equal(OIDSM3WithSM2) {
		probs = append(probs, "signAlgID "+s.SignAlg.String())
	}
	if len(s.Picture.Data) == 0 {
		probs = append(probs, "no picture")
	}
	if len(s.Certs) == 0 && len(s.CertDigests) == 0 {
		probs = append(probs, "empty certList")
	}
	switch {
	case len(probs) > 0:
		out = append(out, fail("S1", strings.Join(probs, "; ")))
	case len(s.Warnings) > 0:
		out = append(out, warn("S1", fmt.Sprintf("V%d seal, tolerated: %s", s.Version, strings.Join(s.Warnings, "; "))))
	default:
		out = append(out, pass("S1", fmt.Sprintf("V%d seal, vid %q, esID %q", s.Version, s.VID, s.ESID)))
	}
	// S2, S3
	maker, err := opts.Cache.Certificate(s.MakerCert)
	if err != nil {
		out = append(out, fail("S2", "maker certificate: "+err.Error()))
		out = append(out, fail("S3", "maker certificate unreadable"))
	} else {
		ok, q, err := opts.Cache.makerSig(s, maker)
		out = append(out, sigCheck("S2", "maker signature", ok, q, err))
		out = append(out, certCheck("S3", "maker", maker, opts, at, atNote))
	}
	// S4
	switch {
	case at.Before(s.ValidStart):
		out = append(out, fail("S4", fmt.Sprintf("seal not valid before %s; T = %s%s", fmtT(s.ValidStart), fmtT(at), atNote)))
	case at.After(s.ValidEnd):
		out = append(out, fail("S4", fmt.Sprintf("seal expired %s; T = %s%s", fmtT(s.ValidEnd), fmtT(at), atNote)))
	default:
		out = append(out, pass("S4", fmt.Sprintf("valid %s – %s at %s%s", fmtT(s.ValidStart), fmtT(s.ValidEnd), fmtT(at), atNote)))
	}
	return out
}

func fmtT(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func sigCheck(id, what string, ok bool, q sigQuality, err error) Check {
	switch {
	case err != nil:
		return fail(id, what+": "+err.Error())
	case !ok:
		return fail(id, what+" does not verify")
	case q == sigRaw:
		return warn(id, what+" verifies (raw r||s encoding, not DER)")
	case q == sigLenient:
		return warn(id, what+" verifies (non-minimal DER INTEGER)")
	}
	return pass(id, what+" verifies (SM3withSM2, default user ID)")
}

// CertificateInvalidAt is the prefix of an S3/G4 detail reporting a
// certificate outside its validity period (as opposed to an untrusted or
// unusable one), for callers that classify failures.
const CertificateInvalidAt = "outside validity:"

// certCheck judges a maker (S3) or signer (G4) certificate at T: key usage,
// then trust, then validity, so that a certificate from an untrusted root is
// reported as untrusted whatever its validity period.
func certCheck(id, role string, c *Certificate, opts CheckOptions, at time.Time, atNote string) Check {
	if ku := c.KeyUsage(); ku != 0 && ku&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return fail(id, fmt.Sprintf("%s certificate key usage does not allow signing", role))
	}
	if at.Before(c.NotBefore()) || at.After(c.NotAfter()) {
		if _, err := opts.Cache.verifyChain(c, opts, c.NotBefore()); err != nil {
			return fail(id, fmt.Sprintf("%s certificate %q untrusted: %v", role, c.Subject(), err))
		}
		return fail(id, fmt.Sprintf("%s %s certificate %q not valid at %s%s (valid %s – %s)", CertificateInvalidAt, role, c.CommonName(), fmtT(at), atNote, fmtT(c.NotBefore()), fmtT(c.NotAfter())))
	}
	chain, err := opts.Cache.verifyChain(c, opts, at)
	if err != nil {
		return fail(id, fmt.Sprintf("%s certificate %q untrusted: %v", role, c.Subject(), err))
	}
	return pass(id, fmt.Sprintf("%s certificate %q chains to %q at %s%s; revocation not checked", role, c.CommonName(), chain[len(chain)-1].CommonName(), fmtT(at), atNote))
}

// sealSummary runs the seal's S1–S4 at T as one check G5.
func sealSummary(s *Seal, opts CheckOptions, at time.Time) Check {
	opts.At = at
	var parts []string
	st := StatusPass
	for _, c := range s.Check(opts) {
		parts = append(parts, c.ID+" "+string(c.Status))
		if c.Status == StatusFail {
			st = StatusFail
		} else if c.Status == StatusWarn && st == StatusPass {
			st = StatusWarn
		}
	}
	return Check{ID: "G5", Status: st, Detail: "seal: " + strings.Join(parts, ", ")}
}

// Check runs G1–G7 on a seal signature, through opts.Cache when it is set.
// docDigest is the SM3 digest of the protected bytes (for PDF: the two
// /ByteRange spans); nil skips G7. T is opts.At, or the signature's
// self-asserted timeInfo when zero. A G4 failure caused by a validity period
// has a detail starting with CertificateInvalidAt.
func (g *Signature) Check(opts CheckOptions, docDigest []byte) []Check {
	at, atNote := opts.At, ""
	if at.IsZero() {
		at, atNote = g.TimeInfo, " (T = self-asserted timeInfo)"
	}
	out := make([]Check, 0, 7)
	// G1
	switch {
	case g.TBSVersion != g.Seal.HeaderVersion && !(g.Version == 1 && g.Seal.Version == 1):
		out = append(out, fail("G1", fmt.Sprintf("toSign.version %d differs from seal header version %d", g.TBSVersion, g.Seal.HeaderVersion)))
	case !g.SignAlg.Equal(OIDSM3WithSM2):
		out = append(out, fail("G1", "signature algorithm "+g.SignAlg.String()))
	case len(g.DataHash) != 32:
		out = append(out, fail("G1", fmt.Sprintf("dataHash is %d bytes, want 32", len(g.DataHash))))
	case g.Version != 4:
		out = append(out, warn("G1", fmt.Sprintf("V%d signature (legacy GM/T 0031-2014)", g.Version)))
	case len(g.Warnings) > 0:
		out = append(out, warn("G1", "V4, tolerated: "+strings.Join(g.Warnings, "; ")))
	default:
		out = append(out, pass("G1", "V4 SES_Signature"))
	}
	// G2
	signer, err := opts.Cache.Certificate(g.SignerCert)
	if err != nil {
		out = append(out, fail("G2", "signer certificate: "+err.Error()))
	} else {
		ok, q, err := verifySM2(signer.PublicKey(), g.RawToSign, g.Value)
		out = append(out, sigCheck("G2", "signature over toSign", ok, q, err))
	}
	// G3
	out = append(out, bindingCheck(g.Seal, g.SignerCert))
	// G4
	if signer == nil {
		out = append(out, fail("G4", "signer certificate unreadable"))
	} else {
		c := certCheck("G4", "signer", signer, opts, at, atNote)
		if c.Status == StatusPass && !g.TimeInfo.IsZero() && (g.TimeInfo.Before(signer.NotBefore()) || g.TimeInfo.After(signer.NotAfter())) {
			c = fail("G4", CertificateInvalidAt+" timeInfo "+fmtT(g.TimeInfo)+" outside the signer certificate validity")
		}
		out = append(out, c)
	}
	// G5
	out = append(out, sealSummary(g.Seal, opts, at))
	// G6
	if len(g.TimeStamp) == 0 {
		out = append(out, Check{ID: "G6", Status: StatusSkip, Detail: "no time stamp; signing time is self-asserted"})
	} else {
		out = append(out, warn("G6", "time stamp present but not verified by this package"))
	}
	// G7
	switch {
	case docDigest == nil:
		out = append(out, Check{ID: "G7", Status: StatusSkip, Detail: "document not supplied"})
	case subtle.ConstantTimeCompare(docDigest, g.DataHash) == 1:
		out = append(out, pass("G7", "SM3 of the document equals dataHash"))
	default:
		out = append(out, fail("G7", "document digest differs from dataHash"))
	}
	return out
}

func bindingCheck(s *Seal, cert []byte) Check {
	switch s.CertListType {
	case CertListCerts:
		for _, c := range s.Certs {
			if bytes.Equal(c, cert) {
				return pass("G3", "signer certificate listed in the seal")
			}
		}
	case CertListDigests:
		sm := sm3.Sum(cert)
		s1 := sha1.Sum(cert)
		s2 := sha256.Sum256(cert)
		for _, d := range s.CertDigests {
			if bytes.Equal(d.Value, sm[:]) || bytes.Equal(d.Value, s1[:]) || bytes.Equal(d.Value, s2[:]) {
				return pass("G3", "signer certificate digest listed in the seal")
			}
		}
	}
	return fail("G3", "signer certificate not in the seal's certList")
}

// DocumentDigest returns SM3 over the concatenation of parts (for PDF, the
// two /ByteRange spans), the value G7 compares with dataHash.
func DocumentDigest(parts ...[]byte) []byte {
	h := sm3.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// PictureInfo describes the seal picture in SealInfo.
type PictureInfo struct {
	Type   string `json:"type"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// SealInfo is the JSON view of a seal (`seal inspect --json`).
type SealInfo struct {
	Version    int         `json:"version"`
	Name       string      `json:"name"`
	ESID       string      `json:"esID"`
	VID        string      `json:"vid"`
	ValidStart time.Time   `json:"validStart"`
	ValidEnd   time.Time   `json:"validEnd"`
	Picture    PictureInfo `json:"picture"`
	Checks     []Check     `json:"checks"`
}

// Info returns the seal's SealInfo with the S1–S4 results at opts.
func (s *Seal) Info(opts CheckOptions) SealInfo {
	return SealInfo{
		Version:    s.Version,
		Name:       s.Name,
		ESID:       s.ESID,
		VID:        s.VID,
		ValidStart: s.ValidStart,
		ValidEnd:   s.ValidEnd,
		Picture:    PictureInfo{Type: s.Picture.Type, Width: s.Picture.Width, Height: s.Picture.Height},
		Checks:     s.Check(opts),
	}
}
