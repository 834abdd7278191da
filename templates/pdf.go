package templates

import (
	"bytes"
	"crypto/sha256"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/klauspost/compress/zlib"

	"elicense/catalog"
)

// Object numbers of the fixed document structure.
const (
	objCatalog = 1 + iota
	objPages
	objPage
	objStatic
	objContent
	objFont
	objCIDFont
	objDescriptor
	objFontFile
	objToUnicode
	objInfo
	objMetadata
	// The background's objects (objBackground, …) follow, then the photo.
)

// XMPNamespace is the namespace of the license metadata in the XMP packet
// (prefix "els"); docs/formats.md lists its properties.
const XMPNamespace = "urn:elicense:xmp:license:1.0/"

type pdfw struct {
	b    []byte
	offs []int
	e    *Engine
}

func (p *pdfw) obj(n int) {
	p.offs[n] = len(p.b)
	p.b = strconv.AppendInt(p.b, int64(n), 10)
	p.b = append(p.b, " 0 obj\n"...)
}

func (p *pdfw) s(s string) { p.b = append(p.b, s...) }
func (p *pdfw) i(n int)    { p.b = strconv.AppendInt(p.b, int64(n), 10) }
func (p *pdfw) ref(n int)  { p.i(n); p.s(" 0 R") }
func (p *pdfw) end()       { p.s("\nendobj\n") }

// stream writes a stream object body: dict entries (without << >>) and data.
func (p *pdfw) stream(dict string, data []byte) {
	p.s("<<")
	p.s(dict)
	p.s("/Length ")
	p.i(len(data))
	p.s(">>\nstream\n")
	p.b = append(p.b, data...)
	p.s("\nendstream")
}

// zstream deflates data at the engine's level and writes it as a stream.
func (p *pdfw) zstream(dict string, data []byte) error {
	z := bytes.NewBuffer(getBuf(len(data)/2 + 64))
	w, _ := p.e.zpool.Get().(*zlib.Writer)
	if w == nil {
		var err error
		if w, err = zlib.NewWriterLevel(z, p.e.level); err != nil {
			return err
		}
	} else {
		w.Reset(z)
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	p.e.zpool.Put(w)
	p.stream(dict+"/Filter/FlateDecode", z.Bytes())
	putBuf(z.Bytes())
	return nil
}

// pdfText appends a PDF text string: literal for printable ASCII, else
// UTF-16BE hex with a byte order mark.
func pdfText(b []byte, s string) []byte {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7E {
			ascii = false
			break
		}
	}
	if ascii {
		b = append(b, '(')
		for i := 0; i < len(s); i++ {
			if c := s[i]; c == '(' || c == ')' || c == '\\' {
				b = append(b, '\\')
			}
			b = append(b, s[i])
		}
		return append(b, ')')
	}
	b = append(b, "<FEFF"...)
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, hexDigits[u>>12], hexDigits[u>>8&15], hexDigits[u>>4&15], hexDigits[u&15])
	}
	return append(b, '>')
}

func pdfDate(t time.Time) string {
	if t.IsZero() {
		t = time.Unix(0, 0).UTC()
	}
	s := t.Format("20060102150405")
	_, off := t.Zone()
	if off == 0 {
		return "D:" + s + "Z"
	}
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return "D:" + s + sign + twoDigits(off/3600) + "'" + twoDigits(off%3600/60) + "'"
}

func twoDigits(n int) string { return string([]byte{byte('0' + n/10%10), byte('0' + n%10)}) }

// meta is the metadata of GB/T 36903 carried in the Info dictionary (as
// /EL… keys) and the XMP packet (as els: properties), in a fixed order.
func meta(c *compiled, lic *catalog.License) [][2]string {
	t := c.t.Type
	typeName := lic.TypeName
	if typeName == "" {
		typeName = t.Name
	}
	typeCode := lic.TypeCode
	if typeCode == "" {
		typeCode = t.Code
	}
	number := lic.Number
	if number == "" {
		number = lic.Values[t.NumberKey()]
	}
	holder := lic.Holder.Name
	if holder == "" {
		holder = lic.Values["holder_name"]
	}
	codeType := lic.Holder.CodeType
	if codeType == "" {
		codeType = t.Holder.CodeType()
	}
	from, until := lic.ValidFrom, lic.ValidUntil
	if from == "" {
		from = lic.Values["valid_from"]
	}
	if until == "" {
		until = lic.Values["valid_until"]
	}
	issued := ""
	if !lic.IssuedAt.IsZero() {
		issued = lic.IssuedAt.Format(catalog.DateLayout)
	}
	return [][2]string{
		{"Identifier", lic.ID},
		{"TypeName", typeName},
		{"TypeCode", typeCode},
		{"LicenseNumber", number},
		{"IssuerName", lic.IssuerName},
		{"IssuerCode", lic.IssuerUSCC},
		{"IssueDate", issued},
		{"HolderName", holder},
		{"HolderCodeType", codeType},
		{"ValidFrom", from},
		{"ValidUntil", until},
		{"Version", strconv.Itoa(max(lic.Version, 1))},
	}
}

var xmlEsc = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

func xmp(m [][2]string, title, producer string, created time.Time, docID string) []byte {
	var b strings.Builder
	b.WriteString("<?xpacket begin=\"\uFEFF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n")
	b.WriteString("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n")
	b.WriteString("<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\" xmlns:xmpMM=\"http://ns.adobe.com/xap/1.0/mm/\" xmlns:els=\"" + XMPNamespace + "\">\n")
	b.WriteString("<dc:format>application/pdf</dc:format>\n")
	b.WriteString("<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">" + xmlEsc.Replace(title) + "</rdf:li></rdf:Alt></dc:title>\n")
	b.WriteString("<dc:identifier>" + xmlEsc.Replace(m[0][1]) + "</dc:identifier>\n")
	b.WriteString("<xmp:CreateDate>" + created.Format(time.RFC3339) + "</xmp:CreateDate>\n")
	b.WriteString("<xmp:CreatorTool>" + producer + "</xmp:CreatorTool>\n")
	b.WriteString("<pdf:Producer>" + producer + "</pdf:Producer>\n")
	b.WriteString("<xmpMM:DocumentID>uuid:" + docID + "</xmpMM:DocumentID>\n")
	for _, kv := range m {
		b.WriteString("<els:" + kv[0] + ">" + xmlEsc.Replace(kv[1]) + "</els:" + kv[0] + ">\n")
	}
	b.WriteString("</rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n")
	b.WriteString(strings.Repeat(strings.Repeat(" ", 99)+"\n", 4))
	b.WriteString("<?xpacket end=\"w\"?>")
	return []byte(b.String())
}

// Producer is written to the Info dictionary and the XMP packet.
const Producer = "elicense templates"

func uuidOf(h []byte) string {
	const x = "0123456789abcdef"
	var b []byte
	for i := 0; i < 16; i++ {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, x[h[i]>>4], x[h[i]&15])
	}
	return string(b)
}

func (e *Engine) writePDF(c *compiled, d *doc, lic *catalog.License, photo *imageXObject) ([]byte, error) {
	t := c.t
	sub := d.sub
	used := sub.used
	fontProg, fontParts := sub.build()
	defer putBuf(fontProg)
	// A content-derived document ID: hash of everything that varies.
	// The subset program is a function of the glyph list, so the list
	// stands for it.
	h := sha256.New()
	h.Write(d.cs)
	gl := make([]byte, 0, 2*len(sub.orig))
	for _, g := range sub.orig {
		gl = append(gl, byte(g>>8), byte(g))
	}
	h.Write(gl)
	m := meta(c, lic)
	for _, kv := range m {
		h.Write([]byte(kv[0] + "=" + kv[1] + "\n"))
	}
	if photo != nil {
		h.Write(photo.data)
	}
	if c.bg != nil {
		h.Write(c.bg.sum[:])
	}
	h.Write([]byte(t.Key))
	sum := h.Sum(nil)
	docID := uuidOf(sum)
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = 'A' + sum[16+i]%26
	}
	fontName := string(tag) + "+" + e.font.psName

	nobj := objMetadata
	bgLen := 0
	if c.bg != nil {
		nobj += len(c.bg.offs)
		bgLen = len(c.bg.objs)
	}
	objPhoto := nobj + 1
	if photo != nil {
		nobj = objPhoto
	}
	p := &pdfw{b: getBuf(len(fontProg)/2 + len(d.cs)/2 + len(c.static) + bgLen + 16384), offs: make([]int, nobj+1), e: e}
	p.s("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n")

	p.obj(objCatalog)
	p.s("<</Type/Catalog/Pages ")
	p.ref(objPages)
	p.s("/Metadata ")
	p.ref(objMetadata)
	p.s("/Lang(zh-CN)/ViewerPreferences<</DisplayDocTitle true>>>>")
	p.end()

	p.obj(objPages)
	p.s("<</Type/Pages/Kids[")
	p.ref(objPage)
	p.s("]/Count 1>>")
	p.end()

	pw, ph := t.Page.Width*ptPerMM, t.Page.Height*ptPerMM
	p.obj(objPage)
	p.s("<</Type/Page/Parent ")
	p.ref(objPages)
	p.s("/MediaBox[0 0 ")
	p.b = num(p.b, pw)
	p.s(" ")
	p.b = num(p.b, ph)
	p.s("]/Resources<</Font<</F1 ")
	p.ref(objFont)
	p.s(">>")
	if photo != nil || c.bg != nil {
		p.s("/XObject<<")
		if c.bg != nil {
			p.s("/" + bgXObject + " ")
			p.ref(objBackground)
		}
		if photo != nil {
			p.s("/Im1 ")
			p.ref(objPhoto)
		}
		p.s(">>")
	}
	if c.bg != nil && c.bg.gs != "" {
		p.s("/ExtGState<</" + bgExtGState)
		p.s(c.bg.gs)
		p.s(">>")
	}
	p.s(">>/Contents[")
	p.ref(objStatic)
	p.s(" ")
	p.ref(objContent)
	p.s("]")
	for _, s := range []struct {
		key string
		r   [4]float64
	}{{"/ELSealSlot", slotRect(t, t.Slots.Seal)}, {"/ELQRSlot", slotRect(t, t.Slots.QR)}} {
		p.s(s.key)
		p.s("[")
		for i, v := range s.r {
			if i > 0 {
				p.s(" ")
			}
			p.b = num(p.b, v)
		}
		p.s("]")
	}
	p.s(">>")
	p.end()

	p.obj(objStatic)
	p.stream("/Filter/FlateDecode", c.static)
	p.end()

	p.obj(objContent)
	if err := p.zstream("", d.cs); err != nil {
		return nil, err
	}
	p.end()

	p.obj(objFont)
	p.s("<</Type/Font/Subtype/Type0/BaseFont/")
	p.s(fontName)
	p.s("/Encoding/Identity-H/DescendantFonts[")
	p.ref(objCIDFont)
	p.s("]/ToUnicode ")
	p.ref(objToUnicode)
	p.s(">>")
	p.end()

	f := e.font
	scale := func(v int) int { return v * 1000 / f.unitsPerEm }
	p.obj(objCIDFont)
	p.s("<</Type/Font/Subtype/CIDFontType2/BaseFont/")
	p.s(fontName)
	p.s("/CIDSystemInfo<</Registry(Adobe)/Ordering(Identity)/Supplement 0>>/FontDescriptor ")
	p.ref(objDescriptor)
	p.s("/CIDToGIDMap/Identity/DW 1000/W[1[")
	for cid := 1; cid <= used; cid++ {
		if cid > 1 {
			p.s(" ")
		}
		p.i(scale(f.advance(sub.orig[cid])))
	}
	p.s("]]>>")
	p.end()

	p.obj(objDescriptor)
	p.s("<</Type/FontDescriptor/FontName/")
	p.s(fontName)
	p.s("/Flags 4/FontBBox[")
	for i, v := range f.bbox {
		if i > 0 {
			p.s(" ")
		}
		p.i(scale(v))
	}
	p.s("]/ItalicAngle 0/Ascent ")
	p.i(scale(f.ascent))
	p.s("/Descent ")
	p.i(scale(f.descent))
	p.s("/CapHeight ")
	p.i(scale(f.ascent))
	p.s("/StemV 80/FontFile2 ")
	p.ref(objFontFile)
	p.s(">>")
	p.end()

	p.obj(objFontFile)
	fz := getBuf(len(fontProg)*3/4 + 64)
	fz = e.fontStream(fz, fontProg, fontParts)
	p.stream("/Length1 "+strconv.Itoa(len(fontProg))+"/Filter/FlateDecode", fz)
	putBuf(fz)
	p.end()

	p.obj(objToUnicode)
	if err := p.zstream("", toUnicode(sub.runes[:used+1])); err != nil {
		return nil, err
	}
	p.end()

	title := t.Type.Name
	if n := m[3][1]; n != "" {
		title += " " + n
	}
	created := lic.IssuedAt
	if created.IsZero() {
		created = time.Unix(0, 0).UTC()
	}
	p.obj(objInfo)
	p.s("<</Title")
	p.b = pdfText(p.b, title)
	p.s("/Author")
	p.b = pdfText(p.b, lic.IssuerName)
	p.s("/Subject")
	p.b = pdfText(p.b, m[1][1])
	p.s("/Creator(")
	p.s(Producer)
	p.s(")/Producer(")
	p.s(Producer)
	p.s(")/CreationDate(")
	p.s(pdfDate(created))
	p.s(")/ModDate(")
	p.s(pdfDate(created))
	p.s(")")
	for _, kv := range m {
		p.s("/EL")
		p.s(kv[0])
		p.b = pdfText(p.b, kv[1])
	}
	p.s(">>")
	p.end()

	p.obj(objMetadata)
	p.stream("/Type/Metadata/Subtype/XML", xmp(m, title, Producer, created, docID))
	p.end()

	if bg := c.bg; bg != nil {
		base := len(p.b)
		p.b = append(p.b, bg.objs...)
		for i, off := range bg.offs {
			p.offs[objBackground+i] = base + off
		}
	}

	if photo != nil {
		p.obj(objPhoto)
		dict := "/Type/XObject/Subtype/Image/Width " + strconv.Itoa(photo.w) + "/Height " + strconv.Itoa(photo.h) +
			"/ColorSpace/" + photo.cs + "/BitsPerComponent 8"
		if photo.raw {
			if err := p.zstream(dict, photo.data); err != nil {
				return nil, err
			}
		} else {
			p.stream(dict+"/Filter/"+photo.filter, photo.data)
		}
		p.end()
	}

	xref := len(p.b)
	p.s("xref\n0 ")
	p.i(nobj + 1)
	p.s("\n0000000000 65535 f \n")
	for n := 1; n <= nobj; n++ {
		o := strconv.Itoa(p.offs[n])
		p.s(strings.Repeat("0", 10-len(o)))
		p.s(o)
		p.s(" 00000 n \n")
	}
	id := sum[:16]
	p.s("trailer\n<</Size ")
	p.i(nobj + 1)
	p.s("/Root ")
	p.ref(objCatalog)
	p.s("/Info ")
	p.ref(objInfo)
	p.s("/ID[<")
	for _, c := range id {
		p.b = append(p.b, hexDigits[c>>4], hexDigits[c&15])
	}
	p.s("><")
	for _, c := range id {
		p.b = append(p.b, hexDigits[c>>4], hexDigits[c&15])
	}
	p.s(">]>>\nstartxref\n")
	p.i(xref)
	p.s("\n%%EOF\n")
	return p.b, nil
}

// toUnicode builds a ToUnicode CMap mapping every subset id 1..n to its
// character, in blocks of at most 100 entries.
func toUnicode(runes []rune) []byte {
	b := make([]byte, 0, 400+len(runes)*16)
	b = append(b, "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"...)
	n := len(runes) - 1
	for start := 1; start <= n; start += 100 {
		end := min(start+99, n)
		b = strconv.AppendInt(b, int64(end-start+1), 10)
		b = append(b, " beginbfchar\n"...)
		for cid := start; cid <= end; cid++ {
			b = append(b, '<', hexDigits[cid>>12&15], hexDigits[cid>>8&15], hexDigits[cid>>4&15], hexDigits[cid&15], '>', ' ', '<')
			for _, u := range utf16.Encode([]rune{runes[cid]}) {
				b = append(b, hexDigits[u>>12], hexDigits[u>>8&15], hexDigits[u>>4&15], hexDigits[u&15])
			}
			b = append(b, ">\n"...)
		}
		b = append(b, "endbfchar\n"...)
	}
	b = append(b, "endcmap\nCMapName currentdict /CMapResource defineresource pop\nend\nend\n"...)
	return b
}
