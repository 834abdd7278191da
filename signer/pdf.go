package signer

import (
	"bytes"
	"compress/zlib"
	"crypto"
	"crypto/ecdsa"
	"encoding"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/draw"
	_ "image/gif"  // seal pictures may be GIF
	_ "image/jpeg" // or JPEG
	"image/png"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/emmansun/gmsm/sm3"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"elicense/signer/rawpdf"
)

// Format selects what /Contents holds.
type Format int

// Signature container formats.
const (
	// FormatSES (default): DER SES_Signature V4 (GB/T 38540) whose dataHash
	// is SM3 of the two /ByteRange spans; /SubFilter /ELicense.SES.v4.
	FormatSES Format = iota
	// FormatPKCS7: detached GB/T 35275 SignedData (SM3, SM2) with the seal
	// as signed attribute OIDSealAttribute; /SubFilter /adbe.pkcs7.detached.
	FormatPKCS7
)

// PDF names written into the signature dictionary.
const (
	// PDFFilter is the /Filter of every signature we write.
	PDFFilter = "Adobe.PPKLite"
	// SubFilterSES is the /SubFilter of FormatSES signatures.
	SubFilterSES = "ELicense.SES.v4"
	// SubFilterPKCS7 is the /SubFilter of FormatPKCS7 signatures.
	SubFilterPKCS7 = "adbe.pkcs7.detached"
	// SealSlotKey is the page-1 entry /ELSealSlot [llx lly urx ury] (PDF
	// points) in which the template renderer reserves the seal's place.
	SealSlotKey = "ELSealSlot"
	// PropertyInfoPDF is TBS_Sign.propertyInfo of FormatSES signatures.
	PropertyInfoPDF = "PDF /ByteRange SM3"
)

func (f Format) String() string {
	switch f {
	case FormatSES:
		return "ses"
	case FormatPKCS7:
		return "pkcs7"
	}
	return "unknown"
}

// ParseFormat maps "ses" and "pkcs7" to a Format.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "", "ses":
		return FormatSES, nil
	case "pkcs7":
		return FormatPKCS7, nil
	}
	return 0, fmt.Errorf("%w: format %q (want ses or pkcs7)", ErrUnsupported, s)
}

// SealerOptions configure NewSealer.
type SealerOptions struct {
	// Name goes into the signature dictionary /Name; empty means the signer
	// certificate's common name.
	Name string
	// Reason goes into /Reason when set.
	Reason string
}

// Sealer stamps PDFs with one seal and one signer key. It holds the parsed
// seal and precomputed bytes (appearance image streams, container
// templates), so building it once and calling Sign many times is cheap.
// A Sealer is safe for concurrent use.
type Sealer struct {
	seal      *Seal
	sealDER   []byte
	key       crypto.Signer
	cert      *Certificate
	pub       *ecdsa.PublicKey
	dig       *sm2Digester
	opts      SealerOptions
	imgW      int
	imgH      int
	rgb       []byte // Flate-compressed RGB samples
	alpha     []byte // Flate-compressed alpha samples (nil when opaque)
	alphaBits int    // bits per alpha sample: 2 for single-ink pictures, else 8
	maxSES    int
	maxPKCS7  int
	rawIssuer []byte
	serialDER []byte
	zeros     []byte // '0' × 2·max(maxSES, maxPKCS7): the /Contents placeholder
	ses       sesTemplate
	cms       cmsTemplate
	bufs      sync.Pool
}

// sesTemplate holds the constant parts of the SES_Signature this Sealer
// writes. TBS_Sign has a fixed length (the time is a GeneralizedTime to the
// second and the digest 32 bytes), so everything up to and including the
// seal is the same in every signature: its SM2 digest state is kept, and
// signing hashes only the last ~80 bytes of TBS_Sign.
type sesTemplate struct {
	head  []byte // TBS_Sign: SEQUENCE header, version, SESeal
	state []byte // SM3 state after Z_A ‖ head
	tail  int    // length of TBS_Sign after head
	mid   []byte // cert OCTET STRING ‖ signatureAlgorithm OID
}

// NewSealer checks that cert is listed in the seal (G3), that the seal's
// maker signature verifies (S2) and that key matches cert, then precomputes
// the appearance image. Seal validity (S4) is checked at each Sign.
func NewSealer(seal []byte, key crypto.Signer, cert *Certificate, opts SealerOptions) (*Sealer, error) {
	s, err := ParseSeal(seal)
	if err != nil {
		return nil, err
	}
	if s.Version != 4 {
		return nil, fmt.Errorf("%w: only V4 seals can stamp", ErrSealInvalid)
	}
	if c := bindingCheck(s, cert.Raw()); c.Status != StatusPass {
		return nil, fmt.Errorf("%w: %s", ErrSealInvalid, c.Detail)
	}
	maker, err := ParseCertificate(s.MakerCert)
	if err != nil {
		return nil, err
	}
	if ok, _, _ := verifySM2(maker.PublicKey(), s.SignedMessage, s.SignedValue); !ok {
		return nil, fmt.Errorf("%w: seal maker signature does not verify", ErrSealInvalid)
	}
	a, err := MarshalPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	b, err := MarshalPublicKey(cert.PublicKey())
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(a, b) {
		return nil, fmt.Errorf("%w: key does not match the signer certificate", ErrSealInvalid)
	}
	dig, err := newDigester(cert.PublicKey())
	if err != nil {
		return nil, err
	}
	z := &Sealer{seal: s, sealDER: s.Raw, key: key, cert: cert, pub: cert.PublicKey().(*ecdsa.PublicKey), dig: dig, opts: opts}
	if z.opts.Name == "" {
		z.opts.Name = cert.CommonName()
	}
	if err := z.prepareImage(); err != nil {
		return nil, err
	}
	z.rawIssuer = cert.c.RawIssuer
	var sb cryptobyte.Builder
	sb.AddASN1BigInt(cert.c.SerialNumber)
	z.serialDER = sb.BytesOrPanic()
	// Largest container sizes: DER SM2 signatures are at most 72 bytes.
	sig72 := make([]byte, 72)
	ses := z.buildSES(time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), make([]byte, 32), nil, sig72)
	z.maxSES = len(ses)
	in := z.cmsInput(make([]byte, 32), time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC))
	z.maxPKCS7 = len(in.build(in.signedAttrs(), sig72))
	z.zeros = bytes.Repeat([]byte{'0'}, 2*max(z.maxSES, z.maxPKCS7))
	if err := z.prepareSES(); err != nil {
		return nil, err
	}
	z.cms = newCMSTemplate(in)
	// The templates must reproduce the reference encoders byte for byte.
	in.signingTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	in.digest = bytes.Repeat([]byte{0xa5}, 32)
	attrs, err := z.cms.signedAttrs(in.signingTime, in.digest)
	if err != nil || !bytes.Equal(attrs, in.signedAttrs()) || !bytes.Equal(z.cms.build(attrs, sig72), in.build(attrs, sig72)) {
		return nil, fmt.Errorf("signer: sealer: CMS template does not reproduce SignedData (%v)", err)
	}
	return z, nil
}

// prepareSES fills z.ses and checks that the template reproduces buildSES.
func (z *Sealer) prepareSES() error {
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	digest := bytes.Repeat([]byte{0x5a}, 32)
	tbs := z.buildSES(t, digest, nil, nil)
	n := headerLen(tbs) + 3 + len(z.sealDER) // SEQUENCE header, INTEGER 4, SESeal
	if n > len(tbs) || !bytes.Equal(tbs[n-len(z.sealDER):n], z.sealDER) {
		return fmt.Errorf("signer: sealer: unexpected TBS_Sign layout")
	}
	h := z.dig.newHash()
	h.Write(tbs[:n])
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return fmt.Errorf("signer: sealer: %w", err)
	}
	var mb cryptobyte.Builder
	mb.AddASN1OctetString(z.cert.Raw())
	mb.AddASN1ObjectIdentifier(OIDSM3WithSM2)
	z.ses = sesTemplate{head: tbs[:n:n], state: state, tail: len(tbs) - n, mid: mb.BytesOrPanic()}
	sig := bytes.Repeat([]byte{0x30}, 71)
	got, e, err := z.sesValue(t, digest, func(e []byte) ([]byte, error) { return sig, nil })
	if err != nil {
		return err
	}
	if !bytes.Equal(got, z.buildSES(t, digest, nil, sig)) || !bytes.Equal(e, z.dig.digest(tbs)) {
		return fmt.Errorf("signer: sealer: SES template does not reproduce TBS_Sign")
	}
	return nil
}

// sesValue builds the SES_Signature for digest and time t from the template;
// sign receives e = SM3(Z_A ‖ TBS_Sign) and returns the DER SM2 signature.
// It returns the signature and e.
func (z *Sealer) sesValue(t time.Time, digest []byte, sign func(e []byte) ([]byte, error)) (value, e []byte, err error) {
	var tailBuf [96]byte
	tb := cryptobyte.NewFixedBuilder(tailBuf[:0])
	tb.AddASN1GeneralizedTime(t.UTC().Truncate(time.Second))
	addBitString(tb, digest)
	addString(tb, cbasn1.IA5String, PropertyInfoPDF)
	tail, err := tb.Bytes()
	if err != nil || len(tail) != z.ses.tail {
		return nil, nil, fmt.Errorf("signer: sign PDF: TBS_Sign tail of %d bytes, want %d", len(tail), z.ses.tail)
	}
	h := sm3.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(z.ses.state); err != nil {
		return nil, nil, fmt.Errorf("signer: sign PDF: %w", err)
	}
	h.Write(tail)
	e = h.Sum(nil)
	sig, err := sign(e)
	if err != nil {
		return nil, nil, err
	}
	if len(sig) > 125 {
		return nil, nil, fmt.Errorf("%w: SM2 signature of %d bytes", ErrMalformed, len(sig))
	}
	body := len(z.ses.head) + len(tail) + len(z.ses.mid) + 2 + 1 + len(sig)
	value = make([]byte, 0, 4+body)
	value = appendDERHeader(value, 0x30, body)
	value = append(value, z.ses.head...)
	value = append(value, tail...)
	value = append(value, z.ses.mid...)
	value = append(value, 0x03, byte(1+len(sig)), 0)
	value = append(value, sig...)
	return value, e, nil
}

// derHeaderLen is the length of the tag and length octets appendDERHeader
// writes for a content of n bytes.
func derHeaderLen(n int) int {
	switch {
	case n < 0x80:
		return 2
	case n < 0x100:
		return 3
	case n < 0x10000:
		return 4
	}
	return 5
}

// appendDERHeader appends a DER tag and definite length.
func appendDERHeader(b []byte, tag byte, n int) []byte {
	b = append(b, tag)
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n < 0x100:
		return append(b, 0x81, byte(n))
	case n < 0x10000:
		return append(b, 0x82, byte(n>>8), byte(n))
	default:
		return append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
}

// Seal returns the parsed seal.
func (z *Sealer) Seal() *Seal { return z.seal }

// prepareImage turns the seal picture into an RGB image with a soft mask.
// For a picture in a single ink colour on a transparent background (what
// RenderSealPicture makes) the mask keeps 4 coverage levels instead of 256:
// it is only anti-aliasing at the strokes' edges, prints and zooms the same
// (checked at 150, 600 and 1200 dpi) and takes about 35 % fewer bytes, which
// matters because every byte of the update is hashed for both digests.
func (z *Sealer) prepareImage() error {
	if z.seal.Picture.Type == "" || len(z.seal.Picture.Data) == 0 {
		return fmt.Errorf("%w: seal has no picture", ErrSealInvalid)
	}
	img, _, err := image.Decode(bytes.NewReader(z.seal.Picture.Data))
	if err != nil {
		return fmt.Errorf("%w: seal picture type %q cannot be drawn: %w", ErrUnsupported, z.seal.Picture.Type, err)
	}
	bnd := img.Bounds()
	nrgba := image.NewNRGBA(image.Rect(0, 0, bnd.Dx(), bnd.Dy()))
	draw.Draw(nrgba, nrgba.Bounds(), img, bnd.Min, draw.Src)
	w, h := bnd.Dx(), bnd.Dy()
	rgb := make([]byte, 0, w*h*3)
	alpha := make([]byte, 0, w*h)
	opaque := true
	for i := 0; i < len(nrgba.Pix); i += 4 {
		rgb = append(rgb, nrgba.Pix[i], nrgba.Pix[i+1], nrgba.Pix[i+2])
		alpha = append(alpha, nrgba.Pix[i+3])
		opaque = opaque && nrgba.Pix[i+3] == 0xff
	}
	// Fully transparent pixels take the colour of their left neighbour so
	// the colour plane compresses well (to a few hundred bytes for one ink).
	for i := 3; i < len(rgb); i += 3 {
		if alpha[i/3] == 0 {
			copy(rgb[i:i+3], rgb[i-3:i])
		}
	}
	z.imgW, z.imgH = w, h
	z.rgb = deflate(rgb)
	switch {
	case opaque:
	case singleInk(nrgba.Pix):
		z.alpha, z.alphaBits = deflate(pack2(alpha, w, h)), 2
	default:
		z.alpha, z.alphaBits = deflate(alpha), 8
	}
	return nil
}

// singleInk reports whether all visible pixels of the NRGBA samples pix
// have the same colour.
func singleInk(pix []byte) bool {
	var ink [3]byte
	seen := false
	for i := 0; i < len(pix); i += 4 {
		if pix[i+3] == 0 {
			continue
		}
		c := [3]byte{pix[i], pix[i+1], pix[i+2]}
		if seen && c != ink {
			return false
		}
		ink, seen = c, true
	}
	return true
}

// pack2 quantises 8-bit samples (w×h) to 2 bits, rounding to the nearest of
// 0, 85, 170, 255, and packs them as PDF image rows padded to a byte.
func pack2(a []byte, w, h int) []byte {
	stride := (w + 3) / 4
	out := make([]byte, stride*h)
	for y := range h {
		for x := range w {
			q := byte((int(a[y*w+x]) + 42) / 85)
			out[y*stride+x/4] |= q << (6 - 2*(x%4))
		}
	}
	return out
}

func deflate(b []byte) []byte {
	var out bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&out, zlib.BestCompression)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// buildSES returns DER SES_Signature with the given signature value, or, when
// sig is nil, returns only TBS_Sign.
func (z *Sealer) buildSES(t time.Time, digest []byte, _ []byte, sig []byte) []byte {
	var tb cryptobyte.Builder
	tb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(4)
		b.AddBytes(z.sealDER)
		b.AddASN1GeneralizedTime(t.UTC().Truncate(time.Second))
		addBitString(b, digest)
		addString(b, cbasn1.IA5String, PropertyInfoPDF)
	})
	tbs := tb.BytesOrPanic()
	if sig == nil {
		return tbs
	}
	var o cryptobyte.Builder
	o.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		b.AddASN1OctetString(z.cert.Raw())
		b.AddASN1ObjectIdentifier(OIDSM3WithSM2)
		addBitString(b, sig)
	})
	return o.BytesOrPanic()
}

func (z *Sealer) cmsInput(digest []byte, t time.Time) *cmsInput {
	return &cmsInput{certDER: z.cert.Raw(), rawIssuer: z.rawIssuer, serialDER: z.serialDER, digest: digest, signingTime: t, seal: z.sealDER}
}

// SignOptions configure one Sign call.
type SignOptions struct {
	// Sealer holds the seal and key (required).
	Sealer *Sealer
	// Format selects the /Contents container; default FormatSES.
	Format Format
	// Rect is the seal box [llx lly urx ury] in points used when page 1
	// has no /ELSealSlot; nil means a 42 mm box 15 mm from the lower-right
	// corner of the page.
	Rect *[4]float64
	// Now is the signing time: /M, timeInfo and signingTime (required).
	Now time.Time
	// Rand is the randomness source for the SM2 signature (required).
	Rand io.Reader
}

// SignResult describes a sealed PDF.
type SignResult struct {
	// Digest is SM3 of the complete output file.
	Digest [32]byte
	// Size is the output length in bytes.
	Size int
	// ByteRange is the signed /ByteRange.
	ByteRange [4]int
	// Rect is the seal box used, in points.
	Rect [4]float64
	// Signature is the DER value written into /Contents (without padding).
	Signature []byte
}

const maxPDFInput = 64 << 20

// Sign appends exactly one incremental update to the PDF in: a certifying
// signature (DocMDP P=1) in a visible signature field on page 1 showing the
// seal picture, and writes the whole result to w. The output is re-read
// strictly and its signature verified before Sign returns; on any error
// nothing is written to w.
func Sign(w io.Writer, in []byte, opts SignOptions) (res SignResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = SignResult{}, fmt.Errorf("%w: sign PDF: %v", ErrMalformed, r)
		}
	}()
	z := opts.Sealer
	if z == nil || opts.Rand == nil || opts.Now.IsZero() {
		return SignResult{}, errors.New("signer: sign PDF: Sealer, Rand and Now are required")
	}
	if len(in) > maxPDFInput {
		return SignResult{}, ErrTooLarge
	}
	if opts.Now.Before(z.seal.ValidStart) || opts.Now.After(z.seal.ValidEnd) {
		return SignResult{}, fmt.Errorf("%w: seal valid %s – %s, now %s", ErrSealInvalid, fmtT(z.seal.ValidStart), fmtT(z.seal.ValidEnd), fmtT(opts.Now))
	}
	if opts.Now.Before(z.cert.NotBefore()) || opts.Now.After(z.cert.NotAfter()) {
		return SignResult{}, fmt.Errorf("%w: signer certificate not valid now", ErrSealInvalid)
	}
	bufp := z.bufs.Get()
	var buf []byte
	if bufp != nil {
		buf = (*bufp.(*[]byte))[:0]
	}
	out, res, err := z.sign(buf, in, opts)
	if err != nil {
		return SignResult{}, err
	}
	if _, err := w.Write(out); err != nil {
		return SignResult{}, fmt.Errorf("signer: sign PDF: write: %w", err)
	}
	z.bufs.Put(&out)
	return res, nil
}

// SignFile is a thin wrapper around Sign reading inPath and writing outPath
// (mode 0644, created or truncated).
func SignFile(inPath, outPath string, opts SignOptions) (SignResult, error) {
	in, err := os.ReadFile(inPath)
	if err != nil {
		return SignResult{}, fmt.Errorf("signer: sign file: %w", err)
	}
	var out bytes.Buffer
	res, err := Sign(&out, in, opts)
	if err != nil {
		return SignResult{}, err
	}
	if err := os.WriteFile(outPath, out.Bytes(), 0o644); err != nil {
		return SignResult{}, fmt.Errorf("signer: sign file: %w", err)
	}
	return res, nil
}

func pdfErr(err error) error {
	return fmt.Errorf("%w: PDF: %w", ErrMalformed, err)
}

func (z *Sealer) sign(buf, in []byte, opts SignOptions) ([]byte, SignResult, error) {
	f, err := rawpdf.Parse(in, nil)
	if err != nil {
		return nil, SignResult{}, pdfErr(err)
	}
	last := f.Revisions[len(f.Revisions)-1]
	size, _ := f.Trailer.Int("Size")
	rootRef, cat, err := f.Catalog()
	if err != nil {
		return nil, SignResult{}, pdfErr(err)
	}
	if _, ok := cat["Perms"]; ok {
		return nil, SignResult{}, fmt.Errorf("%w: PDF is already certified (/Perms)", ErrUnsupported)
	}
	pageRef, page, mediaBox, err := f.FirstPage()
	if err != nil {
		return nil, SignResult{}, pdfErr(err)
	}
	rect, err := sealRect(f, page, mediaBox, opts.Rect)
	if err != nil {
		return nil, SignResult{}, err
	}
	type obj struct {
		num int
		off int
	}
	var objs []obj
	sigNum, widgetNum, apNum, imgNum, smaskNum := size, size+1, size+2, size+3, size+4
	next := size + 5
	ref := func(n int) rawpdf.Ref { return rawpdf.Ref{Num: n} }

	// Catalog and AcroForm.
	newCat := copyDict(cat)
	newCat["Perms"] = rawpdf.Dict{"DocMDP": ref(sigNum)}
	var acroNum = -1
	var acro rawpdf.Dict
	switch v := cat["AcroForm"].(type) {
	case rawpdf.Ref:
		o, err := f.Resolve(v)
		if err != nil {
			return nil, SignResult{}, pdfErr(err)
		}
		d, ok := o.(rawpdf.Dict)
		if !ok {
			return nil, SignResult{}, pdfErr(errors.New("/AcroForm is not a dictionary"))
		}
		acro, acroNum = copyDict(d), v.Num
	case rawpdf.Dict:
		acro = copyDict(v)
	default:
		acro = rawpdf.Dict{}
	}
	fields, err := f.Resolve(acro["Fields"])
	if err != nil {
		return nil, SignResult{}, pdfErr(err)
	}
	fa, _ := fields.(rawpdf.Array)
	acro["Fields"] = append(append(rawpdf.Array{}, fa...), ref(widgetNum))
	acro["SigFlags"] = rawpdf.Int(3)
	if acroNum < 0 {
		newCat["AcroForm"] = acro
	}
	// Page annotations.
	newPage := copyDict(page)
	annotsNum := -1
	var annots rawpdf.Array
	switch v := page["Annots"].(type) {
	case rawpdf.Ref:
		o, err := f.Resolve(v)
		if err != nil {
			return nil, SignResult{}, pdfErr(err)
		}
		a, _ := o.(rawpdf.Array)
		annots, annotsNum = append(rawpdf.Array{}, a...), v.Num
	case rawpdf.Array:
		annots = append(rawpdf.Array{}, v...)
	}
	annots = append(annots, ref(widgetNum))
	if annotsNum < 0 {
		newPage["Annots"] = annots
	}

	maxLen := z.maxSES
	subFilter := SubFilterSES
	if opts.Format == FormatPKCS7 {
		maxLen, subFilter = z.maxPKCS7, SubFilterPKCS7
	}
	need := len(in) + len(z.rgb) + len(z.alpha) + 2*maxLen + 4096
	if cap(buf) < need {
		buf = make([]byte, 0, need)
	}
	buf = append(buf, in...)
	if c := buf[len(buf)-1]; c != '\n' && c != '\r' {
		buf = append(buf, '\n')
	}
	begin := func(n int) {
		objs = append(objs, obj{n, len(buf)})
		buf = strconv.AppendInt(buf, int64(n), 10)
		buf = append(buf, " 0 obj\n"...)
	}
	end := func() { buf = append(buf, "\nendobj\n"...) }
	writeDict := func(n int, d rawpdf.Dict) {
		begin(n)
		buf = rawpdf.AppendObject(buf, d)
		end()
	}
	writeDict(rootRef.Num, newCat)
	if acroNum >= 0 {
		writeDict(acroNum, acro)
	}
	writeDict(pageRef.Num, newPage)
	if annotsNum >= 0 {
		begin(annotsNum)
		buf = rawpdf.AppendObject(buf, annots)
		end()
	}
	// Widget.
	begin(widgetNum)
	buf = append(buf, "<</Type/Annot/Subtype/Widget/FT/Sig/T(ELicenseSeal)/F 132/V "...)
	buf = rawpdf.AppendObject(buf, ref(sigNum))
	buf = append(buf, "/P "...)
	buf = rawpdf.AppendObject(buf, pageRef)
	buf = append(buf, "/Rect"...)
	buf = rawpdf.AppendObject(buf, rectArray(rect))
	buf = append(buf, "/AP<</N "...)
	buf = rawpdf.AppendObject(buf, ref(apNum))
	buf = append(buf, ">>>>"...)
	end()
	// Appearance: the picture centred in the box, aspect kept.
	bw, bh := rect[2]-rect[0], rect[3]-rect[1]
	dw, dh := bw, bw*float64(z.imgH)/float64(z.imgW)
	if dh > bh {
		dw, dh = bh*float64(z.imgW)/float64(z.imgH), bh
	}
	var contentBuf [128]byte
	content := fmt.Appendf(contentBuf[:0], "q %s 0 0 %s %s %s cm /Im0 Do Q", fnum(dw), fnum(dh), fnum((bw-dw)/2), fnum((bh-dh)/2))
	begin(apNum)
	buf = append(buf, "<</Type/XObject/Subtype/Form/BBox"...)
	buf = rawpdf.AppendObject(buf, rectArray([4]float64{0, 0, bw, bh}))
	buf = append(buf, "/Resources<</XObject<</Im0 "...)
	buf = rawpdf.AppendObject(buf, ref(imgNum))
	buf = append(buf, ">>>>/Length "...)
	buf = strconv.AppendInt(buf, int64(len(content)), 10)
	buf = append(buf, ">>stream\n"...)
	buf = append(buf, content...)
	buf = append(buf, "\nendstream"...)
	end()
	image := func(n int, cs string, bpc int, data []byte, smask int) {
		begin(n)
		buf = append(buf, "<</Type/XObject/Subtype/Image/Width "...)
		buf = strconv.AppendInt(buf, int64(z.imgW), 10)
		buf = append(buf, "/Height "...)
		buf = strconv.AppendInt(buf, int64(z.imgH), 10)
		buf = append(buf, "/ColorSpace/"...)
		buf = append(buf, cs...)
		buf = append(buf, "/BitsPerComponent "...)
		buf = strconv.AppendInt(buf, int64(bpc), 10)
		buf = append(buf, "/Filter/FlateDecode"...)
		if smask > 0 {
			buf = append(buf, "/SMask "...)
			buf = rawpdf.AppendObject(buf, ref(smask))
		}
		buf = append(buf, "/Length "...)
		buf = strconv.AppendInt(buf, int64(len(data)), 10)
		buf = append(buf, ">>stream\n"...)
		buf = append(buf, data...)
		buf = append(buf, "\nendstream"...)
		end()
	}
	if z.alpha != nil {
		image(imgNum, "DeviceRGB", 8, z.rgb, smaskNum)
		image(smaskNum, "DeviceGray", z.alphaBits, z.alpha, 0)
	} else {
		image(imgNum, "DeviceRGB", 8, z.rgb, 0)
		begin(smaskNum) // keep numbering stable: an unused null object
		buf = append(buf, "null"...)
		end()
	}
	// Signature dictionary, /Contents last.
	begin(sigNum)
	buf = append(buf, "<</Type/Sig/Filter/"...)
	buf = append(buf, PDFFilter...)
	buf = append(buf, "/SubFilter/"...)
	buf = append(buf, subFilter...)
	buf = append(buf, "/M"...)
	buf = rawpdf.AppendLiteralString(buf, []byte(pdfDate(opts.Now)))
	buf = append(buf, "/Name"...)
	buf = appendTextString(buf, z.opts.Name)
	if z.opts.Reason != "" {
		buf = append(buf, "/Reason"...)
		buf = appendTextString(buf, z.opts.Reason)
	}
	buf = append(buf, "/Reference[<</Type/SigRef/TransformMethod/DocMDP/TransformParams<</Type/TransformParams/P 1/V/1.2>>>>]"...)
	buf = append(buf, "/ByteRange[0 "...)
	brOff := len(buf)
	buf = append(buf, "                                 ]"...) // 3 numbers, space padded
	buf = append(buf, "/Contents"...)
	contStart := len(buf)
	buf = append(buf, '<')
	buf = append(buf, z.zeros[:2*maxLen]...)
	buf = append(buf, '>')
	contEnd := len(buf)
	buf = append(buf, ">>"...)
	end()
	// Cross-reference section of the same kind as the base file's.
	prev := last.XrefOffset
	xrefOff := len(buf)
	if last.IsStream {
		xnum := next
		next++
		objs = append(objs, obj{xnum, xrefOff})
		sortObjs := sortedObjs(objs, func(o obj) int { return o.num })
		var index rawpdf.Array
		var rows []byte
		for i := 0; i < len(sortObjs); {
			j := i
			for j+1 < len(sortObjs) && objs[sortObjs[j+1]].num == objs[sortObjs[j]].num+1 {
				j++
			}
			index = append(index, rawpdf.Int(objs[sortObjs[i]].num), rawpdf.Int(j-i+1))
			for k := i; k <= j; k++ {
				o := objs[sortObjs[k]].off
				rows = append(rows, 1, byte(o>>24), byte(o>>16), byte(o>>8), byte(o), 0, 0)
			}
			i = j + 1
		}
		buf = strconv.AppendInt(buf, int64(xnum), 10)
		buf = append(buf, " 0 obj\n"...)
		td := trailerDict(f.Trailer, next, rootRef, prev)
		td["Type"] = rawpdf.Name("XRef")
		td["W"] = rawpdf.Array{rawpdf.Int(1), rawpdf.Int(4), rawpdf.Int(2)}
		td["Index"] = index
		td["Length"] = rawpdf.Int(len(rows))
		buf = rawpdf.AppendObject(buf, td)
		buf = append(buf, "stream\n"...)
		buf = append(buf, rows...)
		buf = append(buf, "\nendstream\nendobj\n"...)
	} else {
		sortObjs := sortedObjs(objs, func(o obj) int { return o.num })
		buf = append(buf, "xref\n"...)
		for i := 0; i < len(sortObjs); {
			j := i
			for j+1 < len(sortObjs) && objs[sortObjs[j+1]].num == objs[sortObjs[j]].num+1 {
				j++
			}
			buf = strconv.AppendInt(buf, int64(objs[sortObjs[i]].num), 10)
			buf = append(buf, ' ')
			buf = strconv.AppendInt(buf, int64(j-i+1), 10)
			buf = append(buf, '\n')
			for k := i; k <= j; k++ {
				buf = fmt.Appendf(buf, "%010d 00000 n\r\n", objs[sortObjs[k]].off)
			}
			i = j + 1
		}
		buf = append(buf, "trailer\n"...)
		buf = rawpdf.AppendObject(buf, trailerDict(f.Trailer, next, rootRef, prev))
		buf = append(buf, '\n')
	}
	buf = append(buf, "startxref\n"...)
	buf = strconv.AppendInt(buf, int64(xrefOff), 10)
	buf = append(buf, "\n%%EOF\n"...)

	// Patch /ByteRange, hash, sign, patch /Contents.
	br := [4]int{0, contStart, contEnd, len(buf) - contEnd}
	var numBuf [40]byte
	nums := strconv.AppendInt(numBuf[:0], int64(br[1]), 10)
	nums = append(nums, ' ')
	nums = strconv.AppendInt(nums, int64(br[2]), 10)
	nums = append(nums, ' ')
	nums = strconv.AppendInt(nums, int64(br[3]), 10)
	if len(nums) > 33 {
		return nil, SignResult{}, ErrTooLarge
	}
	copy(buf[brOff:], nums)
	// From here on the only bytes written are those of the /Contents hole,
	// through a slice that cannot reach the spans. The spans are hashed once:
	// the SM3 state after span 1 is forked for the whole-file digest, and a
	// CRC-32C of the hashed bytes lets the self-check prove that the spans
	// written out are those that were signed.
	span1, span2 := buf[br[0]:br[0]+br[1]], buf[br[2]:br[2]+br[3]]
	h := sm3.New()
	h.Write(span1)
	var stateBuf [160]byte
	state, err := h.(encoding.BinaryAppender).AppendBinary(stateBuf[:0])
	if err != nil {
		return nil, SignResult{}, fmt.Errorf("signer: sign PDF: %w", err)
	}
	h.Write(span2)
	var digestBuf [32]byte
	digest := h.Sum(digestBuf[:0])
	spanCRC := crc32.Update(crc32.Update(0, castagnoli, span1), castagnoli, span2)

	var value, msg, e []byte
	switch opts.Format {
	case FormatSES:
		value, e, err = z.sesValue(opts.Now, digest, func(e []byte) ([]byte, error) { return signDigest(z.key, opts.Rand, e) })
		if err != nil {
			return nil, SignResult{}, err
		}
		msg = value[headerLen(value):][:len(z.ses.head)+z.ses.tail]
	case FormatPKCS7:
		if msg, err = z.cms.signedAttrs(opts.Now, digest); err != nil {
			return nil, SignResult{}, err
		}
		e = z.dig.digest(msg)
		sig, err := signDigest(z.key, opts.Rand, e)
		if err != nil {
			return nil, SignResult{}, err
		}
		value = z.cms.build(msg, sig)
	default:
		return nil, SignResult{}, fmt.Errorf("%w: format %d", ErrUnsupported, opts.Format)
	}
	if len(value) > maxLen {
		return nil, SignResult{}, fmt.Errorf("signer: sign PDF: container %d bytes exceeds reserved %d", len(value), maxLen)
	}
	hole := buf[contStart+1 : contEnd-1 : contEnd-1]
	hexEncode(hole, value)
	hf := sm3.New()
	if err := hf.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, SignResult{}, fmt.Errorf("signer: sign PDF: %w", err)
	}
	hf.Write(buf[br[0]+br[1]:])
	res := SignResult{Size: len(buf), ByteRange: br, Rect: rect, Signature: value}
	hf.Sum(res.Digest[:0])
	if testHookSealed != nil {
		testHookSealed(buf)
	}
	want := selfCheck{sigNum: sigNum, br: br, spanCRC: spanCRC, digest: digest, value: value, msg: msg, e: e, format: opts.Format, isStream: last.IsStream}
	if err := z.verifyOutput(buf, &want); err != nil {
		return nil, SignResult{}, err
	}
	return buf, res, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// testHookSealed, when set by a test, may alter the finished output before
// the self-check runs.
var testHookSealed func(out []byte)

// selfCheck is what Sign wrote and signed, for verifyOutput.
type selfCheck struct {
	sigNum   int
	br       [4]int
	spanCRC  uint32 // CRC-32C of the bytes hashed for the /ByteRange digest
	digest   []byte // SM3 of the /ByteRange spans
	value    []byte // the container written into /Contents
	msg      []byte // the signed message (TBS_Sign or the signed attributes)
	e        []byte // SM3(Z_A ‖ msg), the value the SM2 signature was made over
	format   Format
	isStream bool
}

// verifyOutput re-reads the output strictly and checks the new signature:
// the new revision ends the file, the catalog certifies with the signature
// dictionary, /ByteRange and /Contents are where they were hashed and
// written, the spans in the output are those that were hashed (CRC-32C), the
// container parsed from the output carries the digest and the signed
// message, and the SM2 signature verifies. The message is compared byte for
// byte with the one whose digest e was signed, so e is not recomputed.
func (z *Sealer) verifyOutput(out []byte, w *selfCheck) error {
	bad := func(why string) error { return fmt.Errorf("%w: self-check of sealed output: %s", ErrVerify, why) }
	br := w.br
	if br[0] != 0 || br[2]+br[3] != len(out) || br[1] >= br[2] {
		return bad("/ByteRange does not cover the file")
	}
	f, err := rawpdf.Parse(out, nil)
	if err != nil {
		return bad(err.Error())
	}
	last := f.Revisions[len(f.Revisions)-1]
	if last.End != len(out) || last.IsStream != w.isStream {
		return bad("new revision does not end the file or has the wrong xref kind")
	}
	_, cat, err := f.Catalog()
	if err != nil {
		return bad(err.Error())
	}
	perms, _ := cat["Perms"].(rawpdf.Dict)
	if r, ok := perms["DocMDP"].(rawpdf.Ref); !ok || r.Num != w.sigNum {
		return bad("catalog /Perms /DocMDP")
	}
	o, err := f.Object(w.sigNum)
	if err != nil {
		return bad(err.Error())
	}
	d, ok := o.(rawpdf.Dict)
	if !ok || d["Type"] != rawpdf.Name("Sig") {
		return bad("signature dictionary missing")
	}
	ba, _ := d["ByteRange"].(rawpdf.Array)
	if len(ba) != 4 {
		return bad("/ByteRange")
	}
	for i := range br {
		if v, ok := ba[i].(rawpdf.Int); !ok || int(v) != br[i] {
			return bad("/ByteRange value")
		}
	}
	c, ok := d["Contents"].(rawpdf.String)
	if !ok || !c.Hex || c.Start != br[1] || c.End != br[2] || !bytes.HasPrefix(c.Value, w.value) || !allZero(c.Value[len(w.value):]) {
		return bad("/Contents")
	}
	if crc32.Update(crc32.Update(0, castagnoli, out[:br[1]]), castagnoli, out[br[2]:]) != w.spanCRC {
		return bad("the /ByteRange spans differ from the bytes that were hashed")
	}
	var msg, sig, got []byte
	switch w.format {
	case FormatSES:
		g, err := ParseSignature(c.Value)
		if err != nil {
			return bad(err.Error())
		}
		msg, sig, got = g.RawToSign, g.Value, g.DataHash
	case FormatPKCS7:
		ci, err := ParseCMS(c.Value)
		if err != nil {
			return bad(err.Error())
		}
		if !bytes.Equal(ci.SealDER, z.sealDER) || !bytes.Equal(ci.SignerCert, z.cert.Raw()) {
			return bad("seal attribute or signer certificate")
		}
		msg, sig, got = ci.SignedAttrs, ci.Value, ci.MessageDigest
	}
	if !bytes.Equal(got, w.digest) {
		return bad("digest")
	}
	if !bytes.Equal(msg, w.msg) {
		return bad("signed message")
	}
	if ok, _, err := verifySM2Digest(z.pub, w.e, sig); err != nil || !ok {
		return bad("signature does not verify")
	}
	return nil
}

func sortedObjs[T any](objs []T, num func(T) int) []int {
	idx := make([]int, len(objs))
	for i := range idx {
		idx[i] = i
	}
	for i := 1; i < len(idx); i++ { // insertion sort: a handful of entries
		for j := i; j > 0 && num(objs[idx[j]]) < num(objs[idx[j-1]]); j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	return idx
}

func trailerDict(old rawpdf.Dict, size int, root rawpdf.Ref, prev int) rawpdf.Dict {
	d := rawpdf.Dict{"Size": rawpdf.Int(size), "Root": root, "Prev": rawpdf.Int(prev)}
	if v, ok := old["Info"].(rawpdf.Ref); ok {
		d["Info"] = v
	}
	if v, ok := old["ID"].(rawpdf.Array); ok {
		d["ID"] = v
	}
	return d
}

func copyDict(d rawpdf.Dict) rawpdf.Dict {
	c := make(rawpdf.Dict, len(d)+2)
	for k, v := range d {
		c[k] = v
	}
	return c
}

func rectArray(r [4]float64) rawpdf.Array {
	return rawpdf.Array{rawpdf.Real(round2(r[0])), rawpdf.Real(round2(r[1])), rawpdf.Real(round2(r[2])), rawpdf.Real(round2(r[3]))}
}

func round2(f float64) float64 { return float64(int64(f*100+0.5*sign(f))) / 100 }

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

func fnum(f float64) string { return strconv.FormatFloat(round2(f), 'f', -1, 64) }

// sealRect picks /ELSealSlot, then opts.Rect, then a default box.
func sealRect(f *rawpdf.File, page rawpdf.Dict, mediaBox rawpdf.Array, fallback *[4]float64) ([4]float64, error) {
	if v, ok := page[SealSlotKey]; ok {
		o, err := f.Resolve(v)
		if err != nil {
			return [4]float64{}, pdfErr(err)
		}
		r, ok := numbers4(o)
		if !ok || r[2]-r[0] < 10 || r[3]-r[1] < 10 {
			return [4]float64{}, fmt.Errorf("%w: /%s must be [llx lly urx ury] with a positive size", ErrMalformed, SealSlotKey)
		}
		return r, nil
	}
	if fallback != nil {
		r := *fallback
		if r[2]-r[0] < 10 || r[3]-r[1] < 10 {
			return [4]float64{}, errors.New("signer: sign PDF: Rect too small")
		}
		return r, nil
	}
	mb, ok := numbers4(mediaBox)
	if !ok {
		mb = [4]float64{0, 0, 595.28, 841.89}
	}
	const mm = 72 / 25.4
	side, margin := 42*mm, 15*mm
	return [4]float64{mb[2] - margin - side, mb[1] + margin, mb[2] - margin, mb[1] + margin + side}, nil
}

func numbers4(o rawpdf.Object) ([4]float64, bool) {
	a, ok := o.(rawpdf.Array)
	if !ok || len(a) != 4 {
		return [4]float64{}, false
	}
	var r [4]float64
	for i := range r {
		if r[i], ok = rawpdf.Number(a[i]); !ok {
			return r, false
		}
	}
	return r, true
}

// pdfDate formats t as a PDF date in China Standard Time.
func pdfDate(t time.Time) string {
	return t.In(chinaTZ).Format("D:20060102150405") + "+08'00'"
}

// appendTextString writes s as a PDF text string: literal for ASCII,
// UTF-16BE with BOM (hex) otherwise.
func appendTextString(b []byte, s string) []byte {
	if isIA5(s) {
		return rawpdf.AppendLiteralString(b, []byte(s))
	}
	u := utf16.Encode([]rune(s))
	raw := make([]byte, 0, 2+2*len(u))
	raw = append(raw, 0xfe, 0xff)
	for _, c := range u {
		raw = append(raw, byte(c>>8), byte(c))
	}
	return rawpdf.AppendHexString(b, raw)
}

var _ = png.Decode
