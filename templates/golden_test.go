package templates_test

import (
	"flag"
	"fmt"
	"html"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"elicense/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var wordRe = regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`)

// bboxText normalises `pdftotext -bbox` output: one word per line with its
// left and top edge rounded to whole points.
func bboxText(raw string) string {
	var b strings.Builder
	for _, m := range wordRe.FindAllStringSubmatch(raw, -1) {
		x, _ := strconv.ParseFloat(m[1], 64)
		y, _ := strconv.ParseFloat(m[2], 64)
		fmt.Fprintf(&b, "%4.0f %4.0f %s\n", math.Round(x), math.Round(y), html.UnescapeString(m[5]))
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	e := engine(t)
	for _, key := range sampleKeys {
		t.Run(key, func(t *testing.T) {
			pdf := render(t, e, sampleLicense(t, e, key), templates.RenderOptions{QRText: tokenQR, Specimen: key == "no-criminal-record"})
			path := writeTemp(t, key+".pdf", pdf)
			got := bboxText(run(t, "pdftotext", "-bbox", "-enc", "UTF-8", path, "-"))
			golden := filepath.Join("testdata", key+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Errorf("text layout differs from %s (run with -update after checking):\n%s", golden, diffLines(string(want), got))
			}

			// Page 1 at 50 dpi, grey, against the stored picture.
			prefix := filepath.Join(t.TempDir(), "page")
			run(t, "pdftoppm", "-r", "50", "-gray", "-png", "-singlefile", path, prefix)
			gotPNG, err := os.ReadFile(prefix + ".png")
			if err != nil {
				t.Fatal(err)
			}
			stored := filepath.Join("testdata", key+".png")
			if *update {
				if err := os.WriteFile(stored, gotPNG, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			wantPNG, err := os.ReadFile(stored)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			mean, frac := imageDiff(t, wantPNG, gotPNG)
			if mean > 1.0 || frac > 0.005 {
				t.Errorf("page differs from %s: mean channel difference %.2f, %.2f%% of pixels differ by more than 64", stored, mean, 100*frac)
			}
		})
	}
}

func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// imageDiff returns the mean absolute channel difference (0-255) and the
// fraction of pixels with a channel differing by more than 64.
func imageDiff(t *testing.T, a, b []byte) (mean, frac float64) {
	ia, ib := decodePNG(t, a), decodePNG(t, b)
	if ia.Bounds() != ib.Bounds() {
		t.Fatalf("size %v, want %v", ib.Bounds(), ia.Bounds())
	}
	r := ia.Bounds()
	var sum, bad float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := ia.At(x, y).RGBA()
			r2, g2, b2, _ := ib.At(x, y).RGBA()
			d := []float64{absDiff(r1, r2), absDiff(g1, g2), absDiff(b1, b2)}
			sum += (d[0] + d[1] + d[2]) / 3
			if max(d[0], d[1], d[2]) > 64 {
				bad++
			}
		}
	}
	n := float64(r.Dx() * r.Dy())
	return sum / n, bad / n
}

func absDiff(a, b uint32) float64 { return math.Abs(float64(a>>8) - float64(b>>8)) }

func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)) && b.Len() < 2000; i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, a, c)
		}
	}
	return b.String()
}

// TestQRDecodes renders each sample with printed tokens of the real shape
// (400–600 digits, versions 12–15) and reads the code back from the page
// image with zbar.
func TestQRDecodes(t *testing.T) {
	e := engine(t)
	zbar := tool(t, "zbarimg")
	n := 4
	if testing.Short() {
		n = 1
	}
	for i, key := range sampleKeys {
		for j, text := range append([]string{tokenQR}, tokenTexts(uint64(10+i), n, 400, 600)...) {
			t.Run(fmt.Sprintf("%s/%d-v%d", key, j, templates.QRVersion(text)), func(t *testing.T) {
				pdf := render(t, e, sampleLicense(t, e, key), templates.RenderOptions{QRText: text, Specimen: j%2 == 1})
				path := writeTemp(t, key+".pdf", pdf)
				prefix := filepath.Join(t.TempDir(), "page")
				run(t, "pdftoppm", "-r", "150", "-png", "-singlefile", path, prefix)
				out, err := exec.Command(zbar, "--raw", "-q", prefix+".png").Output() // stdout only
				if err != nil {
					t.Fatalf("zbarimg: %v", err)
				}
				if got := strings.TrimSpace(string(out)); got != text {
					t.Fatalf("decoded %q, want %q", got, text)
				}
			})
		}
	}
}

func TestQRVersion(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"HTTPS://ZZ.WUHU.GOV.CN/V/123", 2},
		{sampleQR, 6},
		{tokenQR, 14},
		{"HTTPS://ZZ.WUHU.GOV.CN/V/" + strings.Repeat("1", 447), 13},
		{strings.Repeat("1", 564), 13},
		{strings.Repeat("9", 8000), 0},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(len(tc.text)), func(t *testing.T) {
			if got := templates.QRVersion(tc.text); got != tc.want {
				t.Errorf("QRVersion = %d, want %d", got, tc.want)
			}
		})
	}
}
