package templates_test

import (
	"bytes"
	"sort"
	"testing"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zlib"

	"elicense/templates"
)

var levels = []struct {
	name  string
	level int
}{{"BestSpeed", flate.BestSpeed}, {"Default", flate.DefaultCompression}, {"HuffmanOnly", flate.HuffmanOnly}}

// BenchmarkRender renders the food-business sample with a QR text of the
// real length (tokenQR, version 14-Q), and once without QR code.
func BenchmarkRender(b *testing.B) {
	for _, lv := range append(levels, struct {
		name  string
		level int
	}{"BestSpeed-noQR", flate.BestSpeed}) {
		b.Run(lv.name, func(b *testing.B) {
			e, err := templates.Load(templates.Options{FlateLevel: lv.level})
			if err != nil {
				b.Skip(err)
			}
			lic := sampleLicense(b, e, "food-business")
			opts := templates.RenderOptions{QRText: tokenQR}
			if lv.name == "BestSpeed-noQR" {
				opts.QRText = ""
			}
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

// BenchmarkRenderFloor compresses the same per-document streams (font
// subset, content, ToUnicode) with a reused writer: the cost no renderer
// that deflates them can go below.
func BenchmarkRenderFloor(b *testing.B) {
	e, err := templates.Load(templates.Options{})
	if err != nil {
		b.Skip(err)
	}
	var buf bytes.Buffer
	if err := e.Render(&buf, sampleLicense(b, e, "food-business"), templates.RenderOptions{QRText: tokenQR}); err != nil {
		b.Fatal(err)
	}
	ss := streams(b, buf.Bytes())
	var keys []int
	for n := range ss {
		if n != 4 { // the static stream is deflated once per template
			keys = append(keys, n)
		}
	}
	sort.Ints(keys)
	for _, lv := range levels {
		b.Run(lv.name, func(b *testing.B) {
			var out bytes.Buffer
			w, _ := zlib.NewWriterLevel(&out, lv.level)
			total := 0
			for _, n := range keys {
				total += len(ss[n])
			}
			b.SetBytes(int64(total))
			b.ReportAllocs()
			for b.Loop() {
				for _, n := range keys {
					out.Reset()
					w.Reset(&out)
					w.Write(ss[n])
					w.Close()
				}
			}
		})
	}
}
