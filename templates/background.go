package templates

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"io/fs"
	"math"
	"path"
	"strconv"
	"strings"
)

// Background is drawn under everything else on the page: an image (a
// security-paper pattern, a watermark) or one page of a designer's PDF.
// File names are relative to the directory of the template file.
type Background struct {
	Image   string     `json:"image,omitempty"`   // PNG or JPEG file
	PDF     string     `json:"pdf,omitempty"`     // PDF file
	Page    int        `json:"page,omitempty"`    // page of PDF, from 1; default 1
	Rect    [4]float64 `json:"rect,omitzero"`     // x, y, width, height in mm; default the whole page
	Opacity *float64   `json:"opacity,omitempty"` // 0 < opacity ≤ 1; default 1
}

// Limits of a background, checked at Load.
const (
	maxBackgroundFile   = 64 << 20 // bytes of the source file
	maxBackgroundBytes  = 16 << 20 // bytes of the objects copied into every license
	maxBackgroundPixels = 25 << 20 // pixels of an image
	maxBackgroundObjs   = 20000    // objects copied from a PDF
	aspectTolerance     = 0.02     // allowed relative difference of width/height ratios
)

// Object and resource names of the background in a rendered license.
const (
	objBackground = objMetadata + 1 // first background object; the photo follows the last
	bgXObject     = "Bg"
	bgExtGState   = "GSbg"
)

// background is a template's background serialised once at Load: PDF
// objects numbered from objBackground, spliced unchanged into every
// license, and the operators that draw it.
type background struct {
	objs []byte   // "n 0 obj … endobj\n" for n = objBackground, objBackground+1, …
	offs []int    // offset of each object in objs
	draw []byte   // operators that paint /Bg, at the start of the static stream
	gs   string   // inline ExtGState dictionary for the opacity, or ""
	sum  [32]byte // SHA-256 of objs, part of the document ID
}

// checkBackground validates the background entry and fills in defaults.
func (t *Template) checkBackground(inRect func([4]float64) bool) error {
	b := t.Background
	if b == nil {
		return nil
	}
	if (b.Image == "") == (b.PDF == "") {
		return bad("background: give exactly one of image and pdf")
	}
	name, ext := b.Image, strings.ToLower(path.Ext(b.Image))
	if b.PDF != "" {
		name, ext = b.PDF, strings.ToLower(path.Ext(b.PDF))
	}
	if !validAssetName(name) {
		return bad("background: file name %q must be a relative path inside the template's directory", name)
	}
	if b.Image != "" {
		if ext != ".png" && ext != ".jpg" && ext != ".jpeg" {
			return bad("background: image %q must be a .png, .jpg or .jpeg file", name)
		}
		if b.Page != 0 {
			return bad("background: page applies to a pdf background only")
		}
	} else {
		if ext != ".pdf" {
			return bad("background: pdf %q must be a .pdf file", name)
		}
		if b.Page < 0 || b.Page > 100000 {
			return bad("background: page %d out of range", b.Page)
		}
		if b.Page == 0 {
			b.Page = 1
		}
	}
	if b.Rect == [4]float64{} {
		b.Rect = [4]float64{0, 0, t.Page.Width, t.Page.Height}
	} else if !inRect(b.Rect) {
		return bad("background: rect out of the page or empty")
	}
	if o := b.Opacity; o != nil && (!finite(*o) || *o <= 0 || *o > 1) {
		return bad("background: opacity must be greater than 0 and at most 1")
	}
	return nil
}

// validAssetName accepts a slash-separated relative path without "." or
// ".." elements and without backslashes (fs.ValidPath, minus ".").
func validAssetName(s string) bool {
	return s != "." && len(s) <= 255 && fs.ValidPath(s) && !strings.ContainsAny(s, `\:`)
}

// prepareBackground reads the background file of t from assets (the
// directory of the template file) and serialises it.
func prepareBackground(t *Template, assets fs.FS) (bg *background, err error) {
	defer func() {
		if r := recover(); r != nil {
			bg, err = nil, fmt.Errorf("internal error: %v", r)
		}
	}()
	b := t.Background
	name := b.Image
	if name == "" {
		name = b.PDF
	}
	if assets == nil {
		return nil, fmt.Errorf("%q: no directory to read it from", name)
	}
	data, err := readAsset(assets, name)
	if err != nil {
		return nil, err
	}
	w := &objWriter{base: objBackground}
	var dw, dh float64 // shape of what is drawn, for the aspect check
	var place func(x, y, w, h float64) []byte
	if b.Image != "" {
		px, err := writeImage(w, data, name)
		if err != nil {
			return nil, err
		}
		dw, dh = float64(px.X), float64(px.Y)
		place = func(x, y, w, h float64) []byte {
			return appendNums(nil, w, 0, 0, h, x, y)
		}
	} else {
		pg, err := importPDFPage(w, data, b.Page, b.Opacity != nil && *b.Opacity < 1)
		if err != nil {
			return nil, fmt.Errorf("pdf %q page %d: %w", name, b.Page, err)
		}
		dw, dh = pg.width(), pg.height()
		place = pg.matrix
	}
	if len(w.b) > maxBackgroundBytes {
		return nil, fmt.Errorf("%q: %d bytes to copy into every license, more than %d", name, len(w.b), maxBackgroundBytes)
	}
	r := b.Rect
	if got, want := dw/dh, r[2]/r[3]; math.Abs(got/want-1) > aspectTolerance {
		return nil, fmt.Errorf("%q: width/height is %.3f, the rect's is %.3f (%g × %g mm); give a rect of the file's shape", name, got, want, r[2], r[3])
	}
	bg = &background{objs: w.b, offs: w.offs, sum: sha256.Sum256(w.b)}
	d := append([]byte(nil), "q\n"...)
	if b.Opacity != nil && *b.Opacity < 1 {
		o := string(num(nil, *b.Opacity))
		bg.gs = "<</Type/ExtGState/ca " + o + "/CA " + o + ">>"
		d = append(d, "/"+bgExtGState+" gs\n"...)
	}
	d = append(d, place(r[0]*ptPerMM, (t.Page.Height-r[1]-r[3])*ptPerMM, r[2]*ptPerMM, r[3]*ptPerMM)...)
	bg.draw = append(d, "cm\n/"+bgXObject+" Do\nQ\n"...)
	return bg, nil
}

// readAsset reads a file of at most maxBackgroundFile bytes.
func readAsset(assets fs.FS, name string) ([]byte, error) {
	st, err := fs.Stat(assets, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%q: no such file next to the template", name)
		}
		return nil, fmt.Errorf("%q: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%q: not a regular file", name)
	}
	if st.Size() > maxBackgroundFile {
		return nil, fmt.Errorf("%q: %d bytes, more than %d", name, st.Size(), maxBackgroundFile)
	}
	return fs.ReadFile(assets, name)
}

// appendNums appends numbers separated (and followed) by spaces.
func appendNums(b []byte, v ...float64) []byte {
	for _, x := range v {
		b = num(b, x)
		b = append(b, ' ')
	}
	return b
}

// objWriter collects serialised indirect objects numbered from base.
type objWriter struct {
	b    []byte
	offs []int
	base int
}

// begin starts the next object and returns its number.
func (w *objWriter) begin() int {
	n := w.base + len(w.offs)
	w.offs = append(w.offs, len(w.b))
	w.b = strconv.AppendInt(w.b, int64(n), 10)
	w.b = append(w.b, " 0 obj\n"...)
	return n
}

func (w *objWriter) end() { w.b = append(w.b, "\nendobj\n"...) }

// stream writes a stream body: dictionary entries (without << >>) and data.
func (w *objWriter) stream(dict string, data []byte) {
	w.b = append(w.b, "<<"...)
	w.b = append(w.b, dict...)
	w.b = append(w.b, "/Length "...)
	w.b = strconv.AppendInt(w.b, int64(len(data)), 10)
	w.b = append(w.b, ">>\nstream\n"...)
	w.b = append(w.b, data...)
	w.b = append(w.b, "\nendstream"...)
}

// writeImage writes a PNG or JPEG as an image XObject: a JPEG is passed
// through (DCTDecode); a PNG is deflated with PNG predictors, its alpha
// channel, if any pixel is not opaque, as a DeviceGray /SMask. It returns
// the pixel size.
func writeImage(w *objWriter, data []byte, name string) (image.Point, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return image.Point{}, fmt.Errorf("%q: not a PNG or JPEG image: %w", name, err)
	}
	ext := strings.ToLower(path.Ext(name))
	if want := map[string]string{".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}[ext]; format != want {
		return image.Point{}, fmt.Errorf("%q: holds %s data, not %s", name, format, strings.ToUpper(want))
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width*cfg.Height > maxBackgroundPixels {
		return image.Point{}, fmt.Errorf("%q: %d × %d pixels, want 1 to %d pixels", name, cfg.Width, cfg.Height, maxBackgroundPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return image.Point{}, fmt.Errorf("%q: %w", name, err)
	}
	size := image.Pt(cfg.Width, cfg.Height)
	head := func(cs string) string {
		return "/Type/XObject/Subtype/Image/Width " + strconv.Itoa(size.X) + "/Height " + strconv.Itoa(size.Y) +
			"/ColorSpace/" + cs + "/BitsPerComponent 8"
	}
	if format == "jpeg" {
		cs := "DeviceRGB"
		switch cfg.ColorModel {
		case color.GrayModel:
			cs = "DeviceGray"
		case color.CMYKModel:
			return image.Point{}, fmt.Errorf("%q: CMYK JPEG not supported; save it as RGB", name)
		}
		w.begin()
		w.stream(head(cs)+"/Filter/DCTDecode", data)
		w.end()
		return size, nil
	}
	r := img.Bounds()
	nrgba := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(nrgba, nrgba.Bounds(), img, r.Min, draw.Src)
	gray, opaque := true, true
	pix := nrgba.Pix
	for i := 0; i < len(pix); i += 4 {
		if pix[i] != pix[i+1] || pix[i] != pix[i+2] {
			gray = false
		}
		if pix[i+3] != 255 {
			opaque = false
		}
	}
	colors, cs := 3, "DeviceRGB"
	if gray {
		colors, cs = 1, "DeviceGray"
	}
	px := make([]byte, 0, colors*size.X*size.Y)
	alpha := make([]byte, 0, size.X*size.Y)
	for i := 0; i < len(pix); i += 4 {
		px = append(px, pix[i:i+colors]...)
		alpha = append(alpha, pix[i+3])
	}
	flate := func(data []byte, colors int) (string, []byte, error) {
		z, err := deflate(pngPredict(data, size.X, size.Y, colors), 9)
		parms := "/Filter/FlateDecode/DecodeParms<</Predictor 15/Colors " + strconv.Itoa(colors) +
			"/BitsPerComponent 8/Columns " + strconv.Itoa(size.X) + ">>"
		return parms, z, err
	}
	parms, z, err := flate(px, colors)
	if err != nil {
		return image.Point{}, err
	}
	n := w.begin()
	dict := head(cs)
	if !opaque {
		dict += "/SMask " + strconv.Itoa(n+1) + " 0 R"
	}
	w.stream(dict+parms, z)
	w.end()
	if !opaque {
		parms, z, err := flate(alpha, 1)
		if err != nil {
			return image.Point{}, err
		}
		w.begin()
		w.stream(head("DeviceGray")+parms, z)
		w.end()
	}
	return size, nil
}

// pngPredict prefixes every row of 8-bit samples with the PNG filter
// (None, Sub, Up, Average or Paeth) that gives the smallest sum of
// absolute differences, and applies it.
func pngPredict(data []byte, width, height, bpp int) []byte {
	stride := width * bpp
	out := make([]byte, 0, (stride+1)*height)
	prev := make([]byte, stride)
	cand := make([][]byte, 5)
	for i := range cand {
		cand[i] = make([]byte, stride)
	}
	for y := 0; y < height; y++ {
		row := data[y*stride : (y+1)*stride]
		for i := 0; i < stride; i++ {
			var a, c byte
			b := prev[i]
			if i >= bpp {
				a, c = row[i-bpp], prev[i-bpp]
			}
			cand[0][i] = row[i]
			cand[1][i] = row[i] - a
			cand[2][i] = row[i] - b
			cand[3][i] = row[i] - byte((int(a)+int(b))/2)
			cand[4][i] = row[i] - paeth(a, b, c)
		}
		best, bestSum := 0, -1
		for f, cr := range cand {
			s := 0
			for _, v := range cr {
				s += abs(int(int8(v)))
			}
			if bestSum < 0 || s < bestSum {
				best, bestSum = f, s
			}
		}
		out = append(out, byte(best))
		out = append(out, cand[best]...)
		prev = row
	}
	return out
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}
