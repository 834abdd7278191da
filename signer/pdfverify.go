package signer

import (
	"fmt"

	"elicense/signer/rawpdf"
)

// PDFSignature is the certifying seal signature found in a PDF and its
// checks. It covers the signature referenced by /Perms /DocMDP; the PDF
// structure policy (pdf-verification C1–C14) belongs to the verify package.
type PDFSignature struct {
	// SubFilter as written (not trusted for dispatch).
	SubFilter string
	// Format is detected from the /Contents data.
	Format Format
	// ByteRange is the signed /ByteRange.
	ByteRange [4]int
	// Contents is the /Contents value (zero padding included).
	Contents []byte
	// Seal is the seal carried by the signature.
	Seal *Seal
	// SES is set for FormatSES.
	SES *Signature
	// Checks are G1–G7 (for FormatPKCS7: G2 = SM2 over the signed
	// attributes, G7 = messageDigest against the ByteRange digest).
	Checks []Check
}

// VerifyPDF finds the DocMDP signature of pdf, recomputes SM3 over its
// /ByteRange and runs G1–G7. Structural problems are errors; failed checks
// are results.
func VerifyPDF(pdf []byte, opts CheckOptions) (*PDFSignature, error) {
	f, err := rawpdf.Parse(pdf, nil)
	if err != nil {
		return nil, pdfErr(err)
	}
	_, cat, err := f.Catalog()
	if err != nil {
		return nil, pdfErr(err)
	}
	perms, _ := f.Resolve(cat["Perms"])
	pd, _ := perms.(rawpdf.Dict)
	sigObj, err := f.Resolve(pd["DocMDP"])
	if err != nil {
		return nil, pdfErr(err)
	}
	sd, ok := sigObj.(rawpdf.Dict)
	if !ok {
		return nil, fmt.Errorf("%w: no /Perms /DocMDP signature", ErrMalformed)
	}
	ps := &PDFSignature{}
	sf, _ := sd.Name("SubFilter")
	ps.SubFilter = string(sf)
	br, ok := sd["ByteRange"].(rawpdf.Array)
	if !ok || len(br) != 4 {
		return nil, fmt.Errorf("%w: /ByteRange", ErrMalformed)
	}
	for i := range ps.ByteRange {
		v, ok := br[i].(rawpdf.Int)
		if !ok || v < 0 {
			return nil, fmt.Errorf("%w: /ByteRange", ErrMalformed)
		}
		ps.ByteRange[i] = int(v)
	}
	a, b, c := ps.ByteRange[1], ps.ByteRange[2], ps.ByteRange[3]
	if ps.ByteRange[0] != 0 || a >= b || b+c > len(pdf) {
		return nil, fmt.Errorf("%w: /ByteRange shape", ErrMalformed)
	}
	cs, ok := sd["Contents"].(rawpdf.String)
	if !ok || cs.Start != a || cs.End != b {
		return nil, fmt.Errorf("%w: /Contents is not exactly the /ByteRange gap", ErrMalformed)
	}
	ps.Contents = cs.Value
	digest := DocumentDigest(pdf[:a], pdf[b:b+c])
	if g, err := ParseSignature(cs.Value); err == nil {
		ps.Format, ps.SES, ps.Seal = FormatSES, g, g.Seal
		ps.Checks = g.Check(opts, digest)
		return ps, nil
	}
	ci, err := parseCMS(cs.Value)
	if err != nil {
		return nil, err
	}
	ps.Format = FormatPKCS7
	ps.Checks = ci.check(opts, digest, ps)
	return ps, nil
}

func (ci *cmsInfo) check(opts CheckOptions, digest []byte, ps *PDFSignature) []Check {
	var out []Check
	switch {
	case !ci.contentType.Equal(OIDSM2SignedData):
		out = append(out, fail("G1", "outer content type "+ci.contentType.String()))
	case len(ci.seal) == 0:
		out = append(out, fail("G1", "no seal attribute "+OIDSealAttribute))
	case len(ci.certs) == 0:
		out = append(out, fail("G1", "no signer certificate"))
	default:
		out = append(out, pass("G1", "GB/T 35275 SignedData with seal attribute"))
	}
	if len(ci.certs) == 0 {
		return out
	}
	cert, err := ParseCertificate(ci.certs[0])
	if err != nil {
		return append(out, fail("G2", err.Error()))
	}
	ok, q, err := verifySM2(cert.PublicKey(), ci.signedAttrs, ci.signature)
	out = append(out, sigCheck("G2", "signature over signed attributes", ok, q, err))
	seal, err := ParseSeal(ci.seal)
	if err != nil {
		return append(out, fail("G3", "seal attribute: "+err.Error()))
	}
	ps.Seal = seal
	out = append(out, bindingCheck(seal, ci.certs[0]))
	at := opts.At
	note := ""
	if at.IsZero() {
		at, note = ci.signingTime, " (T = self-asserted signingTime)"
	}
	out = append(out, certCheck("G4", "signer", cert, opts, at, note))
	sc := seal.Check(CheckOptions{Roots: opts.Roots, Intermediates: opts.Intermediates, At: at})
	st := StatusPass
	for _, c := range sc {
		if c.Status == StatusFail {
			st = StatusFail
		}
	}
	out = append(out, Check{ID: "G5", Status: st, Detail: "seal checks S1–S4"})
	out = append(out, Check{ID: "G6", Status: StatusSkip, Detail: "no time stamp"})
	if string(ci.messageDigest) == string(digest) {
		out = append(out, pass("G7", "messageDigest equals SM3 of the /ByteRange spans"))
	} else {
		out = append(out, fail("G7", "messageDigest differs from SM3 of the /ByteRange spans"))
	}
	return out
}
