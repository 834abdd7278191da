package signer

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strings"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// SealPictureSpec describes a standard round official seal picture (公章样式):
// a red ring, a five-pointed star in the centre, the organisation name along
// the upper arc and the seal name horizontally below the star.
type SealPictureSpec struct {
	// Font is a TrueType/OpenType font or collection (TTF, OTF, TTC) with the
	// CJK glyphs needed; the first font of a collection is used.
	Font []byte
	// Organization is written along the upper arc (e.g. the department name).
	Organization string
	// Name is written below the star (e.g. "电子证照专用章"); may be empty.
	Name string
	// DiameterMM is the seal diameter; 0 means 42.
	DiameterMM int
	// DPI is the raster resolution; 0 means 300.
	DPI int
	// Color is the ink; the zero value means seal red (230, 0, 18).
	Color color.NRGBA
}

// RenderSealPicture draws the seal picture as a PNG with a transparent
// background and returns it as a seal Picture (type "PNG", size in mm).
func RenderSealPicture(spec SealPictureSpec) (pic Picture, err error) {
	defer func() {
		if r := recover(); r != nil {
			pic, err = Picture{}, fmt.Errorf("%w: render seal picture: %v", ErrMalformed, r)
		}
	}()
	if spec.DiameterMM == 0 {
		spec.DiameterMM = 42
	}
	if spec.DPI == 0 {
		spec.DPI = 300
	}
	if spec.DiameterMM < 10 || spec.DiameterMM > 100 || spec.DPI < 72 || spec.DPI > 1200 {
		return Picture{}, errors.New("signer: render seal picture: diameter 10..100 mm, DPI 72..1200")
	}
	if spec.Color == (color.NRGBA{}) {
		spec.Color = color.NRGBA{230, 0, 18, 255}
	}
	org := []rune(strings.TrimSpace(spec.Organization))
	if len(org) == 0 || len(org) > 40 {
		return Picture{}, errors.New("signer: render seal picture: organization must have 1..40 characters")
	}
	f, err := loadFont(spec.Font)
	if err != nil {
		return Picture{}, err
	}
	mm := float64(spec.DPI) / 25.4 // pixels per mm
	size := int(math.Ceil(float64(spec.DiameterMM) * mm))
	c := float64(size) / 2
	R := c - 0.3*mm // outer radius
	ring := 1.3 * mm * float64(spec.DiameterMM) / 42
	mask := image.NewAlpha(image.Rect(0, 0, size, size))
	z := vector.NewRasterizer(size, size)
	z.DrawOp = draw.Over
	flush := func() {
		z.Draw(mask, mask.Bounds(), image.Opaque, image.Point{})
		z.Reset(size, size)
		z.DrawOp = draw.Over
	}
	// Ring: outer circle one way, inner circle the other way.
	circle(z, c, c, R, false)
	circle(z, c, c, R-ring, true)
	flush()
	// Star.
	star(z, c, c, R*0.32)
	flush()
	// Organisation along the upper arc, glyphs upright outward.
	var buf sfnt.Buffer
	scale := R / (21 * mm) // relative to a 42 mm seal
	ppem := 6.2 * mm * scale
	if len(org) > 14 {
		ppem *= 14 / float64(len(org))
	}
	rText := R - ring - 0.9*mm*scale - ppem*0.5
	span := math.Min(240, float64(len(org))*ppem*0.95/rText*180/math.Pi) * math.Pi / 180
	for i, ch := range org {
		a := -math.Pi/2 - span/2 + (float64(i)+0.5)*span/float64(len(org))
		ux, uy := math.Cos(a), math.Sin(a)  // outward
		rx, ry := -math.Sin(a), math.Cos(a) // clockwise tangent
		px, py := c+rText*ux, c+rText*uy    // glyph centre
		err := glyph(z, f, &buf, ch, ppem, 0.78, func(gx, gy float64) (float32, float32) {
			// gx: from glyph centre to the right; gy: from glyph centre down.
			return float32(px + gx*rx - gy*ux), float32(py + gx*ry - gy*uy)
		})
		if err != nil {
			return Picture{}, err
		}
	}
	flush()
	// Seal name horizontally below the star.
	if name := []rune(strings.TrimSpace(spec.Name)); len(name) > 0 {
		np := 4.6 * mm * scale
		width := R * 1.25
		adv := np * 0.95
		if float64(len(name))*adv > width {
			adv = width / float64(len(name))
			np = adv / 0.95
		}
		cy := c + R*0.52
		x0 := c - adv*float64(len(name))/2
		for i, ch := range name {
			gcx := x0 + adv*(float64(i)+0.5)
			err := glyph(z, f, &buf, ch, np, 0.9, func(gx, gy float64) (float32, float32) {
				return float32(gcx + gx), float32(cy + gy)
			})
			if err != nil {
				return Picture{}, err
			}
		}
		flush()
	}
	img := image.NewPaletted(mask.Bounds(), sealPalette(spec.Color))
	for i, a := range mask.Pix {
		img.Pix[i] = uint8((int(a) + 42) / 85) // 4 alpha levels: a 2-bit PNG
	}
	var out bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&out, img); err != nil {
		return Picture{}, fmt.Errorf("signer: render seal picture: %w", err)
	}
	return Picture{Type: "PNG", Data: out.Bytes(), Width: spec.DiameterMM, Height: spec.DiameterMM}, nil
}

func sealPalette(c color.NRGBA) color.Palette {
	p := make(color.Palette, 4)
	for i := range p {
		p[i] = color.NRGBA{c.R, c.G, c.B, uint8(i * 85)}
	}
	return p
}

func loadFont(b []byte) (*sfnt.Font, error) {
	if len(b) == 0 {
		return nil, errors.New("signer: render seal picture: no font")
	}
	f, err := firstFont(b)
	if err != nil {
		// Some collections (WenQuanYi Micro Hei) have tables that are not
		// 4-byte aligned or run past the end of the file: rebuild the first
		// member as a standalone, aligned font and retry.
		if fixed, ferr := realignFirstFont(b); ferr == nil {
			f, err = firstFont(fixed)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: font: %w", ErrMalformed, err)
	}
	return f, nil
}

func firstFont(b []byte) (*sfnt.Font, error) {
	coll, err := sfnt.ParseCollection(b)
	if err != nil {
		return nil, err
	}
	return coll.Font(0)
}

// realignFirstFont copies the first font of a TTC (or a TTF) into a new
// TTF whose tables start on 4-byte boundaries.
func realignFirstFont(b []byte) ([]byte, error) {
	bad := errors.New("bad font")
	u32 := func(o int) (uint32, error) {
		if o < 0 || o+4 > len(b) {
			return 0, bad
		}
		return uint32(b[o])<<24 | uint32(b[o+1])<<16 | uint32(b[o+2])<<8 | uint32(b[o+3]), nil
	}
	off := 0
	if string(b[:min(4, len(b))]) == "ttcf" {
		o, err := u32(12)
		if err != nil {
			return nil, err
		}
		off = int(o)
	}
	if off+12 > len(b) {
		return nil, bad
	}
	n := int(b[off+4])<<8 | int(b[off+5])
	if n == 0 || n > 64 || off+12+16*n > len(b) {
		return nil, bad
	}
	out := make([]byte, 12+16*n, len(b)/2)
	copy(out, b[off:off+12])
	for i := 0; i < n; i++ {
		rec := off + 12 + 16*i
		to, err1 := u32(rec + 8)
		tl, err2 := u32(rec + 12)
		if err1 != nil || err2 != nil || int(to) > len(b) {
			return nil, bad
		}
		end := min(int(to)+int(tl), len(b))
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		no := len(out)
		out = append(out, b[to:end]...)
		out = append(out, make([]byte, int(to)+int(tl)-end)...)
		d := out[12+16*i:]
		copy(d[:8], b[rec:rec+8])
		d[8], d[9], d[10], d[11] = byte(no>>24), byte(no>>16), byte(no>>8), byte(no)
		copy(d[12:16], b[rec+12:rec+16])
	}
	for len(out)%4 != 0 {
		out = append(out, 0)
	}
	return out, nil
}

func circle(z *vector.Rasterizer, cx, cy, r float64, reverse bool) {
	const n = 180
	for i := 0; i <= n; i++ {
		a := 2 * math.Pi * float64(i) / n
		if reverse {
			a = -a
		}
		x, y := float32(cx+r*math.Cos(a)), float32(cy+r*math.Sin(a))
		if i == 0 {
			z.MoveTo(x, y)
		} else {
			z.LineTo(x, y)
		}
	}
	z.ClosePath()
}

func star(z *vector.Rasterizer, cx, cy, r float64) {
	inner := r * math.Sin(math.Pi/10) / math.Sin(7*math.Pi/10) // regular star
	for i := 0; i < 10; i++ {
		rr := r
		if i%2 == 1 {
			rr = inner
		}
		a := -math.Pi/2 + float64(i)*math.Pi/5
		x, y := float32(cx+rr*math.Cos(a)), float32(cy+rr*math.Sin(a))
		if i == 0 {
			z.MoveTo(x, y)
		} else {
			z.LineTo(x, y)
		}
	}
	z.ClosePath()
}

// glyph adds the outline of ch at size ppem (pixels), squeezed horizontally
// by xs, centred on the em box, through the transform tf.
func glyph(z *vector.Rasterizer, f *sfnt.Font, buf *sfnt.Buffer, ch rune, ppem, xs float64, tf func(gx, gy float64) (float32, float32)) error {
	gi, err := f.GlyphIndex(buf, ch)
	if err != nil || gi == 0 {
		return fmt.Errorf("%w: font has no glyph for %q", ErrUnsupported, ch)
	}
	p := fixed.Int26_6(ppem * 64)
	segs, err := f.LoadGlyph(buf, gi, p, nil)
	if err != nil {
		return fmt.Errorf("%w: glyph %q: %w", ErrMalformed, ch, err)
	}
	adv, err := f.GlyphAdvance(buf, gi, p, 0)
	if err != nil {
		return fmt.Errorf("%w: glyph %q: %w", ErrMalformed, ch, err)
	}
	// CJK glyphs sit roughly on [-0.88, +0.12] em vertically around the baseline.
	half := float64(adv) / 64 / 2
	pt := func(q fixed.Point26_6) (float32, float32) {
		return tf((float64(q.X)/64-half)*xs, float64(q.Y)/64+0.38*ppem)
	}
	open := false
	for _, s := range segs {
		switch s.Op {
		case sfnt.SegmentOpMoveTo:
			if open {
				z.ClosePath()
			}
			open = true
			z.MoveTo(pt(s.Args[0]))
		case sfnt.SegmentOpLineTo:
			z.LineTo(pt(s.Args[0]))
		case sfnt.SegmentOpQuadTo:
			x1, y1 := pt(s.Args[0])
			x2, y2 := pt(s.Args[1])
			z.QuadTo(x1, y1, x2, y2)
		case sfnt.SegmentOpCubeTo:
			x1, y1 := pt(s.Args[0])
			x2, y2 := pt(s.Args[1])
			x3, y3 := pt(s.Args[2])
			z.CubeTo(x1, y1, x2, y2, x3, y3)
		}
	}
	if open {
		z.ClosePath()
	}
	return nil
}

// ImportPNG checks that data is a PNG image and wraps it as a seal Picture
// of the given size in millimetres.
func ImportPNG(data []byte, widthMM, heightMM int) (Picture, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Picture{}, fmt.Errorf("%w: PNG: %w", ErrMalformed, err)
	}
	if cfg.Width < 16 || cfg.Height < 16 || cfg.Width > 4096 || cfg.Height > 4096 {
		return Picture{}, fmt.Errorf("%w: PNG size %dx%d", ErrUnsupported, cfg.Width, cfg.Height)
	}
	if widthMM <= 0 || heightMM <= 0 || widthMM > 200 || heightMM > 200 {
		return Picture{}, errors.New("signer: import PNG: size must be 1..200 mm")
	}
	return Picture{Type: "PNG", Data: data, Width: widthMM, Height: heightMM}, nil
}
