package templates

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// pdfPage is the geometry of an imported page: its visible box in the
// source's user space and its /Rotate.
type pdfPage struct {
	box    [4]float64 // llx lly urx ury
	rotate int        // 0, 90, 180 or 270, clockwise
}

func (p pdfPage) width() float64 {
	if p.rotate%180 != 0 {
		return p.box[3] - p.box[1]
	}
	return p.box[2] - p.box[0]
}

func (p pdfPage) height() float64 {
	if p.rotate%180 != 0 {
		return p.box[2] - p.box[0]
	}
	return p.box[3] - p.box[1]
}

// matrix returns the "a b c d e f " operands of the cm that maps the page,
// as displayed (rotated), onto the rectangle x, y, w, h in points.
func (p pdfPage) matrix(x, y, w, h float64) []byte {
	x0, y0 := p.box[0], p.box[1]
	bw, bh := p.box[2]-x0, p.box[3]-y0
	sx, sy := w/p.width(), h/p.height()
	switch p.rotate {
	case 90:
		return appendNums(nil, 0, -sy, sx, 0, x-sx*y0, y+sy*(bw+x0))
	case 180:
		return appendNums(nil, -sx, 0, 0, -sy, x+sx*(bw+x0), y+sy*(bh+y0))
	case 270:
		return appendNums(nil, 0, sy, -sx, 0, x+sx*(bh+y0), y-sy*x0)
	}
	return appendNums(nil, sx, 0, 0, sy, x-sx*x0, y-sy*y0)
}

// readConf reads a PDF without touching pdfcpu's configuration directory.
func readConf() *model.Configuration {
	return &model.Configuration{
		Version:                   model.VersionStr,
		Reader15:                  true,
		ValidationMode:            model.ValidationRelaxed,
		UnsupportedResourcePolicy: model.UnsupportedResourceSkip,
		Eol:                       types.EolLF,
		Offline:                   true,
		Limits:                    model.DefaultResourceLimits(),
	}
}

// importPDFPage writes page pageNr of the PDF data as a Form XObject (the
// first object of w), with everything its content and resources refer to
// copied and renumbered. Encrypted files, annotations, optional content,
// external streams and references to document structure are refused. With
// group set, a page without /Group becomes a transparency group, so that an
// opacity applies to the page as a whole.
func importPDFPage(w *objWriter, data []byte, pageNr int, group bool) (pg pdfPage, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot read the PDF: %v", r)
		}
	}()
	ctx, err := pdfcpu.Read(bytes.NewReader(data), readConf())
	if err != nil {
		if bytes.Contains(data, []byte("/Encrypt")) {
			return pg, errors.New("the PDF is encrypted; save it without a password or permissions")
		}
		return pg, fmt.Errorf("cannot read the PDF: %w", err)
	}
	if ctx.Encrypt != nil {
		return pg, errors.New("the PDF is encrypted; save it without a password or permissions")
	}
	if err := ctx.EnsurePageCount(); err != nil {
		return pg, fmt.Errorf("cannot read the page tree: %w", err)
	}
	if pageNr > ctx.PageCount {
		return pg, fmt.Errorf("out of range: the PDF has %d page(s)", ctx.PageCount)
	}
	page, _, inh, err := ctx.PageDict(pageNr, false)
	if err != nil {
		return pg, fmt.Errorf("cannot read the page: %w", err)
	}
	if a, err := ctx.DereferenceArray(page["Annots"]); err != nil || len(a) > 0 {
		return pg, errors.New("the page has annotations or form fields, which a background cannot carry; flatten them")
	}
	if u, ok := page["UserUnit"]; ok {
		if v, err := ctx.DereferenceNumber(u); err != nil || v != 1 {
			return pg, errors.New("the page has a /UserUnit other than 1")
		}
	}
	if inh.MediaBox == nil {
		return pg, errors.New("the page has no MediaBox")
	}
	m := inh.MediaBox
	pg.box = [4]float64{m.LL.X, m.LL.Y, m.UR.X, m.UR.Y}
	if c := inh.CropBox; c != nil {
		pg.box = [4]float64{max(pg.box[0], c.LL.X), max(pg.box[1], c.LL.Y), min(pg.box[2], c.UR.X), min(pg.box[3], c.UR.Y)}
	}
	if !finite(pg.box[:]...) || pg.box[2]-pg.box[0] < 1 || pg.box[3]-pg.box[1] < 1 {
		return pg, errors.New("the page's crop box is empty")
	}
	pg.rotate = (inh.Rotate%360 + 360) % 360
	if pg.rotate%90 != 0 {
		return pg, fmt.Errorf("/Rotate %d is not a multiple of 90", inh.Rotate)
	}
	content, err := pageContent(ctx, page)
	if err != nil {
		return pg, err
	}
	if len(bytes.TrimSpace(content)) == 0 {
		return pg, errors.New("the page draws nothing")
	}
	z, err := deflate(content, 9)
	if err != nil {
		return pg, err
	}

	im := &pdfImport{ctx: ctx, w: w, num: map[int]int{}, next: w.base + 1}
	w.begin()
	d := []byte("<</Type/XObject/Subtype/Form/FormType 1/BBox[")
	d = bytes.TrimSuffix(appendNums(d, pg.box[:]...), []byte(" "))
	d = append(d, "]/Resources "...)
	var res types.Object = types.Dict{}
	if inh.Resources != nil {
		res = inh.Resources
	}
	if d, err = im.value(d, res, 0); err != nil {
		return pg, err
	}
	g, ok := page["Group"]
	if !ok && group {
		g, ok = types.Dict{"Type": types.Name("Group"), "S": types.Name("Transparency")}, true
	}
	if ok {
		d = append(d, "/Group "...)
		if d, err = im.value(d, g, 0); err != nil {
			return pg, err
		}
	}
	d = append(d, "/Filter/FlateDecode/Length "...)
	d = strconv.AppendInt(d, int64(len(z)), 10)
	d = append(d, ">>\nstream\n"...)
	w.b = append(append(append(w.b, d...), z...), "\nendstream"...)
	w.end()
	for i := 0; i < len(im.queue); i++ {
		if err := im.object(im.queue[i]); err != nil {
			return pg, err
		}
		if len(w.b) > maxBackgroundBytes {
			return pg, fmt.Errorf("more than %d bytes to copy", maxBackgroundBytes)
		}
	}
	return pg, nil
}

// pageContent returns the decoded content streams of page, concatenated.
func pageContent(ctx *model.Context, page types.Dict) ([]byte, error) {
	o, err := ctx.Dereference(page["Contents"])
	if err != nil {
		return nil, fmt.Errorf("cannot read /Contents: %w", err)
	}
	var parts []types.Object
	switch v := o.(type) {
	case nil:
	case types.StreamDict:
		parts = append(parts, v)
	case types.Array:
		parts = v
	default:
		return nil, fmt.Errorf("/Contents is a %T", o)
	}
	var out []byte
	for i, p := range parts {
		sd, _, err := ctx.DereferenceStreamDict(p)
		if err != nil {
			return nil, fmt.Errorf("content stream %d: %w", i+1, err)
		}
		if sd == nil {
			continue
		}
		if err := sd.Decode(); err != nil {
			return nil, fmt.Errorf("content stream %d: %w", i+1, err)
		}
		out = append(out, sd.Content...)
		out = append(out, '\n')
	}
	return out, nil
}

// pdfImport copies objects of a source PDF, renumbering them in the order
// they are first referred to.
type pdfImport struct {
	ctx   *model.Context
	w     *objWriter
	num   map[int]int // source object number → output number
	queue []int       // source object numbers, in output order
	next  int
}

// ref returns the output number of source object n.
func (im *pdfImport) ref(n int) (int, error) {
	if v, ok := im.num[n]; ok {
		return v, nil
	}
	if len(im.queue) >= maxBackgroundObjs {
		return 0, fmt.Errorf("more than %d objects to copy", maxBackgroundObjs)
	}
	v := im.next
	im.next++
	im.num[n] = v
	im.queue = append(im.queue, n)
	return v, nil
}

// object writes source object n as the next output object.
func (im *pdfImport) object(n int) (err error) {
	w := im.w
	w.begin()
	defer w.end()
	e, ok := im.ctx.Find(n)
	if !ok || e == nil || e.Free || e.Object == nil {
		w.b = append(w.b, "null"...)
		return nil
	}
	gen := 0
	if e.Generation != nil {
		gen = *e.Generation
	}
	obj, err := im.ctx.Dereference(*types.NewIndirectRef(n, gen)) // also decodes objects in object streams
	if err != nil {
		return fmt.Errorf("object %d: %w", n, err)
	}
	switch o := obj.(type) {
	case types.StreamDict:
		if err := im.checkDict(o.Dict); err != nil {
			return fmt.Errorf("object %d: %w", n, err)
		}
		if _, ok := o.Dict["F"]; ok {
			return fmt.Errorf("object %d: stream data in an external file", n)
		}
		for _, f := range o.FilterPipeline {
			if f.Name == "Crypt" {
				return fmt.Errorf("object %d: encrypted stream", n)
			}
		}
		d := types.Dict{}
		for k, v := range o.Dict {
			switch k {
			case "Length", "StructParent", "StructParents":
			default:
				d[k] = v
			}
		}
		d["Length"] = types.Integer(len(o.Raw))
		if w.b, err = im.value(w.b, d, 0); err != nil {
			return fmt.Errorf("object %d: %w", n, err)
		}
		w.b = append(w.b, "\nstream\n"...)
		w.b = append(w.b, o.Raw...)
		w.b = append(w.b, "\nendstream"...)
	case types.ObjectStreamDict, types.XRefStreamDict:
		return fmt.Errorf("object %d: refers to the file's cross-reference or object streams", n)
	default:
		if w.b, err = im.value(w.b, o, 0); err != nil {
			return fmt.Errorf("object %d: %w", n, err)
		}
	}
	return nil
}

// Dictionaries a background must not copy: document structure, interactive
// features, optional content and signatures.
var refusedTypes = map[string]string{
	"Catalog": "the document catalog", "Pages": "the page tree", "Page": "a page",
	"Annot": "an annotation", "Action": "an action", "Sig": "a signature", "DocTimeStamp": "a signature",
	"OCG": "optional content (layers)", "OCMD": "optional content (layers)",
	"Filespec": "an attached file", "EmbeddedFile": "an attached file",
	"ObjStm": "an object stream", "XRef": "a cross-reference stream",
}

var refusedActions = map[string]bool{"JavaScript": true, "Launch": true, "URI": true, "SubmitForm": true,
	"ImportData": true, "ResetForm": true, "GoToR": true, "GoToE": true, "Rendition": true, "Sound": true, "Movie": true}

func (im *pdfImport) checkDict(d types.Dict) error {
	if t, ok := d["Type"].(types.Name); ok {
		if what, bad := refusedTypes[string(t)]; bad {
			return fmt.Errorf("refers to %s, which a background cannot carry", what)
		}
	}
	if s, ok := d["S"].(types.Name); ok && refusedActions[string(s)] {
		return fmt.Errorf("holds a %s action, which a background cannot carry", s)
	}
	for _, k := range []string{"OC", "JS", "ByteRange", "AA"} {
		if _, ok := d[k]; ok {
			what := map[string]string{"OC": "optional content (layers)", "JS": "JavaScript", "ByteRange": "a signature", "AA": "actions"}[k]
			return fmt.Errorf("uses %s, which a background cannot carry", what)
		}
	}
	return nil
}

// value appends o in PDF syntax, with indirect references renumbered.
// Dictionary keys are written in sorted order, strings as hex strings.
func (im *pdfImport) value(b []byte, o types.Object, depth int) ([]byte, error) {
	if depth > 64 {
		return nil, errors.New("objects nested too deeply")
	}
	var err error
	switch v := o.(type) {
	case nil:
		b = append(b, "null"...)
	case types.Boolean:
		b = strconv.AppendBool(b, bool(v))
	case types.Integer:
		b = strconv.AppendInt(b, int64(v), 10)
	case types.Float:
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errors.New("a number is not finite")
		}
		b = strconv.AppendFloat(b, f, 'f', -1, 64)
	case types.Name:
		b = appendName(b, string(v))
	case types.StringLiteral:
		s, err := types.Unescape(string(v))
		if err != nil {
			return nil, err
		}
		b = appendHex(b, s)
	case types.HexLiteral:
		s := make([]byte, 0, len(v)+1)
		for i := 0; i < len(v); i++ {
			if c := v[i]; c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' {
				s = append(s, c)
			}
		}
		if len(s)%2 == 1 {
			s = append(s, '0')
		}
		b = append(append(append(b, '<'), s...), '>')
	case types.Array:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ' ')
			}
			if b, err = im.value(b, e, depth+1); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	case types.Dict:
		if err := im.checkDict(v); err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, "<<"...)
		for _, k := range keys {
			b = appendName(b, k)
			b = append(b, ' ')
			if b, err = im.value(b, v[k], depth+1); err != nil {
				return nil, err
			}
		}
		b = append(b, ">>"...)
	case types.IndirectRef:
		n, err := im.ref(v.ObjectNumber.Value())
		if err != nil {
			return nil, err
		}
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, " 0 R"...)
	default:
		return nil, fmt.Errorf("unsupported object %T", o)
	}
	return b, nil
}

// appendName appends /name, escaping bytes outside the regular characters.
func appendName(b []byte, s string) []byte {
	b = append(b, '/')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7E || bytes.IndexByte([]byte("()<>[]{}/%#"), c) >= 0 {
			b = append(b, '#', hexDigits[c>>4], hexDigits[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}

func appendHex(b, s []byte) []byte {
	b = append(b, '<')
	for _, c := range s {
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	return append(b, '>')
}
