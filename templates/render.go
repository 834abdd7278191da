package templates

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // photo decoding
	_ "image/png"  // photo decoding
	"io"
	"math"
	"math/bits"
	"slices"
	"strconv"

	"github.com/klauspost/compress/zlib"

	"elicense/catalog"
)

// RenderOptions vary one rendering of a license.
type RenderOptions struct {
	// QRText is encoded in the QR slot (error correction level Q). Empty
	// leaves the slot blank.
	QRText string
	// Specimen draws a 样本 / SPECIMEN watermark over an unsealed preview.
	Specimen bool
}

// Render writes lic as a one-page PDF 1.7 to w. It draws lic.Values with the
// template of lic.TypeKey, plus lic.ID, lic.IssuerName and lic.IssuedAt where
// the template places them. Nothing is written unless the whole document was
// built: an uncovered character or a value that does not fit returns an
// error wrapping ErrRender and a *catalog.ValidationError naming the fields.
// The output depends only on lic and opts (byte-identical for equal input).
func (e *Engine) Render(w io.Writer, lic *catalog.License, opts RenderOptions) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: internal error: %v", ErrRender, lic.ID, r)
		}
	}()
	c, ok := e.tmpl[lic.TypeKey]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownType, lic.TypeKey)
	}
	buf, err := e.build(c, lic, opts)
	if err != nil {
		return err
	}
	_, err = w.Write(buf)
	putBuf(buf)
	return err
}

// doc is the per-document state.
type doc struct {
	e     *Engine
	t     *Template
	sub   *subset
	cs    []byte // dynamic content stream
	pageH float64
}

func (d *doc) x(mm float64) float64 { return mm * ptPerMM }
func (d *doc) y(mm float64) float64 { return (d.pageH - mm) * ptPerMM }

// text appends a BT…ET block drawing s with its left edge at (x, y) points.
func (d *doc) text(s []rune, x, y, size, spacing float64, bold bool, color string) {
	b := d.cs
	b = append(b, "BT\n/F1 "...)
	b = num(b, size)
	b = append(b, " Tf\n"...)
	b = rgb(b, color, "rg\n")
	if bold {
		b = rgb(b, color, "RG\n2 Tr ")
		b = num(b, size/30)
		b = append(b, " w\n"...)
	}
	if spacing != 0 {
		b = num(b, spacing)
		b = append(b, " Tc\n"...)
	}
	b = append(b, "1 0 0 1 "...)
	b = num(b, x)
	b = append(b, ' ')
	b = num(b, y)
	b = append(b, " Tm\n<"...)
	for _, r := range s {
		cid, _ := d.sub.cid(r)
		b = append(b, hexDigits[cid>>12], hexDigits[cid>>8&15], hexDigits[cid>>4&15], hexDigits[cid&15])
	}
	b = append(b, "> Tj\nET\n"...)
	if bold {
		b = append(b, "0 Tr\n"...)
	}
	if spacing != 0 {
		b = append(b, "0 Tc\n"...)
	}
	d.cs = b
}

const hexDigits = "0123456789ABCDEF"

// aligned returns the left edge of a run of width w aligned in [x, x+width].
func aligned(align string, x, width, w float64) float64 {
	switch align {
	case "center":
		return x + (width-w)/2
	case "right":
		return x + width - w
	}
	return x
}

func (e *Engine) build(c *compiled, lic *catalog.License, opts RenderOptions) ([]byte, error) {
	t := c.t
	d := &doc{e: e, t: t, sub: newSubset(e.font), pageH: t.Page.Height, cs: getBuf(32 << 10)}
	// Lay out every field first so that problems come before any drawing.
	type laid struct {
		f     Field
		lines [][]rune
	}
	fields := make([]laid, 0, len(t.Fields))
	var probs []catalog.FieldError
	for _, f := range t.Fields {
		v, label := "", f.Item
		switch f.Item {
		case SourceID:
			v, label = lic.ID, "证照标识"
		case SourceIssuer:
			v, label = lic.IssuerName, "发证机关"
		case SourceIssued:
			if !lic.IssuedAt.IsZero() {
				v = lic.IssuedAt.Format("2006年1月2日")
			}
			label = "发证日期"
		default:
			v = lic.Values[f.Item]
			if it, ok := t.Type.Item(f.Item); ok {
				label = it.Label
			}
		}
		if v == "" {
			fields = append(fields, laid{f: f})
			continue
		}
		if p, bad := e.fieldProblem(f, label, v); bad {
			probs = append(probs, p)
			continue
		}
		fields = append(fields, laid{f: f, lines: e.font.wrap(v, f.Size, f.Width*ptPerMM)})
	}
	if len(probs) > 0 {
		return nil, fmt.Errorf("%w: %s: %w", ErrRender, lic.ID, &catalog.ValidationError{Problems: probs})
	}
	var photo *imageXObject
	if key := t.Slots.PhotoItem; key != "" && lic.Values[key] != "" {
		var err error
		if photo, err = decodePhoto(lic.Values[key]); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrRender, lic.ID, &catalog.ValidationError{Problems: []catalog.FieldError{
				{Item: key, Code: catalog.CodeBadValue, Message: "照片无法解码：" + err.Error()}}})
		}
	}

	if opts.Specimen {
		d.watermark()
	}
	for _, el := range c.texts {
		rs := []rune(el.Text)
		w := e.font.textWidth(rs, el.Size) + el.Spacing*float64(len(rs)-1)
		x := d.x(el.X)
		switch el.Align {
		case "center":
			x -= w / 2
		case "right":
			x -= w
		}
		d.text(rs, x, d.y(el.Y), el.Size, el.Spacing, el.Bold, el.Color)
	}
	for _, l := range fields {
		f := l.f
		if f.Label != "" {
			d.text([]rune(f.Label), d.x(f.LabelX), d.y(f.Y), f.Size, 0, false, "#333333")
		}
		pitch := f.Size * f.LineHeight
		for i, line := range l.lines {
			w := e.font.textWidth(line, f.Size)
			x := aligned(f.Align, d.x(f.X), f.Width*ptPerMM, w)
			d.text(line, x, d.y(f.Y)-float64(i)*pitch, f.Size, 0, false, f.Color)
		}
	}
	if opts.QRText != "" {
		if err := d.qr(opts.QRText, t.Slots.QR); err != nil {
			return nil, fmt.Errorf("%w: %s: QR: %w", ErrRender, lic.ID, err)
		}
	}
	if photo != nil {
		d.photo(photo, t.Slots.Photo)
	}
	out, err := e.writePDF(c, d, lic, photo)
	putBuf(d.cs)
	return out, err
}

// watermark draws 样本 / SPECIMEN diagonally across the page, under the text.
func (d *doc) watermark() {
	pw, ph := d.t.Page.Width*ptPerMM, d.t.Page.Height*ptPerMM
	size := math.Min(pw, ph) / 3.2
	ang := math.Atan2(ph, pw)
	cos, sin := math.Cos(ang), math.Sin(ang)
	draw := func(s string, size, off float64) {
		rs := []rune(s)
		w := d.e.font.textWidth(rs, size)
		// centre of the run at the page centre, shifted by off along the normal
		cx, cy := pw/2-sin*off, ph/2+cos*off
		x := cx - cos*w/2 + sin*size*0.35
		y := cy - sin*w/2 - cos*size*0.35
		b := append(d.cs, "q\nBT\n/F1 "...)
		b = num(b, size)
		b = append(b, " Tf\n0.96 0.8 0.8 rg\n"...)
		for _, v := range []float64{cos, sin, -sin, cos, x, y} {
			b = num(b, v)
			b = append(b, ' ')
		}
		b = append(b, "Tm\n<"...)
		for _, r := range rs {
			cid, _ := d.sub.cid(r)
			b = append(b, hexDigits[cid>>12], hexDigits[cid>>8&15], hexDigits[cid>>4&15], hexDigits[cid&15])
		}
		d.cs = append(b, "> Tj\nET\nQ\n"...)
	}
	draw("样 本", size, size*0.25)
	draw("SPECIMEN", size/2.6, -size*0.55)
}

// qr draws the code as vector rectangles, one per run of dark modules in a
// row, with a 4-module quiet zone inside the slot. The rectangles are given
// in module units under a transformation matrix (origin at the top-left
// module, y downwards), which keeps the content stream short.
func (d *doc) qr(text string, slot [4]float64) error {
	s, err := encodeQR(text)
	if err != nil {
		return err
	}
	n := s.size
	side := slot[2] * ptPerMM
	m := side / float64(n+8)
	// About one run per two dark modules (half of all), ≤ 13 bytes a run.
	b := append(slices.Grow(d.cs, 4*n*n), "q\n1 1 1 rg\n"...)
	b = num(b, d.x(slot[0]))
	b = append(b, ' ')
	b = num(b, d.y(slot[1]+slot[3]))
	b = append(b, ' ')
	b = num(b, side)
	b = append(b, ' ')
	b = num(b, side)
	b = append(b, " re f\n0 0 0 rg\n"...)
	for _, v := range [6]float64{m, 0, 0, -m, d.x(slot[0]) + 4*m, d.y(slot[1]) - 4*m} {
		b = num(b, v)
		b = append(b, ' ')
	}
	b = append(b, "cm\n"...)
	for r, row := range s.rows {
		for c := 0; c < n; {
			// Skip the light modules, then measure the dark run.
			w := row.from(c)
			if w == 0 {
				c = (c + 64) &^ 63
				continue
			}
			c += bits.TrailingZeros64(w)
			start := c
			for c < n {
				left := 64 - c&63 // modules left in c's word
				k := bits.TrailingZeros64(^row.from(c))
				c += k
				if k < left {
					break
				}
			}
			c = min(c, n)
			b = append(b, decimal[start]...)
			b = append(b, ' ')
			b = append(b, decimal[r]...)
			b = append(b, ' ')
			b = append(b, decimal[c-start]...)
			b = append(b, " 1 re\n"...)
		}
	}
	d.cs = append(b, "f\nQ\n"...)
	return nil
}

// decimal holds the decimal forms of 0–255.
var decimal = func() (t [256]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

// imageXObject is a decoded photo ready to embed.
type imageXObject struct {
	w, h   int
	cs     string // DeviceRGB, DeviceGray or DeviceCMYK
	filter string // DCTDecode (JPEG passed through) or FlateDecode
	data   []byte
	raw    bool // data still needs deflating
}

func decodePhoto(b64 string) (*imageXObject, error) {
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, err
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if format != "png" && format != "jpeg" {
		// Other decoders may be registered by the process (pdfcpu brings
		// TIFF and WebP); a photo is PNG or JPEG, as catalog.ValidateRow says.
		return nil, fmt.Errorf("%s image: want PNG or JPEG", format)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width*cfg.Height > 16<<20 {
		return nil, fmt.Errorf("image size %dx%d", cfg.Width, cfg.Height)
	}
	if format == "jpeg" {
		cs := "DeviceRGB"
		switch cfg.ColorModel {
		case color.GrayModel:
			cs = "DeviceGray"
		case color.CMYKModel:
			return nil, fmt.Errorf("CMYK JPEG not supported")
		}
		if _, _, err := image.Decode(bytes.NewReader(data)); err != nil {
			return nil, err
		}
		return &imageXObject{w: cfg.Width, h: cfg.Height, cs: cs, filter: "DCTDecode", data: data}, nil
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	r := img.Bounds()
	px := make([]byte, 0, 3*r.Dx()*r.Dy())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			a := uint32(c.A)
			blend := func(v uint8) byte { return byte((uint32(v)*a + 255*(255-a)) / 255) } // over white
			px = append(px, blend(c.R), blend(c.G), blend(c.B))
		}
	}
	return &imageXObject{w: r.Dx(), h: r.Dy(), cs: "DeviceRGB", filter: "FlateDecode", data: px, raw: true}, nil
}

// photo places the image in the slot, keeping its aspect ratio, centred.
func (d *doc) photo(im *imageXObject, slot [4]float64) {
	sw, sh := slot[2]*ptPerMM, slot[3]*ptPerMM
	s := math.Min(sw/float64(im.w), sh/float64(im.h))
	w, h := float64(im.w)*s, float64(im.h)*s
	x := d.x(slot[0]) + (sw-w)/2
	y := d.y(slot[1]+slot[3]) + (sh-h)/2
	b := append(d.cs, "q\n"...)
	for _, v := range []float64{w, 0, 0, h, x, y} {
		b = num(b, v)
		b = append(b, ' ')
	}
	d.cs = append(b, "cm\n/Im1 Do\nQ\n"...)
}

// gfx builds a content stream in page millimetres (top-left origin).
type gfx struct {
	b []byte
	h float64 // page height, mm
}

func (g *gfx) n(v float64)     { g.b = num(g.b, v); g.b = append(g.b, ' ') }
func (g *gfx) op(s string)     { g.b = append(g.b, s...); g.b = append(g.b, '\n') }
func (g *gfx) pt(x, y float64) { g.n(x * ptPerMM); g.n((g.h - y) * ptPerMM) }

// rect appends a rectangle path; x, y is the top-left corner.
func (g *gfx) rect(x, y, w, h float64) {
	g.pt(x, y+h)
	g.n(w * ptPerMM)
	g.n(h * ptPerMM)
	g.op("re")
}

func (g *gfx) line(x1, y1, x2, y2 float64) {
	g.pt(x1, y1)
	g.op("m")
	g.pt(x2, y2)
	g.op("l")
}

// staticGraphics serialises the non-text static elements.
func staticGraphics(t *Template) []byte {
	g := &gfx{h: t.Page.Height}
	for _, e := range t.Static {
		switch e.Kind {
		case KindLine:
			g.op("q")
			g.b = rgb(g.b, e.Color, "RG\n")
			g.n(orDefault(e.LineWidth, 0.5))
			g.op("w")
			g.line(e.X, e.Y, e.X2, e.Y2)
			g.op("S\nQ")
		case KindBox:
			g.op("q")
			r := e.Rect
			if e.Fill != "" {
				g.b = rgb(g.b, e.Fill, "rg\n")
				g.rect(r[0], r[1], r[2], r[3])
				g.op("f")
			}
			if e.LineWidth > 0 || e.Fill == "" {
				g.b = rgb(g.b, e.Color, "RG\n")
				g.n(orDefault(e.LineWidth, 0.5))
				g.op("w")
				g.rect(r[0], r[1], r[2], r[3])
				g.op("S")
			}
			g.op("Q")
		case KindOrnament:
			g.ornament(e)
		}
	}
	return g.b
}

func orDefault(v, d float64) float64 {
	if v == 0 {
		return d
	}
	return v
}

// ornament draws a double frame with a chain of 回 (key-fret) motifs in the
// band between the two frames, and a larger motif in each corner.
func (g *gfx) ornament(e Element) {
	r, band := e.Rect, e.Band
	g.op("q")
	g.b = rgb(g.b, e.Color, "RG\n")
	g.b = rgb(g.b, e.Color, "rg\n")
	g.op("1.6 w")
	g.rect(r[0], r[1], r[2], r[3])
	g.op("S")
	g.op("0.6 w")
	g.rect(r[0]+band, r[1]+band, r[2]-2*band, r[3]-2*band)
	g.op("S")
	g.op("0.35 w")
	in := 0.9
	g.rect(r[0]+band+in, r[1]+band+in, r[2]-2*band-2*in, r[3]-2*band-2*in)
	g.op("S")
	m := band * 0.62  // motif size
	gap := band * 0.2 // margin of a motif in the band
	motif := func(cx, cy, size float64) {
		h := size / 2
		// outer square ring and a small inner square: 回
		g.rect(cx-h, cy-h, size, size)
		g.op("S")
		q := size * 0.22
		g.rect(cx-q, cy-q, 2*q, 2*q)
		g.op("f")
	}
	// corners
	for _, c := range [][2]float64{{r[0], r[1]}, {r[0] + r[2] - band, r[1]}, {r[0], r[1] + r[3] - band}, {r[0] + r[2] - band, r[1] + r[3] - band}} {
		motif(c[0]+band/2, c[1]+band/2, band-2*gap)
	}
	// sides: motifs joined by a centre line
	side := func(x1, y1, x2, y2 float64) {
		l := math.Hypot(x2-x1, y2-y1)
		k := int(l / (m * 1.6))
		if k < 1 {
			return
		}
		step := l / float64(k)
		dx, dy := (x2-x1)/l, (y2-y1)/l
		for i := 0; i < k; i++ {
			cx, cy := x1+dx*(float64(i)+0.5)*step, y1+dy*(float64(i)+0.5)*step
			motif(cx, cy, m)
			// link to the next motif
			ax, ay := cx+dx*m/2, cy+dy*m/2
			bx, by := cx+dx*(step-m/2), cy+dy*(step-m/2)
			if i == k-1 {
				bx, by = x1+dx*l, y1+dy*l
			}
			if i == 0 {
				g.line(x1, y1, cx-dx*m/2, cy-dy*m/2)
			}
			g.line(ax, ay, bx, by)
			g.op("S")
		}
	}
	h := band / 2
	side(r[0]+band, r[1]+h, r[0]+r[2]-band, r[1]+h)           // top
	side(r[0]+band, r[1]+r[3]-h, r[0]+r[2]-band, r[1]+r[3]-h) // bottom
	side(r[0]+h, r[1]+band, r[0]+h, r[1]+r[3]-band)           // left
	side(r[0]+r[2]-h, r[1]+band, r[0]+r[2]-h, r[1]+r[3]-band) // right
	g.op("Q")
}

func deflate(b []byte, level int) ([]byte, error) {
	var out bytes.Buffer
	w, err := zlib.NewWriterLevel(&out, level)
	if err != nil {
		return nil, err
	}
	w.Write(b)
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
