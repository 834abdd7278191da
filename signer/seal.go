package signer

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// OIDs used by the seal codec.
var (
	// OIDSM3WithSM2 is 1.2.156.10197.1.501, the signature algorithm of seals
	// and seal signatures.
	OIDSM3WithSM2 = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 501}
)

// Certificate list types of SES_ESPropertyInfo.certListType.
const (
	CertListCerts   = 1 // certList holds signer certificates (DER)
	CertListDigests = 2 // certList holds CertDigestObj values
)

// Picture is the seal image (SES_ESPictrueInfo).
type Picture struct {
	// Type as written in the seal: "PNG", "GIF", "JPG", "BMP", "SVG", "ofd".
	Type string
	// Data holds the image (or OFD package) bytes.
	Data []byte
	// Width and Height are the display size in millimetres as written (some
	// producers write pixels; see Seal.Warnings).
	Width, Height int
}

// Extension is one ExtData entry (opaque to this package).
type Extension struct {
	ID       asn1.ObjectIdentifier
	Critical bool
	Value    []byte
}

// CertDigest is one CertDigestObj of a certListType 2 seal.
type CertDigest struct {
	Type  string
	Value []byte
}

// Seal is a parsed electronic seal (印章, SESeal) of version 1 (GM/T
// 0031-2014) or 4 (GB/T 38540-2020). Byte slices alias the parsed input.
type Seal struct {
	// Version is 1 or 4, taken from the structure (field count), not only
	// from the header.
	Version int
	// Raw is the complete SESeal element.
	Raw []byte
	// RawSealInfo is the SES_SealInfo element, tag and length included.
	RawSealInfo []byte
	// SignedMessage is what the maker signature covers: RawSealInfo for V4;
	// DER SEQUENCE { sealInfo, cert, signatureAlgorithm } for V1.
	SignedMessage []byte

	HeaderID      string // "ES"
	HeaderVersion int
	VID           string
	ESID          string
	Type          int
	Name          string
	// CertListType is 1 or 2 (V1 seals: 1).
	CertListType int
	// Certs are the signer certificates (DER) for type 1.
	Certs [][]byte
	// CertDigests are the signer certificate digests for type 2.
	CertDigests []CertDigest
	CreateDate  time.Time
	ValidStart  time.Time
	ValidEnd    time.Time
	Picture     Picture
	Extensions  []Extension

	// MakerCert is the seal maker (制章者) certificate, DER.
	MakerCert []byte
	// SignAlg is the maker signature algorithm.
	SignAlg asn1.ObjectIdentifier
	// SignedValue is the maker's signature value (DER or raw r||s).
	SignedValue []byte

	// Warnings lists tolerated deviations found while parsing.
	Warnings []string
}

// SealSpec holds the descriptive fields of a seal to make.
type SealSpec struct {
	// ESID is the unique seal code (IA5, required).
	ESID string
	// VID is the vendor id (IA5, required).
	VID string
	// Type is the business seal type (GB/T 38540 leaves it open; we use 1 for
	// unit seals).
	Type int
	// Name is the seal name, e.g. "电子证照专用章".
	Name       string
	CreateDate time.Time
	ValidStart time.Time
	ValidEnd   time.Time
}

// MakeSeal builds and signs a strict-DER V4 seal with certListType 1 listing
// signerCerts, signed by maker whose certificate is makerCert. Times are
// written as GeneralizedTime in UTC with second precision. Randomness for the
// SM2 signature comes from rnd.
func MakeSeal(rnd io.Reader, spec SealSpec, maker crypto.Signer, makerCert *Certificate, signerCerts []*Certificate, pic Picture) ([]byte, error) {
	if spec.ESID == "" || spec.VID == "" || spec.Name == "" {
		return nil, errors.New("signer: make seal: ESID, VID and Name are required")
	}
	if !isIA5(spec.ESID) || !isIA5(spec.VID) || !isIA5(pic.Type) || !utf8.ValidString(spec.Name) {
		return nil, errors.New("signer: make seal: ESID, VID and picture type must be ASCII, name UTF-8")
	}
	if len(signerCerts) == 0 || makerCert == nil {
		return nil, errors.New("signer: make seal: maker and at least one signer certificate required")
	}
	if !spec.ValidStart.Before(spec.ValidEnd) {
		return nil, errors.New("signer: make seal: validStart must precede validEnd")
	}
	if len(pic.Data) == 0 || pic.Type == "" || pic.Width <= 0 || pic.Height <= 0 {
		return nil, errors.New("signer: make seal: picture type, data and size required")
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SES_SealInfo
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			addString(b, cbasn1.Tag(22), "ES")
			b.AddASN1Int64(4)
			addString(b, cbasn1.Tag(22), spec.VID)
		})
		addString(b, cbasn1.Tag(22), spec.ESID)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(spec.Type))
			addString(b, cbasn1.UTF8String, spec.Name)
			b.AddASN1Int64(CertListCerts)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, c := range signerCerts {
					b.AddASN1OctetString(c.Raw())
				}
			})
			b.AddASN1GeneralizedTime(spec.CreateDate.UTC().Truncate(time.Second))
			b.AddASN1GeneralizedTime(spec.ValidStart.UTC().Truncate(time.Second))
			b.AddASN1GeneralizedTime(spec.ValidEnd.UTC().Truncate(time.Second))
		})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			addString(b, cbasn1.Tag(22), pic.Type)
			b.AddASN1OctetString(pic.Data)
			b.AddASN1Int64(int64(pic.Width))
			b.AddASN1Int64(int64(pic.Height))
		})
	})
	info, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("signer: make seal: %w", err)
	}
	sig, err := signMessage(maker, rnd, info)
	if err != nil {
		return nil, fmt.Errorf("signer: make seal: %w", err)
	}
	if ok, _, _ := verifySM2(makerCert.PublicKey(), info, sig); !ok {
		return nil, fmt.Errorf("%w: make seal: maker key does not match maker certificate", ErrVerify)
	}
	var o cryptobyte.Builder
	o.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(info)
		b.AddASN1OctetString(makerCert.Raw())
		b.AddASN1ObjectIdentifier(OIDSM3WithSM2)
		addBitString(b, sig)
	})
	return o.Bytes()
}

func addString(b *cryptobyte.Builder, tag cbasn1.Tag, s string) {
	b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes([]byte(s)) })
}

func addBitString(b *cryptobyte.Builder, v []byte) {
	b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
		b.AddUint8(0)
		b.AddBytes(v)
	})
}

func isIA5(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// maxSealSize bounds ParseSeal and ParseSignature input.
const maxSealSize = 16 << 20

// ParseSeal parses a V1 or V4 seal leniently (see the package documentation
// for the accepted deviations). Trailing zero bytes are ignored; other
// trailing data is an error.
func ParseSeal(der []byte) (s *Seal, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("%w: seal: %v", ErrMalformed, r)
		}
	}()
	if len(der) > maxSealSize {
		return nil, ErrTooLarge
	}
	raw, rest, ok := readElement(der)
	if !ok || !allZero(rest) {
		return nil, fmt.Errorf("%w: seal: not one DER element", ErrMalformed)
	}
	return parseSeal(raw)
}

type reader struct {
	s    cryptobyte.String
	what string
	err  error
	warn *[]string
}

func (r *reader) fail(field string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s: %s", ErrMalformed, r.what, field)
	}
}

func (r *reader) peek() cbasn1.Tag {
	if len(r.s) == 0 {
		return 0
	}
	return cbasn1.Tag(r.s[0])
}

// element reads the next element with the given tag; raw includes header.
func (r *reader) element(tag cbasn1.Tag, field string) (raw []byte, body cryptobyte.String) {
	if r.err != nil {
		return nil, nil
	}
	var full cryptobyte.String
	var t cbasn1.Tag
	if !r.s.ReadAnyASN1Element(&full, &t) || t != tag {
		r.fail(field)
		return nil, nil
	}
	body = full
	if !body.ReadASN1(&body, tag) {
		r.fail(field)
		return nil, nil
	}
	return full, body
}

func (r *reader) seq(field string) (raw []byte, sub *reader) {
	raw, body := r.element(cbasn1.SEQUENCE, field)
	return raw, &reader{s: body, what: r.what, warn: r.warn}
}

func (r *reader) integer(field string) int {
	_, body := r.element(cbasn1.INTEGER, field)
	if r.err != nil {
		return 0
	}
	if len(body) == 0 || len(body) > 8 {
		r.fail(field)
		return 0
	}
	if !minimalSigned(body) {
		r.note(field + ": non-minimal INTEGER")
	}
	v := new(big.Int).SetBytes(body)
	if body[0]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(body))))
	}
	if !v.IsInt64() || v.Int64() > 1<<31 || v.Int64() < -(1<<31) {
		r.fail(field)
		return 0
	}
	return int(v.Int64())
}

func minimalSigned(b []byte) bool {
	return len(b) == 1 || !(b[0] == 0 && b[1]&0x80 == 0 || b[0] == 0xff && b[1]&0x80 != 0)
}

func (r *reader) note(s string) {
	if r.warn != nil {
		*r.warn = append(*r.warn, s)
	}
}

// str reads any character string type (UTF8, Printable, IA5, Visible, T61).
func (r *reader) str(field string) string {
	if r.err != nil {
		return ""
	}
	var body cryptobyte.String
	var t cbasn1.Tag
	if !r.s.ReadAnyASN1(&body, &t) {
		r.fail(field)
		return ""
	}
	switch t {
	case cbasn1.UTF8String, cbasn1.PrintableString, cbasn1.IA5String, cbasn1.Tag(26), cbasn1.T61String:
	default:
		r.fail(field + ": not a string")
		return ""
	}
	if !utf8.Valid(body) {
		r.note(field + ": invalid UTF-8")
		return strings.ToValidUTF8(string(body), "\uFFFD")
	}
	return string(body)
}

func (r *reader) octets(field string) []byte {
	_, body := r.element(cbasn1.OCTET_STRING, field)
	return body
}

func (r *reader) oid(field string) asn1.ObjectIdentifier {
	var o asn1.ObjectIdentifier
	if r.err != nil {
		return nil
	}
	if !r.s.ReadASN1ObjectIdentifier(&o) {
		r.fail(field)
	}
	return o
}

// bits reads a BIT STRING with 0 unused bits; with octetOK an OCTET STRING
// is accepted too (seen in V1 producers).
func (r *reader) bits(field string, octetOK bool) []byte {
	if r.err != nil {
		return nil
	}
	if octetOK && r.peek() == cbasn1.OCTET_STRING {
		r.note(field + ": OCTET STRING instead of BIT STRING")
		return r.octets(field)
	}
	_, body := r.element(cbasn1.BIT_STRING, field)
	if r.err != nil {
		return nil
	}
	if len(body) == 0 || body[0] != 0 {
		r.fail(field + ": unused bits")
		return nil
	}
	return body[1:]
}

func (r *reader) time(field string) time.Time {
	if r.err != nil {
		return time.Time{}
	}
	var body cryptobyte.String
	var t cbasn1.Tag
	if !r.s.ReadAnyASN1(&body, &t) {
		r.fail(field)
		return time.Time{}
	}
	tm, err := parseASN1Time(t, string(body))
	if err != nil {
		r.fail(field + ": " + err.Error())
	}
	return tm
}

func parseASN1Time(t cbasn1.Tag, s string) (time.Time, error) {
	var layouts []string
	switch t {
	case cbasn1.UTCTime:
		layouts = []string{"060102150405Z0700", "0601021504Z0700", "060102150405Z", "0601021504Z"}
	case cbasn1.GeneralizedTime:
		layouts = []string{"20060102150405Z0700", "20060102150405.999999999Z0700", "20060102150405", "20060102150405.999999999", "200601021504Z0700"}
	default:
		return time.Time{}, errors.New("not a time")
	}
	for _, l := range layouts {
		if tm, err := time.Parse(l, s); err == nil {
			if t == cbasn1.UTCTime && tm.Year() >= 2050 {
				tm = tm.AddDate(-100, 0, 0)
			}
			return tm.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", s)
}

// readElement splits one DER element (with definite length) off in.
func readElement(in []byte) (elem, rest []byte, ok bool) {
	s := cryptobyte.String(in)
	var e cryptobyte.String
	var t cbasn1.Tag
	if !s.ReadAnyASN1Element(&e, &t) {
		return nil, nil, false
	}
	return e, s, true
}

func parseSeal(raw []byte) (*Seal, error) {
	s := &Seal{Raw: raw}
	top := &reader{s: raw, what: "seal", warn: &s.Warnings}
	_, r := top.seq("SESeal")
	if top.err != nil {
		return nil, top.err
	}
	s.RawSealInfo, _ = r.element(cbasn1.SEQUENCE, "eSealInfo")
	if r.err != nil {
		return nil, r.err
	}
	switch r.peek() {
	case cbasn1.OCTET_STRING: // V4: cert, signAlgID, signedValue
		s.Version = 4
		s.MakerCert = r.octets("cert")
		s.SignAlg = r.oid("signAlgID")
		s.SignedValue = r.bits("signedValue", false)
		s.SignedMessage = s.RawSealInfo
		if !r.s.Empty() {
			r.note("SESeal: extra trailing fields ignored")
		}
	case cbasn1.SEQUENCE: // V1: signInfo
		s.Version = 1
		_, si := r.seq("signInfo")
		rawCertStart := si.s
		s.MakerCert = si.octets("cert")
		s.SignAlg = si.oid("signatureAlgorithm")
		certAndAlg := rawCertStart[:len(rawCertStart)-len(si.s)]
		s.SignedValue = si.bits("signData", false)
		if si.err != nil {
			return nil, si.err
		}
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(s.RawSealInfo)
			b.AddBytes(certAndAlg)
		})
		s.SignedMessage, _ = b.Bytes()
	default:
		r.fail("unknown layout")
	}
	if r.err != nil {
		return nil, r.err
	}
	if err := s.parseSealInfo(); err != nil {
		return nil, err
	}
	if s.HeaderVersion != s.Version && !(s.Version == 1 && s.HeaderVersion == 2) && !(s.Version == 4 && s.HeaderVersion == 5) {
		s.Warnings = append(s.Warnings, fmt.Sprintf("header version %d with a V%d layout", s.HeaderVersion, s.Version))
	}
	return s, nil
}

func (s *Seal) parseSealInfo() error {
	top := &reader{s: s.RawSealInfo, what: "seal info", warn: &s.Warnings}
	_, r := top.seq("SES_SealInfo")
	_, h := r.seq("header")
	s.HeaderID = h.str("id")
	s.HeaderVersion = h.integer("version")
	s.VID = h.str("vid")
	if h.err != nil {
		return h.err
	}
	s.ESID = r.str("esID")
	_, p := r.seq("property")
	if r.err != nil {
		return r.err
	}
	s.Type = p.integer("type")
	s.Name = p.str("name")
	if p.peek() == cbasn1.INTEGER {
		s.CertListType = p.integer("certListType")
	} else {
		s.CertListType = CertListCerts
	}
	_, cl := p.seq("certList")
	for p.err == nil && cl.err == nil && !cl.s.Empty() {
		switch s.CertListType {
		case CertListCerts:
			s.Certs = append(s.Certs, cl.octets("cert"))
		case CertListDigests:
			_, d := cl.seq("certDigest")
			cd := CertDigest{Type: d.str("type"), Value: d.octets("value")}
			if d.err != nil {
				return d.err
			}
			s.CertDigests = append(s.CertDigests, cd)
		default:
			return fmt.Errorf("%w: seal: certListType %d", ErrMalformed, s.CertListType)
		}
	}
	if cl.err != nil {
		return cl.err
	}
	s.CreateDate = p.time("createDate")
	s.ValidStart = p.time("validStart")
	s.ValidEnd = p.time("validEnd")
	if p.err != nil {
		return p.err
	}
	_, pic := r.seq("picture")
	s.Picture.Type = pic.str("type")
	s.Picture.Data = pic.octets("data")
	s.Picture.Width = pic.integer("width")
	s.Picture.Height = pic.integer("height")
	if pic.err != nil {
		return pic.err
	}
	if s.Picture.Width > 200 || s.Picture.Height > 200 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("picture size %dx%d looks like pixels, not mm", s.Picture.Width, s.Picture.Height))
	}
	if r.err != nil {
		return r.err
	}
	exts, err := parseExtDatas(r, &s.Warnings)
	if err != nil {
		return err
	}
	s.Extensions = exts
	if !r.s.Empty() {
		return fmt.Errorf("%w: seal info: trailing fields", ErrMalformed)
	}
	return nil
}

// parseExtDatas reads an optional ExtensionDatas, untagged or [0] EXPLICIT.
func parseExtDatas(r *reader, warn *[]string) ([]Extension, error) {
	var list *reader
	switch r.peek() {
	case 0:
		return nil, nil
	case cbasn1.SEQUENCE:
		_, list = r.seq("extDatas")
	case cbasn1.Tag(0).Constructed().ContextSpecific():
		_, body := r.element(cbasn1.Tag(0).Constructed().ContextSpecific(), "extDatas")
		inner := &reader{s: body, what: r.what, warn: warn}
		_, list = inner.seq("extDatas")
		if inner.err != nil {
			return nil, inner.err
		}
	default:
		return nil, nil
	}
	if r.err != nil {
		return nil, r.err
	}
	var out []Extension
	for !list.s.Empty() && list.err == nil {
		_, e := list.seq("extData")
		x := Extension{ID: e.oid("extnID")}
		if e.peek() == cbasn1.BOOLEAN {
			_, b := e.element(cbasn1.BOOLEAN, "critical")
			x.Critical = len(b) == 1 && b[0] != 0
		}
		x.Value = e.octets("extnValue")
		if e.err != nil {
			return nil, e.err
		}
		out = append(out, x)
	}
	return out, list.err
}

// Signature is a parsed seal signature (签章, SES_Signature) of version 1 or
// 4. Byte slices alias the parsed input.
type Signature struct {
	// Version is 1 or 4 (structure-based; V4 files carry toSign.version 4).
	Version int
	// TBSVersion is toSign.version as written.
	TBSVersion int
	// Raw is the whole SES_Signature element.
	Raw []byte
	// RawToSign is the TBS_Sign element: the bytes the signature covers.
	RawToSign []byte
	// Seal is the embedded seal.
	Seal *Seal
	// TimeInfo is the signing time claimed by the signer (self-asserted).
	// Zero when a V1 timeInfo could not be read as a time.
	TimeInfo time.Time
	// DataHash is the digest of the protected data (SM3, 32 bytes).
	DataHash []byte
	// PropertyInfo describes the protected data.
	PropertyInfo string
	// SignerCert is the signer (签章者) certificate, DER.
	SignerCert []byte
	// SignAlg is the signature algorithm.
	SignAlg asn1.ObjectIdentifier
	// Value is the signature value (DER or raw r||s).
	Value []byte
	// TimeStamp is the optional time-stamp token (not verified here).
	TimeStamp  []byte
	Extensions []Extension
	// Warnings lists tolerated deviations found while parsing.
	Warnings []string
}

// ParseSignature parses a V1 or V4 SES_Signature leniently. Trailing zero
// bytes (padding in a PDF /Contents string) are ignored.
func ParseSignature(der []byte) (g *Signature, err error) {
	defer func() {
		if r := recover(); r != nil {
			g, err = nil, fmt.Errorf("%w: signature: %v", ErrMalformed, r)
		}
	}()
	if len(der) > maxSealSize {
		return nil, ErrTooLarge
	}
	raw, rest, ok := readElement(der)
	if !ok || !allZero(rest) {
		return nil, fmt.Errorf("%w: signature: not one DER element", ErrMalformed)
	}
	g = &Signature{Raw: raw}
	top := &reader{s: raw, what: "signature", warn: &g.Warnings}
	_, r := top.seq("SES_Signature")
	if top.err != nil {
		return nil, top.err
	}
	var tbs *reader
	g.RawToSign, tbs = r.seq("toSign")
	if r.err != nil {
		return nil, r.err
	}
	tbs.warn = &g.Warnings
	g.TBSVersion = tbs.integer("version")
	sealRaw, _ := tbs.element(cbasn1.SEQUENCE, "eseal")
	if tbs.err != nil {
		return nil, tbs.err
	}
	if g.Seal, err = parseSeal(sealRaw); err != nil {
		return nil, err
	}
	switch r.peek() {
	case cbasn1.OCTET_STRING: // V4
		g.Version = 4
		g.TimeInfo = tbs.time("timeInfo")
		g.DataHash = tbs.bits("dataHash", true)
		g.PropertyInfo = tbs.str("propertyInfo")
		if tbs.err != nil {
			return nil, tbs.err
		}
		if g.Extensions, err = parseExtDatas(tbs, &g.Warnings); err != nil {
			return nil, err
		}
		g.SignerCert = r.octets("cert")
		g.SignAlg = r.oid("signatureAlgID")
		g.Value = r.bits("signature", false)
		switch r.peek() {
		case 0:
		case cbasn1.BIT_STRING:
			g.TimeStamp = r.bits("timeStamp", true)
		case cbasn1.Tag(0).Constructed().ContextSpecific():
			_, body := r.element(cbasn1.Tag(0).Constructed().ContextSpecific(), "timeStamp")
			in := &reader{s: body, what: "signature"}
			g.TimeStamp = in.bits("timeStamp", true)
			if in.err != nil {
				return nil, in.err
			}
		case cbasn1.Tag(0).ContextSpecific():
			_, body := r.element(cbasn1.Tag(0).ContextSpecific(), "timeStamp")
			if len(body) > 0 {
				g.TimeStamp = body[1:]
			}
		}
	case cbasn1.BIT_STRING: // V1
		g.Version = 1
		if tbs.peek() == cbasn1.UTCTime || tbs.peek() == cbasn1.GeneralizedTime {
			g.TimeInfo = tbs.time("timeInfo")
		} else {
			ti := tbs.bits("timeInfo", true)
			if t, err := parseLooseTime(ti); err == nil {
				g.TimeInfo = t
			} else {
				g.Warnings = append(g.Warnings, "timeInfo is not a readable time")
			}
		}
		g.DataHash = tbs.bits("dataHash", true)
		g.PropertyInfo = tbs.str("propertyInfo")
		g.SignerCert = tbs.octets("cert")
		g.SignAlg = tbs.oid("signatureAlgorithm")
		g.Value = r.bits("signature", false)
		if tbs.err != nil {
			return nil, tbs.err
		}
	default:
		return nil, fmt.Errorf("%w: signature: unknown layout", ErrMalformed)
	}
	if r.err != nil {
		return nil, r.err
	}
	if !r.s.Empty() {
		g.Warnings = append(g.Warnings, "SES_Signature: extra trailing fields ignored")
	}
	return g, nil
}

// parseLooseTime reads V1 timeInfo contents: DER UTCTime/GeneralizedTime or
// text "2006-01-02 15:04:05" (taken as UTC+8) or "20060102150405Z".
func parseLooseTime(b []byte) (time.Time, error) {
	if e, _, ok := readElement(b); ok && len(e) == len(b) {
		var body cryptobyte.String
		var t cbasn1.Tag
		s := cryptobyte.String(b)
		if s.ReadAnyASN1(&body, &t) {
			return parseASN1Time(t, string(body))
		}
	}
	str := string(bytes.TrimSpace(b))
	if t, err := time.ParseInLocation("2006-01-02 15:04:05", str, chinaTZ); err == nil {
		return t.UTC(), nil
	}
	return parseASN1Time(cbasn1.GeneralizedTime, str)
}

// chinaTZ is UTC+8 (China Standard Time), used for /M and local text times.
var chinaTZ = time.FixedZone("CST", 8*3600)
