package templates_test

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"elicense/catalog"
	"elicense/templates"
)

// Colours of the generated backgrounds. The outer 12 mm of every
// background is plain tint, which the tests measure in the page corners
// (the food-business ornament starts 8 mm in).
var (
	pngTint  = color.NRGBA{0xD8, 0xE8, 0xD0, 0xC0} // pale green, three-quarters opaque
	jpegTint = color.NRGBA{0xE2, 0xEA, 0xF4, 0xFF} // pale blue
	pdfTint  = [3]float64{0.88, 0.93, 0.98}        // pale blue, in the designer PDF
)

// guilloche draws a security-paper pattern: a tint with bands of
// phase-shifted waves and a rosette, all inside a margin of plain tint.
func guilloche(w, h int, tint color.NRGBA) *image.NRGBA {
	cov := make([]float32, w*h)
	margin := float64(w) * 12 / 297
	splat := func(x, y float64) {
		if x < margin || y < margin || x > float64(w)-margin || y > float64(h)-margin {
			return
		}
		for yy := int(y) - 1; yy <= int(y)+1; yy++ {
			for xx := int(x) - 1; xx <= int(x)+1; xx++ {
				if xx < 0 || yy < 0 || xx >= w || yy >= h {
					continue
				}
				d := math.Hypot(float64(xx)+0.5-x, float64(yy)+0.5-y)
				if d < 1.1 {
					cov[yy*w+xx] += float32(0.22 * (1.1 - d))
				}
			}
		}
	}
	fw, fh := float64(w), float64(h)
	// Bands of waves across the page.
	for band := 0; band < 5; band++ {
		cy := fh * (0.12 + 0.19*float64(band))
		for k := 0; k < 9; k++ {
			ph := float64(k) * math.Pi / 9
			for x := 0.0; x < fw; x += 0.35 {
				a := fh * 0.045 * (1 + 0.5*math.Sin(2*math.Pi*x/fw*3+float64(band)))
				splat(x, cy+a*math.Sin(2*math.Pi*x/(fw/14)+ph))
			}
		}
	}
	// A rosette (hypotrochoid) in the middle.
	cx, cy := fw/2, fh/2
	R, r, d := fh*0.3, fh*0.3*7/24, fh*0.3*0.55
	for t := 0.0; t < 2*math.Pi*7; t += 0.0015 {
		splat(cx+(R-r)*math.Cos(t)+d*math.Cos((R-r)/r*t), cy+(R-r)*math.Sin(t)-d*math.Sin((R-r)/r*t))
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	line := color.NRGBA{0x4A, 0x8A, 0x6A, 0xFF}
	for i, c := range cov {
		a := float64(min(c, 1))
		mix := func(p, q uint8) uint8 { return uint8(float64(p)*(1-a) + float64(q)*a + 0.5) }
		img.Pix[4*i+0] = mix(tint.R, line.R)
		img.Pix[4*i+1] = mix(tint.G, line.G)
		img.Pix[4*i+2] = mix(tint.B, line.B)
		img.Pix[4*i+3] = mix(tint.A, line.A)
	}
	return img
}

func encodePNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// designer describes a hand-written designer PDF.
type designer struct {
	portrait bool // a 595 × 842 page instead of 842 × 595
	rotate   int  // /Rotate of the page
	annots   bool // a link annotation on the page
	layers   bool // optional content in the page's resources
	external bool // an image whose data is in an external file
}

// pdf writes a one-page PDF: a tint, vector guilloche waves, a rosette in a
// nested form drawn through an ExtGState, a band in a Separation colour, an
// image with a soft mask, a line in Helvetica and glyphs of an embedded
// Type 3 font. A rotated page also has a red square in its unrotated
// top-left corner, which shows top right when the page is turned 90°
// clockwise.
func (d designer) pdf() []byte {
	w, h := 842.0, 595.0
	if d.portrait {
		w, h = h, w
	}
	var cs strings.Builder
	fmt.Fprintf(&cs, "q %g %g %g rg 0 0 %g %g re f Q\n", pdfTint[0], pdfTint[1], pdfTint[2], w, h)
	cs.WriteString("q 0.45 0.62 0.8 RG 0.35 w\n")
	for band := 0; band < 4; band++ {
		cy := 90 + float64(band)*(h-180)/3
		for k := 0; k < 7; k++ {
			ph := float64(k) * 6
			fmt.Fprintf(&cs, "45 %g m\n", cy+ph)
			for x := 45.0; x+40 <= w-45; x += 40 {
				fmt.Fprintf(&cs, "%g %g %g %g %g %g c\n", x+13, cy+ph+22, x+27, cy+ph-22, x+40, cy+ph)
			}
			cs.WriteString("S\n")
		}
	}
	cs.WriteString("Q\n")
	fmt.Fprintf(&cs, "q /CS0 cs 0.35 scn 45 %g %g 8 re f Q\n", h/2-4, w-90)
	fmt.Fprintf(&cs, "q 1 0 0 1 %g %g cm /G0 gs /Fm0 Do Q\n", w/2, h/2)
	fmt.Fprintf(&cs, "q 40 0 0 40 %g 60 cm /Im0 Do Q\n", w/2-20)
	cs.WriteString("BT /F0 7 Tf 0.5 0.6 0.7 rg 50 50 Td (ELICENSE SECURITY PAPER) Tj ET\n")
	fmt.Fprintf(&cs, "BT /F1 9 Tf 0.6 0.72 0.85 rg %g 50 Td (AAAAAAAA) Tj ET\n", w-140)
	if d.rotate != 0 {
		fmt.Fprintf(&cs, "q 1 0 0 rg 0 %g 60 60 re f Q\n", h-60)
	}
	if d.layers {
		cs.WriteString("/OC /L0 BDC EMC\n")
	}
	var rosette strings.Builder
	rosette.WriteString("0.3 0.5 0.7 RG 0.4 w\n")
	for i := 0; i < 24; i++ {
		a := float64(i) * math.Pi / 12
		c, s := math.Cos(a), math.Sin(a)
		// a circle of radius 60 centred 60 away from the origin, as four Béziers
		x, y, r, k := 60*c, 60*s, 60.0, 60*0.5523
		fmt.Fprintf(&rosette, "%.2f %.2f m %.2f %.2f %.2f %.2f %.2f %.2f c %.2f %.2f %.2f %.2f %.2f %.2f c %.2f %.2f %.2f %.2f %.2f %.2f c %.2f %.2f %.2f %.2f %.2f %.2f c S\n",
			x+r, y, x+r, y+k, x+k, y+r, x, y+r, x-k, y+r, x-r, y+k, x-r, y, x-r, y-k, x-k, y-r, x, y-r, x+k, y-r, x+r, y-k, x+r, y)
	}
	pix := make([]byte, 0, 16*16*3)
	mask := make([]byte, 0, 16*16)
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			pix = append(pix, byte(0x80+4*x), 0x30, byte(0x80+4*y))
			dx, dy := float64(x)-7.5, float64(y)-7.5
			mask = append(mask, byte(max(0, 255-int(math.Hypot(dx, dy)*32))))
		}
	}
	z := func(b []byte) string {
		var o bytes.Buffer
		zw := zlib.NewWriter(&o)
		zw.Write(b)
		zw.Close()
		return o.String()
	}
	stream := func(dict, data string) string {
		return fmt.Sprintf("<<%s/Length %d>>\nstream\n%s\nendstream", dict, len(data), data)
	}
	res := "/XObject<</Fm0 6 0 R/Im0 7 0 R>>/ExtGState<</G0 9 0 R>>/Font<</F0 10 0 R/F1 11 0 R>>/ColorSpace<</CS0 [/Separation/Gold/DeviceRGB 13 0 R]>>"
	if d.layers {
		res += "/Properties<</L0 14 0 R>>"
	}
	page := fmt.Sprintf("<</Type/Page/Parent 2 0 R/MediaBox[0 0 %g %g]/Resources 4 0 R/Contents 5 0 R/Rotate %d", w, h, d.rotate)
	if d.annots {
		page += "/Annots[<</Type/Annot/Subtype/Link/Rect[0 0 10 10]/Border[0 0 0]/A<</S/URI/URI(https://example.com)>>>>]"
	}
	image := "/Type/XObject/Subtype/Image/Width 16/Height 16/ColorSpace/DeviceRGB/BitsPerComponent 8/SMask 8 0 R/Filter/FlateDecode"
	imageData := z(pix)
	if d.external {
		image, imageData = "/Type/XObject/Subtype/Image/Width 16/Height 16/ColorSpace/DeviceRGB/BitsPerComponent 8/F(emblem.raw)", ""
	}
	objs := []string{
		"<</Type/Catalog/Pages 2 0 R>>",
		"<</Type/Pages/Kids[3 0 R]/Count 1>>",
		page + ">>",
		"<<" + res + ">>",
		stream("/Filter/FlateDecode", z([]byte(cs.String()))),
		stream("/Type/XObject/Subtype/Form/BBox[-130 -130 130 130]/Resources<<>>", rosette.String()),
		stream(image, imageData),
		stream("/Type/XObject/Subtype/Image/Width 16/Height 16/ColorSpace/DeviceGray/BitsPerComponent 8/Filter/FlateDecode", z(mask)),
		"<</Type/ExtGState/CA 0.6/ca 0.6>>",
		"<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding/FirstChar 32/LastChar 90/Widths[" + helveticaWidths + "]/FontDescriptor 15 0 R>>",
		"<</Type/Font/Subtype/Type3/FontBBox[0 0 1000 1000]/FontMatrix[0.001 0 0 0.001 0 0]/CharProcs<</diamond 12 0 R>>/Encoding<</Type/Encoding/Differences[65/diamond]>>/FirstChar 65/LastChar 65/Widths[1000]/Resources<<>>>>",
		stream("", "1000 0 0 0 1000 1000 d1 500 0 m 1000 500 l 500 1000 l 0 500 l f"),
		"<</FunctionType 2/Domain[0 1]/C0[1 1 1]/C1[0.85 0.65 0.15]/N 1>>",
		"<</Type/OCG/Name(Pattern)>>",
		"<</Type/FontDescriptor/FontName/Helvetica/Flags 32/FontBBox[-166 -225 1000 931]/ItalicAngle 0/Ascent 718/Descent -207/CapHeight 718/StemV 88>>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// helveticaWidths are the widths of Helvetica's characters 32-90 (space to Z).
const helveticaWidths = "278 278 355 556 556 889 667 191 333 333 389 584 278 333 278 278 556 556 556 556 556 556 556 556 556 556 " +
	"278 278 584 584 584 556 1015 667 667 722 722 667 611 778 722 278 500 667 556 833 722 778 667 778 722 667 611 722 667 944 667 667 611"

// pdfcpuConf is a pdfcpu configuration for the test tools.
func pdfcpuConf() *model.Configuration {
	conf := model.NewDefaultConfiguration()
	conf.Offline = true
	return conf
}

// compressed rewrites a PDF with object streams and a cross-reference stream.
func compressed(tb testing.TB, pdf []byte) []byte {
	tb.Helper()
	conf := pdfcpuConf()
	conf.WriteObjectStream, conf.WriteXRefStream = true, true
	var out bytes.Buffer
	if err := api.Optimize(bytes.NewReader(pdf), &out, conf); err != nil {
		tb.Fatalf("pdfcpu optimize: %v", err)
	}
	if !bytes.Contains(out.Bytes(), []byte("/ObjStm")) {
		tb.Fatal("pdfcpu wrote no object stream")
	}
	return out.Bytes()
}

// encrypted encrypts a PDF with an owner password only (it opens without one).
func encrypted(tb testing.TB, pdf []byte) []byte {
	tb.Helper()
	conf := model.NewAESConfiguration("", "owner", 256)
	conf.Offline = true
	var out bytes.Buffer
	if err := api.Encrypt(bytes.NewReader(pdf), &out, conf); err != nil {
		tb.Fatalf("pdfcpu encrypt: %v", err)
	}
	return out.Bytes()
}

// bgOverride writes a food-business override template with the given
// layout.background JSON (without its full-page fill, which would hide the
// background) and the files next to it, and returns the directory.
func bgOverride(tb testing.TB, background string, files map[string][]byte) string {
	tb.Helper()
	dir := tb.TempDir()
	src := defaultTemplate(tb, "food-business")
	for _, r := range [][2]string{
		{`      {"kind": "box", "rect": [0, 0, 297, 210], "fill": "#FFFDF5", "line_width": 0.01, "color": "#FFFDF5"},` + "\n", ""},
		{`"layout": {`, `"layout": {` + "\n" + `    "background": ` + background + `,`},
	} {
		if !strings.Contains(src, r[0]) {
			tb.Fatalf("test setup: %q not in the template", r[0])
		}
		src = strings.Replace(src, r[0], r[1], 1)
	}
	files["food-business.json"] = []byte(src)
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

func loadOverride(tb testing.TB, dir string) (*templates.Engine, error) {
	tb.Helper()
	engine(tb) // skips without a font
	return templates.Load(templates.Options{OverrideDir: dir})
}

// rgbAt is the mean colour of page pixels in the rectangle x, y, w, h (mm).
func rgbAt(img image.Image, dpi, x, y, w, h float64) [3]float64 {
	px := func(mm float64) int { return int(mm / 25.4 * dpi) }
	var sum [3]float64
	n := 0.0
	for yy := px(y); yy < px(y+h); yy++ {
		for xx := px(x); xx < px(x+w); xx++ {
			r, g, b, _ := img.At(xx, yy).RGBA()
			sum[0] += float64(r >> 8)
			sum[1] += float64(g >> 8)
			sum[2] += float64(b >> 8)
			n++
		}
	}
	return [3]float64{sum[0] / n, sum[1] / n, sum[2] / n}
}

// over is a colour c with alpha a (0-1) composed over white.
func over(c [3]float64, a float64) [3]float64 {
	return [3]float64{255 - (255-c[0])*a, 255 - (255-c[1])*a, 255 - (255-c[2])*a}
}

func near(got, want [3]float64, tol float64) bool {
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol {
			return false
		}
	}
	return true
}

func rasterise(tb testing.TB, path string, dpi int) image.Image {
	tb.Helper()
	prefix := filepath.Join(tb.TempDir(), "page")
	run(tb, "pdftoppm", "-r", strconv.Itoa(dpi), "-png", "-singlefile", path, prefix)
	b, err := os.ReadFile(prefix + ".png")
	if err != nil {
		tb.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

func TestBackground(t *testing.T) {
	const dpi = 50
	pattern := guilloche(1169, 827, pngTint)
	opaque := image.NewNRGBA(pattern.Bounds())
	for i := range opaque.Pix {
		opaque.Pix[i] = pattern.Pix[i]
	}
	for i := 3; i < len(opaque.Pix); i += 4 { // over white, then opaque
		a := float64(opaque.Pix[i]) / 255
		for j := i - 3; j < i; j++ {
			opaque.Pix[j] = uint8(255 - (255-float64(opaque.Pix[j]))*a + 0.5)
		}
		opaque.Pix[i] = 255
	}
	blue := guilloche(1169, 827, jpegTint)
	pdfTint255 := [3]float64{pdfTint[0] * 255, pdfTint[1] * 255, pdfTint[2] * 255}
	tests := []struct {
		name       string
		background string
		files      map[string][]byte
		corner     [3]float64 // colour of the top-left page corner
		red        bool       // the top-right corner is red (the rotated designer page)
		smask      bool       // an image with a soft mask is drawn
	}{
		{name: "PNG with alpha", background: `{"image": "paper/guilloche.png"}`,
			files:  map[string][]byte{"paper/guilloche.png": encodePNG(t, pattern)},
			corner: over([3]float64{float64(pngTint.R), float64(pngTint.G), float64(pngTint.B)}, float64(pngTint.A)/255), smask: true},
		{name: "opaque PNG with opacity", background: `{"image": "guilloche.png", "opacity": 0.5}`,
			files:  map[string][]byte{"guilloche.png": encodePNG(t, opaque)},
			corner: over(over([3]float64{float64(pngTint.R), float64(pngTint.G), float64(pngTint.B)}, float64(pngTint.A)/255), 0.5)},
		{name: "JPEG", background: `{"image": "guilloche.jpg", "rect": [0, 0, 297, 210]}`,
			files:  map[string][]byte{"guilloche.jpg": encodeJPEG(t, blue)},
			corner: [3]float64{float64(jpegTint.R), float64(jpegTint.G), float64(jpegTint.B)}},
		{name: "designer PDF", background: `{"pdf": "designer.pdf", "page": 1}`,
			files:  map[string][]byte{"designer.pdf": designer{}.pdf()},
			corner: pdfTint255, smask: true},
		{name: "designer PDF with object streams, opacity", background: `{"pdf": "designer.pdf", "opacity": 0.6}`,
			files:  map[string][]byte{"designer.pdf": compressed(t, designer{}.pdf())},
			corner: over(pdfTint255, 0.6), smask: true},
		{name: "rotated designer PDF", background: `{"pdf": "designer.pdf"}`,
			files:  map[string][]byte{"designer.pdf": designer{portrait: true, rotate: 90}.pdf()},
			corner: pdfTint255, red: true, smask: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := loadOverride(t, bgOverride(t, tc.background, tc.files))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tmpl, _ := e.Template("food-business")
			if tmpl.Background == nil || tmpl.Background.Rect != [4]float64{0, 0, 297, 210} {
				t.Errorf("Template().Background = %+v, want the whole page as rect", tmpl.Background)
			}
			lic := sampleLicense(t, e, "food-business")
			opts := templates.RenderOptions{QRText: sampleQR}
			pdf := render(t, e, lic, opts)
			if !bytes.Equal(pdf, render(t, e, lic, opts)) {
				t.Error("two renders of the same license differ")
			}
			if e2, err := loadOverride(t, bgOverride(t, tc.background, tc.files)); err != nil || !bytes.Equal(pdf, render(t, e2, lic, opts)) {
				t.Errorf("a second Load renders different bytes (err %v)", err)
			}
			if !bytes.Contains(pdf, []byte("/XObject<</Bg 13 0 R")) || !bytes.Contains(pdf, []byte("\n13 0 obj\n")) {
				t.Error("no background XObject 13 in the page resources")
			}
			if tc.smask != bytes.Contains(pdf, []byte("/SMask ")) {
				t.Errorf("soft mask present = %v, want %v", !tc.smask, tc.smask)
			}
			path := writeTemp(t, "license.pdf", pdf)
			t.Run("pdfcpu", func(t *testing.T) {
				conf := pdfcpuConf()
				conf.ValidationMode = model.ValidationStrict
				if err := api.ValidateFile(path, conf); err != nil {
					t.Errorf("pdfcpu strict validation: %v", err)
				}
			})
			t.Run("qpdf", func(t *testing.T) {
				out := run(t, "qpdf", "--check", path)
				if !strings.Contains(out, "No syntax or stream encoding errors") {
					t.Errorf("qpdf --check:\n%s", out)
				}
			})
			t.Run("pdftotext", func(t *testing.T) {
				text := stripSpace(run(t, "pdftotext", "-raw", "-enc", "UTF-8", path, "-"))
				typ, _ := e.Type("food-business")
				for _, it := range typ.Items {
					if v := lic.Values[it.Key]; it.Type != catalog.TypeImage && v != "" && !strings.Contains(text, stripSpace(v)) {
						t.Errorf("%s = %q not in extracted text", it.Key, v)
					}
				}
				for _, v := range []string{lic.ID, lic.IssuerName, typ.Name} {
					if !strings.Contains(text, stripSpace(v)) {
						t.Errorf("%q not in extracted text", v)
					}
				}
			})
			t.Run("pixels", func(t *testing.T) {
				img := rasterise(t, path, dpi)
				if got := rgbAt(img, dpi, 1, 1, 5, 5); !near(got, tc.corner, 6) {
					t.Errorf("top-left corner is %.0f, want the background's %.0f", got, tc.corner)
				}
				right := rgbAt(img, dpi, 291, 1, 5, 5)
				if tc.red && !near(right, [3]float64{255, 0, 0}, 20) {
					t.Errorf("top-right corner is %.0f, want the red mark of the rotated page", right)
				}
				if !tc.red && !near(right, tc.corner, 6) {
					t.Errorf("top-right corner is %.0f, want the background's %.0f", right, tc.corner)
				}
				// The ornament and the text are drawn over the background.
				if ink := rgbAt(img, dpi, 11, 11, 1, 1); ink[0] > 200 {
					t.Errorf("ornament corner is %.0f: hidden by the background?", ink)
				}
			})
		})
	}
}

func TestBackgroundRotationReference(t *testing.T) {
	// What poppler shows for the rotated designer page itself: the red
	// mark top right, as TestBackground expects on the license.
	path := writeTemp(t, "designer.pdf", designer{portrait: true, rotate: 90}.pdf())
	img := rasterise(t, path, 50)
	if got := rgbAt(img, 50, 291, 1, 5, 5); !near(got, [3]float64{255, 0, 0}, 20) {
		t.Errorf("top-right corner of the rotated page is %.0f, want red", got)
	}
}

func TestBackgroundRejects(t *testing.T) {
	pngData := encodePNG(t, guilloche(297, 210, pngTint))
	tests := []struct {
		name       string
		background string
		files      map[string][]byte
		want       string
	}{
		{"missing file", `{"image": "nope.png"}`, nil, `"nope.png": no such file`},
		{"JPEG data in a .png", `{"image": "bg.png"}`, map[string][]byte{"bg.png": encodeJPEG(t, guilloche(297, 210, jpegTint))}, "holds jpeg data, not PNG"},
		{"not an image", `{"image": "bg.png"}`, map[string][]byte{"bg.png": []byte("GIF89a not really")}, "not a PNG or JPEG image"},
		{"image of another shape", `{"image": "bg.png", "rect": [20, 20, 100, 100]}`, map[string][]byte{"bg.png": pngData}, "give a rect of the file's shape"},
		{"not a PDF", `{"pdf": "designer.pdf"}`, map[string][]byte{"designer.pdf": []byte("%PDF-1.7\nnothing here")}, "cannot read the PDF"},
		{"page out of range", `{"pdf": "designer.pdf", "page": 2}`, map[string][]byte{"designer.pdf": designer{}.pdf()}, "page 2: out of range: the PDF has 1 page"},
		{"encrypted PDF", `{"pdf": "designer.pdf"}`, map[string][]byte{"designer.pdf": encrypted(t, designer{}.pdf())}, "encrypted"},
		{"annotations", `{"pdf": "designer.pdf"}`, map[string][]byte{"designer.pdf": designer{annots: true}.pdf()}, "annotations or form fields"},
		{"optional content", `{"pdf": "designer.pdf"}`, map[string][]byte{"designer.pdf": designer{layers: true}.pdf()}, "optional content"},
		{"external stream", `{"pdf": "designer.pdf"}`, map[string][]byte{"designer.pdf": designer{external: true}.pdf()}, "external file"},
		{"page of another shape", `{"pdf": "designer.pdf"}`, map[string][]byte{"designer.pdf": designer{portrait: true}.pdf()}, "give a rect of the file's shape"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.files == nil {
				tc.files = map[string][]byte{}
			}
			_, err := loadOverride(t, bgOverride(t, tc.background, tc.files))
			if !errors.Is(err, templates.ErrBadTemplate) || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), "food-business") || !strings.Contains(err.Error(), "background") {
				t.Fatalf("err = %v, want ErrBadTemplate naming food-business, the background and %q", err, tc.want)
			}
		})
	}
	t.Run("symbolic link out of the directory", func(t *testing.T) {
		outside := writeTemp(t, "bg.png", pngData)
		dir := bgOverride(t, `{"image": "bg.png"}`, map[string][]byte{})
		if err := os.Symlink(outside, filepath.Join(dir, "bg.png")); err != nil {
			t.Skip(err)
		}
		if _, err := loadOverride(t, dir); !errors.Is(err, templates.ErrBadTemplate) || !strings.Contains(err.Error(), "bg.png") {
			t.Fatalf("err = %v, want ErrBadTemplate about bg.png", err)
		}
	})
}

// BenchmarkRenderBackground renders the food-business sample as
// BenchmarkRender/BestSpeed does, with a designer PDF page or a PNG as
// background: the background's objects are copied, not rebuilt.
func BenchmarkRenderBackground(b *testing.B) {
	for _, bc := range []struct {
		name, background string
		files            func() map[string][]byte
	}{
		{"PDF", `{"pdf": "designer.pdf"}`, func() map[string][]byte { return map[string][]byte{"designer.pdf": designer{}.pdf()} }},
		{"PNG", `{"image": "guilloche.png"}`, func() map[string][]byte {
			return map[string][]byte{"guilloche.png": encodePNG(b, guilloche(1169, 827, pngTint))}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e, err := loadOverride(b, bgOverride(b, bc.background, bc.files()))
			if err != nil {
				b.Fatal(err)
			}
			lic := sampleLicense(b, e, "food-business")
			opts := templates.RenderOptions{QRText: tokenQR}
			var buf bytes.Buffer
			if err := e.Render(&buf, lic, opts); err != nil {
				b.Fatal(err)
			}
			size := buf.Len()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				buf.Reset()
				if err := e.Render(&buf, lic, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size), "bytes/file")
		})
	}
}
