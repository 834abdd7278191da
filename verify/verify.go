package verify

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"elicense/catalog"
	"elicense/signer"
)

// Options are the inputs of Verify.
type Options struct {
	// Now is the current time: it decides whether the license is in force
	// (STATUS) and bounds self-asserted signing times. Required: with the
	// zero time STATUS fails with ReasonNoClock.
	Now time.Time
	// TrustedRoots are the pinned root certificates of seal makers and
	// signers. Nil or empty: nothing is trusted (S3 and G4 fail).
	TrustedRoots *signer.CertPool
	// Registry, when not nil, binds the file to an issued license (REG) and
	// supplies its status (STATUS). Nil: Valid is always false.
	Registry catalog.Store
	// Limits bound the work spent on one file; the zero value means
	// DefaultLimits.
	Limits Limits
}

// Limits bound the work spent on hostile input (check C1 / O1). Zero fields
// take the value of DefaultLimits.
type Limits struct {
	// MaxFileSize is the largest accepted file in bytes.
	MaxFileSize int
	// MaxObjects bounds the PDF cross-reference /Size.
	MaxObjects int
	// MaxRevisions bounds the number of PDF revisions.
	MaxRevisions int
	// MaxDecoded bounds one decompressed PDF stream, or one decompressed
	// OFD entry, in bytes.
	MaxDecoded int
	// MaxRatio bounds decompressed size as a multiple of the file size
	// (PDF: per stream; OFD: per entry and for the whole package).
	MaxRatio int
	// MaxEntries bounds the number of entries of an OFD package.
	MaxEntries int
	// MaxTime is the time budget of one call; when it runs out the result
	// fails C1 with ReasonTimeout.
	MaxTime time.Duration
}

// DefaultLimits are used for zero fields of Options.Limits.
var DefaultLimits = Limits{
	MaxFileSize:  32 << 20,
	MaxObjects:   100_000,
	MaxRevisions: 16,
	MaxDecoded:   16 << 20,
	MaxRatio:     100,
	MaxEntries:   4096,
	MaxTime:      5 * time.Second,
}

func (l Limits) norm() Limits {
	d := DefaultLimits
	if l.MaxFileSize > 0 {
		d.MaxFileSize = l.MaxFileSize
	}
	if l.MaxObjects > 0 {
		d.MaxObjects = l.MaxObjects
	}
	if l.MaxRevisions > 0 {
		d.MaxRevisions = l.MaxRevisions
	}
	if l.MaxDecoded > 0 {
		d.MaxDecoded = l.MaxDecoded
	}
	if l.MaxRatio > 0 {
		d.MaxRatio = l.MaxRatio
	}
	if l.MaxEntries > 0 {
		d.MaxEntries = l.MaxEntries
	}
	if l.MaxTime > 0 {
		d.MaxTime = l.MaxTime
	}
	return d
}

// Check is the outcome of one named check: {ID, Status, Detail}. IDs are
// C1–C14 (PDF structure and policy), O1–O4 (OFD package), G1–G7 and S1–S4
// (seal signature and seal, from package signer), REG and STATUS
// (registry). See docs/formats.md.
type Check = signer.Check

// Status is the outcome of a check: pass, fail, warn or skip.
type Status = signer.CheckStatus

// Check statuses.
const (
	// StatusPass: the property holds.
	StatusPass = signer.StatusPass
	// StatusFail: the property does not hold.
	StatusFail = signer.StatusFail
	// StatusWarn: it holds with a caveat (lenient encoding, self-asserted
	// time, approval instead of certification signature).
	StatusWarn = signer.StatusWarn
	// StatusSkip: not run (an earlier check failed) or not applicable.
	StatusSkip = signer.StatusSkip
)

// Format names the container that was verified.
type Format string

// Formats.
const (
	// FormatUnknown: the input is neither PDF nor OFD.
	FormatUnknown Format = "unknown"
	// FormatPDFSES: PDF whose /Contents is a GB/T 38540 SES_Signature (B).
	FormatPDFSES Format = "pdf-ses"
	// FormatPDFPKCS7GBT: PDF whose /Contents is GB/T 35275 SignedData (A1).
	FormatPDFPKCS7GBT Format = "pdf-pkcs7-gbt"
	// FormatPDFPKCS7RFC: PDF whose /Contents is RFC 5652 SignedData (A2).
	FormatPDFPKCS7RFC Format = "pdf-pkcs7-rfc"
	// FormatPDF: a PDF whose signature container could not be told apart.
	FormatPDF Format = "pdf"
	// FormatOFD: a GB/T 33190 OFD package.
	FormatOFD Format = "ofd"
)

// Result is the verdict on one file. It is a value, not an error: every
// failure is reported through Reason and Checks.
type Result struct {
	// Authentic: a genuine seal of a trusted seal maker, applied by a
	// trusted signer listed in the seal, over a document not modified since
	// (for OFD: every signature). Registry binding (REG) is part of it.
	Authentic bool `json:"authentic"`
	// Valid: Authentic and the license is in force at Options.Now (known to
	// the registry; not revoked, suspended, superseded or expired).
	Valid bool `json:"valid"`
	// Reason is the reason of the first failing check, ReasonOK when valid.
	Reason Reason `json:"reason"`
	// Format is the container that was verified.
	Format Format `json:"format"`
	// Checks in policy order: the first failing one gives Reason.
	Checks []Check `json:"checks"`
	// License is the registry's record, when the registry knows the file.
	License *LicenseInfo `json:"license,omitempty"`
	// Seal, Signer and SignTime describe the (first) signature.
	Seal     *SealInfo   `json:"seal,omitempty"`
	Signer   *SignerInfo `json:"signer,omitempty"`
	SignTime time.Time   `json:"signTime,omitzero"`
	// Signatures lists every signature of an OFD package.
	Signatures []SignatureResult `json:"signatures,omitempty"`
}

// SignatureResult is the verdict on one signature of a file with several
// (OFD).
type SignatureResult struct {
	// ID is the signature's ID in Signatures.xml; Path its Signature.xml.
	ID   string `json:"id"`
	Path string `json:"path"`
	// Type is Seal (SES_Signature) or Sign (SignedData).
	Type string `json:"type"`
	// Authentic: every check of this signature passed; Reason is the
	// first failing check's reason otherwise.
	Authentic bool   `json:"authentic"`
	Reason    Reason `json:"reason"`
	// Checks are O3, G1–G7 and S1–S4 of this signature.
	Checks []Check `json:"checks"`
	// Seal, Signer and SignTime describe this signature.
	Seal     *SealInfo   `json:"seal,omitempty"`
	Signer   *SignerInfo `json:"signer,omitempty"`
	SignTime time.Time   `json:"signTime,omitzero"`
}

// SealInfo describes the seal (印章) carried by a signature.
type SealInfo struct {
	// Name is the seal name, e.g. "电子证照专用章".
	Name string `json:"name"`
	// ESID is the seal code; Version the SES version (1 or 4).
	ESID    string `json:"esID"`
	Version int    `json:"version"`
	// ValidStart and ValidEnd bound the seal's validity.
	ValidStart time.Time `json:"validStart"`
	ValidEnd   time.Time `json:"validEnd"`
	// Maker is the seal maker certificate's subject.
	Maker string `json:"maker,omitempty"`
}

// SignerInfo describes the signer (签章者) certificate.
type SignerInfo struct {
	// Subject and Issuer are distinguished names in RFC 2253 form.
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	// Serial is the certificate serial number in lower-case hex.
	Serial string `json:"serial"`
	// NotBefore and NotAfter bound the certificate's validity.
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
}

// LicenseInfo is the registry's view of the license the file carries.
type LicenseInfo struct {
	// Identifier is the GB/T 36904 identifier, Number the license number.
	Identifier string `json:"identifier"`
	Number     string `json:"number"`
	// Type is the license type key, TypeName its name.
	Type     string `json:"type"`
	TypeName string `json:"typeName,omitempty"`
	// Status is the effective status at Options.Now (expiry included).
	Status catalog.Status `json:"status"`
}

// verifyCache memoises certificate parsing, seal maker signatures and chains
// across calls (see signer.VerifyCache).
var verifyCache = signer.NewVerifyCache(512)

// run accumulates checks with the reason each failure would give.
type run struct {
	ctx     context.Context
	opts    Options
	lim     Limits
	checks  []Check
	reasons []Reason
}

func (r *run) add(id string, st Status, why Reason, detail string) {
	r.checks = append(r.checks, Check{ID: id, Status: st, Detail: detail})
	r.reasons = append(r.reasons, why)
}

func (r *run) pass(id, detail string)               { r.add(id, StatusPass, ReasonOK, detail) }
func (r *run) fail(id string, why Reason, d string) { r.add(id, StatusFail, why, d) }
func (r *run) skip(id, detail string)               { r.add(id, StatusSkip, ReasonOK, detail) }

// failed reports the first failing check's reason.
func (r *run) failed() (Reason, bool) {
	for i, c := range r.checks {
		if c.Status == StatusFail {
			return r.reasons[i], true
		}
	}
	return ReasonOK, false
}

// abort is panicked with to stop a run when the time budget is spent.
type abort struct{}

// tick stops the run when the context is done.
func (r *run) tick() {
	if r.ctx.Err() != nil {
		panic(abort{})
	}
}

// Verify checks file (a sealed PDF or an OFD package) and returns the
// verdict. It never panics and never returns an error: malformed,
// unsupported or oversized input, a spent time budget (Limits.MaxTime or
// ctx) or an internal fault yields Authentic false with a reason (fail
// closed, check C14). file is read only and must not change during the
// call. Verify is safe for concurrent use.
func Verify(ctx context.Context, file []byte, opts Options) (res Result) {
	lim := opts.Limits.norm()
	ctx, cancel := context.WithTimeout(ctx, lim.MaxTime)
	defer cancel()
	r := &run{ctx: ctx, opts: opts, lim: lim}
	defer func() {
		if p := recover(); p != nil {
			res = Result{Format: res.Format}
			if res.Format == "" {
				res.Format = FormatUnknown
			}
			if _, ok := p.(abort); ok {
				res.Reason = ReasonTimeout
				res.Checks = []Check{{ID: "C1", Status: StatusFail, Detail: "time budget of " + lim.MaxTime.String() + " spent or request cancelled"}}
			} else {
				res.Reason = ReasonInternal
				res.Checks = []Check{{ID: "C14", Status: StatusFail, Detail: fmt.Sprintf("internal fault, failing closed: %v", firstLine(p))}}
			}
		}
	}()
	switch {
	case len(file) > lim.MaxFileSize:
		res.Format = sniff(file)
		r.fail(c1ID(res.Format), ReasonLimit, fmt.Sprintf("file of %d bytes exceeds the limit of %d", len(file), lim.MaxFileSize))
	case bytes.HasPrefix(file, []byte("%PDF-")):
		res.Format = FormatPDF
		verifyPDF(r, file, &res)
	case bytes.HasPrefix(file, []byte("PK\x03\x04")):
		res.Format = FormatOFD
		verifyOFD(r, file, &res)
	default:
		res.Format = FormatUnknown
		r.fail("C1", ReasonUnsupported, "neither a PDF (%PDF-) nor an OFD package (ZIP)")
	}
	res.Checks = r.checks
	res.Reason, _ = r.failed()
	return res
}

func c1ID(f Format) string {
	if f == FormatOFD {
		return "O1"
	}
	return "C1"
}

func sniff(file []byte) Format {
	switch {
	case bytes.HasPrefix(file, []byte("%PDF-")):
		return FormatPDF
	case bytes.HasPrefix(file, []byte("PK\x03\x04")):
		return FormatOFD
	}
	return FormatUnknown
}

func firstLine(p any) string {
	s := fmt.Sprint(p)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// finish binds an otherwise authentic file to the registry (REG, STATUS)
// and sets the verdict: Authentic when no check but STATUS failed, Valid
// when none failed.
func (r *run) finish(res *Result, identifier string, fileDigest func() string) {
	if _, bad := r.failed(); bad {
		r.skip("REG", "not run: the file is not authentic")
		r.skip("STATUS", "not run: the file is not authentic")
		return
	}
	r.registry(res, identifier, fileDigest)
	res.Authentic, res.Valid = true, true
	for _, c := range r.checks {
		if c.Status == StatusFail {
			res.Valid = false
			if c.ID != "STATUS" {
				res.Authentic = false
			}
		}
	}
}

// registry runs REG (binding) and STATUS (in force now).
func (r *run) registry(res *Result, identifier string, fileDigest func() string) {
	reg := r.opts.Registry
	if reg == nil {
		r.skip("REG", "no registry configured")
		r.fail("STATUS", ReasonNoRegistry, "no registry to tell whether the license is in force")
		return
	}
	digest := fileDigest()
	var lic *catalog.License
	var how string
	if identifier != "" {
		l, err := reg.Get(r.ctx, identifier)
		switch {
		case err == nil:
			lic, how = l, "identifier "+identifier
		case errors.Is(err, catalog.ErrNotFound):
		default:
			r.skip("REG", "registry lookup failed: "+err.Error())
			r.fail("STATUS", ReasonRegistryError, "registry unavailable")
			return
		}
	}
	if lic == nil {
		l, err := reg.GetByDigest(r.ctx, digest)
		switch {
		case err == nil:
			lic, how = l, "file digest"
		case errors.Is(err, catalog.ErrNotFound):
		default:
			r.skip("REG", "registry lookup failed: "+err.Error())
			r.fail("STATUS", ReasonRegistryError, "registry unavailable")
			return
		}
	}
	r.tick()
	if lic == nil {
		what := "file digest " + digest
		if identifier != "" {
			what = "identifier " + identifier + " and " + what
		}
		r.skip("REG", what+" not in the registry")
		r.fail("STATUS", ReasonNotRegistered, "the registry does not know this license")
		return
	}
	res.License = &LicenseInfo{Identifier: lic.ID, Number: lic.Number, Type: lic.TypeKey, TypeName: lic.TypeName}
	switch {
	case identifier != "" && lic.ID != identifier:
		r.fail("REG", ReasonRegistryMismatch, fmt.Sprintf("file digest belongs to %s but the file names %s", lic.ID, identifier))
	case lic.Digest == "":
		r.add("REG", StatusWarn, ReasonOK, "found by "+how+"; the registry holds no digest of the sealed file")
	case !strings.EqualFold(lic.Digest, digest):
		r.fail("REG", ReasonRegistryMismatch, fmt.Sprintf("sealed file differs from the registry's record for %s (SM3 %s, registered %s)", lic.ID, digest, lic.Digest))
	default:
		r.pass("REG", "found by "+how+"; SM3 of the file equals the registered digest")
	}
	if r.checks[len(r.checks)-1].Status == StatusFail {
		r.skip("STATUS", "not run: the file does not match the registry")
		return
	}
	if r.opts.Now.IsZero() {
		res.License.Status = lic.Status
		r.fail("STATUS", ReasonNoClock, "no current time given; cannot tell whether the license is in force")
		return
	}
	st := lic.StatusAt(r.opts.Now)
	res.License.Status = st
	switch st {
	case catalog.StatusIssued:
		r.pass("STATUS", fmt.Sprintf("in force at %s (valid %s – %s)", r.opts.Now.Format(time.RFC3339), lic.ValidFrom, lic.ValidUntil))
	case catalog.StatusRevoked:
		r.fail("STATUS", ReasonRevoked, "license revoked")
	case catalog.StatusSuspended:
		r.fail("STATUS", ReasonSuspended, "license suspended")
	case catalog.StatusSuperseded:
		d := "license superseded"
		if lic.SupersededBy != "" {
			d += " by " + lic.SupersededBy
		}
		r.fail("STATUS", ReasonSuperseded, d)
	case catalog.StatusExpired:
		r.fail("STATUS", ReasonExpired, "license expired after "+lic.ValidUntil)
	default:
		r.fail("STATUS", ReasonNotRegistered, "unknown license status "+string(st))
	}
}

// sealInfo and signerInfo fill the descriptive parts of a result.
func sealInfo(s *signer.Seal) *SealInfo {
	if s == nil {
		return nil
	}
	si := &SealInfo{Name: s.Name, ESID: s.ESID, Version: s.Version, ValidStart: s.ValidStart, ValidEnd: s.ValidEnd}
	if c, err := verifyCache.Certificate(s.MakerCert); err == nil {
		si.Maker = c.Subject()
	}
	return si
}

func signerInfo(der []byte) *SignerInfo {
	c, err := verifyCache.Certificate(der)
	if err != nil {
		return nil
	}
	return &SignerInfo{Subject: c.Subject(), Issuer: c.Issuer(), Serial: hex.EncodeToString(c.SerialNumber().Bytes()), NotBefore: c.NotBefore(), NotAfter: c.NotAfter()}
}

// sigChecks holds the signer-level checks of one signature.
type sigChecks struct {
	checks []Check
}

func (s sigChecks) get(id string) (Check, bool) { return signer.Find(s.checks, id) }

// certReason classifies an S3/G4 failure.
func certReason(c Check) Reason {
	if strings.HasPrefix(c.Detail, signer.CertificateInvalidAt) {
		return ReasonCertificateExpired
	}
	return ReasonUntrusted
}

// trust summarises the trust checks (S1–S4, G3, G4) as one check and the
// reason of its first failure, in the order: seal format and maker
// signature, binding, maker and signer certificates, seal period.
func (s sigChecks) trust() (Status, Reason, string) {
	order := []struct {
		id  string
		why Reason
	}{{"S1", ReasonSeal}, {"S2", ReasonSeal}, {"G3", ReasonSealBinding}, {"S3", ReasonUntrusted}, {"G4", ReasonUntrusted}, {"S4", ReasonSealExpired}}
	st := StatusPass
	var parts []string
	for _, o := range order {
		c, ok := s.get(o.id)
		if !ok {
			continue
		}
		if c.Status == StatusFail {
			why := o.why
			if o.id == "S3" || o.id == "G4" {
				why = certReason(c)
			}
			return StatusFail, why, o.id + ": " + c.Detail
		}
		if c.Status == StatusWarn {
			st = StatusWarn
		}
		parts = append(parts, o.id+" "+string(c.Status))
	}
	return st, ReasonOK, "seal maker and signer chain to a trusted root; seal in its period (" + strings.Join(parts, ", ") + ")"
}
