package signer

import (
	"bytes"
	"compress/zlib"
	"crypto"
	"crypto/ecdsa"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
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
	tbsHead   []byte // SES: TBS_Sign header up to and including the seal
	maxSES    int
	maxPKCS7  int
	rawIssuer []byte
	serialDER []byte
	bufs      sync.Pool
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
	return z, nil
}

// Seal returns the parsed seal.
func (z *Sealer) Seal() *Seal { return z.seal }

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
	// the colour plane compresses well.
	for i := 3; i < len(rgb); i += 3 {
		if alpha[i/3] == 0 {
			copy(rgb[i:i+3], rgb[i-3:i])
		}
	}
	z.imgW, z.imgH = w, h
	z.rgb = deflate(rgb)
	if !opaque {
		z.alpha = deflate(alpha)
	}
	return nil
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
	content := fmt.Appendf(nil, "q %s 0 0 %s %s %s cm /Im0 Do Q", fnum(dw), fnum(dh), fnum((bw-dw)/2), fnum((bh-dh)/2))
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
	image := func(n int, cs string, data []byte, smask int) {
		begin(n)
		buf = append(buf, "<</Type/XObject/Subtype/Image/Width "...)
		buf = strconv.AppendInt(buf, int64(z.imgW), 10)
		buf = append(buf, "/Height "...)
		buf = strconv.AppendInt(buf, int64(z.imgH), 10)
		buf = append(buf, "/ColorSpace/"...)
		buf = append(buf, cs...)
		buf = append(buf, "/BitsPerComponent 8/Filter/FlateDecode"...)
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
		image(imgNum, "DeviceRGB", z.rgb, smaskNum)
		image(smaskNum, "DeviceGray", z.alpha, 0)
	} else {
		image(imgNum, "DeviceRGB", z.rgb, 0)
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
	for i := 0; i < 2*maxLen; i++ {
		buf = append(buf, '0')
	}
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
	nums := fmt.Appendf(nil, "%d %d %d", br[1], br[2], br[3])
	if len(nums) > 33 {
		return nil, SignResult{}, ErrTooLarge
	}
	copy(buf[brOff:], nums)
	h := sm3.New()
	h.Write(buf[:contStart])
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, SignResult{}, fmt.Errorf("signer: sign PDF: %w", err)
	}
	h.Write(buf[contEnd:])
	digest := h.Sum(nil)
	var value []byte
	switch opts.Format {
	case FormatSES:
		tbs := z.buildSES(opts.Now, digest, nil, nil)
		sig, err := signDigest(z.key, opts.Rand, z.dig.digest(tbs))
		if err != nil {
			return nil, SignResult{}, err
		}
		value = z.buildSES(opts.Now, digest, nil, sig)
	case FormatPKCS7:
		ci := z.cmsInput(digest, opts.Now)
		attrs := ci.signedAttrs()
		sig, err := signDigest(z.key, opts.Rand, z.dig.digest(attrs))
		if err != nil {
			return nil, SignResult{}, err
		}
		value = ci.build(attrs, sig)
	default:
		return nil, SignResult{}, fmt.Errorf("%w: format %d", ErrUnsupported, opts.Format)
	}
	if len(value) > maxLen {
		return nil, SignResult{}, fmt.Errorf("signer: sign PDF: container %d bytes exceeds reserved %d", len(value), maxLen)
	}
	hex.Encode(buf[contStart+1:], value)
	h2 := sm3.New()
	if err := h2.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, SignResult{}, fmt.Errorf("signer: sign PDF: %w", err)
	}
	h2.Write(buf[contStart:])
	res := SignResult{Size: len(buf), ByteRange: br, Rect: rect, Signature: value}
	h2.Sum(res.Digest[:0])
	if err := z.verifyOutput(buf, sigNum, br, digest, value, opts.Format, last.IsStream); err != nil {
		return nil, SignResult{}, err
	}
	return buf, res, nil
}

// verifyOutput re-reads the output strictly and checks the new signature.
func (z *Sealer) verifyOutput(out []byte, sigNum int, br [4]int, digest, value []byte, format Format, isStream bool) error {
	bad := func(why string) error { return fmt.Errorf("%w: self-check of sealed output: %s", ErrVerify, why) }
	f, err := rawpdf.Parse(out, nil)
	if err != nil {
		return bad(err.Error())
	}
	last := f.Revisions[len(f.Revisions)-1]
	if last.End != len(out) || last.IsStream != isStream {
		return bad("new revision does not end the file or has the wrong xref kind")
	}
	o, err := f.Object(sigNum)
	if err != nil {
		return bad(err.Error())
	}
	d, ok := o.(rawpdf.Dict)
	if !ok {
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
	if !ok || c.Start != br[1] || c.End != br[2] || !bytes.HasPrefix(c.Value, value) || !allZero(c.Value[len(value):]) {
		return bad("/Contents")
	}
	var msg, sig, got []byte
	switch format {
	case FormatSES:
		g, err := ParseSignature(c.Value)
		if err != nil {
			return bad(err.Error())
		}
		msg, sig, got = g.RawToSign, g.Value, g.DataHash
	case FormatPKCS7:
		ci, err := parseCMS(c.Value)
		if err != nil {
			return bad(err.Error())
		}
		msg, sig, got = ci.signedAttrs, ci.signature, ci.messageDigest
	}
	if !bytes.Equal(got, digest) {
		return bad("digest")
	}
	if ok, _, err := verifySM2Digest(z.pub, z.dig.digest(msg), sig); err != nil || !ok {
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
