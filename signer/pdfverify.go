package signer

import (
	"fmt"

	"elicense/signer/rawpdf"
)

// PDFSignature is the certifying seal signature found in a PDF and its
// checks. It covers the signature referenced by /Perms /DocMDP; the PDF
// structure policy (checks C1–C14) belongs to the verify package.
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
	ci, err := ParseCMS(cs.Value)
	if err != nil {
		return nil, err
	}
	ps.Format = FormatPKCS7
	ps.Checks = checkPDFCMS(ci, opts, digest, ps)
	return ps, nil
}

// checkPDFCMS runs G1–G7 on a GB/T 35275 SignedData that must carry a seal
// attribute, as Sign writes it.
func checkPDFCMS(c *CMSSignature, opts CheckOptions, digest []byte, ps *PDFSignature) []Check {
	switch {
	case !c.ContentType.Equal(OIDSM2SignedData):
		return []Check{fail("G1", "outer content type "+c.ContentType.String())}
	case c.SealDER == nil:
		return []Check{fail("G1", "no seal attribute "+OIDSealAttribute)}
	}
	seal, err := ParseSeal(c.SealDER)
	if err != nil {
		return []Check{fail("G1", "seal attribute: "+err.Error())}
	}
	ps.Seal = seal
	return c.Check(opts, digest, nil, seal)
}
