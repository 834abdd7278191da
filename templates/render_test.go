package templates_test

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"elicense/catalog"
	"elicense/templates"
)

func render(tb testing.TB, e *templates.Engine, lic *catalog.License, opts templates.RenderOptions) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := e.Render(&b, lic, opts); err != nil {
		tb.Fatalf("Render %s: %v", lic.TypeKey, err)
	}
	return b.Bytes()
}

func writeTemp(tb testing.TB, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func run(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	out, err := exec.Command(tool(tb, name), args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// streams returns the decoded FlateDecode streams of a PDF written by the
// engine, keyed by object number.
func streams(tb testing.TB, pdf []byte) map[int][]byte {
	tb.Helper()
	re := regexp.MustCompile(`(?s)(\d+) 0 obj\n<<([^\n]*?)/Length (\d+)>>\nstream\n`)
	out := map[int][]byte{}
	for _, m := range re.FindAllSubmatchIndex(pdf, -1) {
		n, _ := strconv.Atoi(string(pdf[m[2]:m[3]]))
		l, _ := strconv.Atoi(string(pdf[m[6]:m[7]]))
		data := pdf[m[1] : m[1]+l]
		if !bytes.Contains(pdf[m[4]:m[5]], []byte("/FlateDecode")) || bytes.Contains(pdf[m[4]:m[5]], []byte("/Image")) {
			continue
		}
		r, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			tb.Fatalf("object %d: %v", n, err)
		}
		d, err := io.ReadAll(r)
		if err != nil {
			tb.Fatalf("object %d: %v", n, err)
		}
		out[n] = d
	}
	return out
}

func TestRenderSamples(t *testing.T) {
	e := engine(t)
	for _, key := range sampleKeys {
		t.Run(key, func(t *testing.T) {
			lic := sampleLicense(t, e, key)
			pdf := render(t, e, lic, templates.RenderOptions{QRText: sampleQR})
			if len(pdf) > 100<<10 {
				t.Errorf("file is %d bytes, want ≤ 100 KB", len(pdf))
			}
			path := writeTemp(t, key+".pdf", pdf)

			t.Run("pdfcpu", func(t *testing.T) {
				conf := model.NewDefaultConfiguration()
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
			t.Run("pdffonts", func(t *testing.T) {
				out := run(t, "pdffonts", path)
				lines := strings.Split(strings.TrimSpace(out), "\n")
				if len(lines) != 3 {
					t.Fatalf("want one font:\n%s", out)
				}
				f := strings.Fields(lines[2])
				if !regexp.MustCompile(`^[A-Z]{6}\+`).MatchString(f[0]) || !strings.Contains(lines[2], "CID TrueType") ||
					!strings.Contains(lines[2], "Identity-H") || !strings.Contains(lines[2], "yes yes yes") {
					t.Errorf("font not an embedded subset with ToUnicode:\n%s", out)
				}
			})
			t.Run("pdftotext", func(t *testing.T) {
				text := stripSpace(run(t, "pdftotext", "-raw", "-enc", "UTF-8", path, "-"))
				typ, _ := e.Type(key)
				for _, it := range typ.Items {
					v := lic.Values[it.Key]
					if it.Type == catalog.TypeImage || v == "" {
						continue
					}
					if !strings.Contains(text, stripSpace(v)) {
						t.Errorf("%s = %q not in extracted text", it.Key, v)
					}
				}
				for _, v := range []string{lic.ID, lic.IssuerName, typ.Name} {
					if !strings.Contains(text, stripSpace(v)) {
						t.Errorf("%q not in extracted text", v)
					}
				}
			})
			t.Run("structure", func(t *testing.T) {
				if !bytes.HasPrefix(pdf, []byte("%PDF-1.7\n")) || !bytes.Contains(pdf, []byte("\nxref\n0 ")) || bytes.Contains(pdf, []byte("/ObjStm")) || bytes.Contains(pdf, []byte("/XRef")) {
					t.Error("want PDF 1.7 with a classic xref table and no object streams")
				}
				page, rect := e.SealSlot(key)
				if page != 1 {
					t.Fatalf("SealSlot page %d", page)
				}
				want := "/ELSealSlot[" + strings.Join([]string{fmtNum(rect[0]), fmtNum(rect[1]), fmtNum(rect[2]), fmtNum(rect[3])}, " ") + "]"
				if !bytes.Contains(pdf, []byte(want)) || !bytes.Contains(pdf, []byte("/ELQRSlot[")) {
					t.Errorf("page dictionary lacks %s or /ELQRSlot", want)
				}
				for _, k := range []string{"/ELIdentifier", "/ELTypeCode", "/ELLicenseNumber", "/ELIssuerCode", "/ELHolderCodeType", "/ELValidUntil"} {
					if !bytes.Contains(pdf, []byte(k)) {
						t.Errorf("Info lacks %s", k)
					}
				}
				for _, s := range []string{"<els:Identifier>" + lic.ID + "</els:Identifier>", "<els:TypeCode>" + lic.TypeCode + "</els:TypeCode>",
					"<els:LicenseNumber>" + lic.Number + "</els:LicenseNumber>", "<els:HolderName>" + lic.Holder.Name + "</els:HolderName>",
					"<els:IssueDate>2024-09-10</els:IssueDate>", `xmlns:els="` + templates.XMPNamespace + `"`} {
					if !bytes.Contains(pdf, []byte(s)) {
						t.Errorf("XMP lacks %s", s)
					}
				}
			})
			t.Run("subset", func(t *testing.T) {
				// The font program carries only the glyphs used: count the
				// distinct characters drawn and compare with maxp.numGlyphs.
				var font []byte
				for _, s := range streams(t, pdf) {
					if len(s) > 12 && binary.BigEndian.Uint32(s) == 0x00010000 {
						font = s
					}
				}
				if font == nil {
					t.Fatal("no font program found")
				}
				numGlyphs := -1
				n := int(binary.BigEndian.Uint16(font[4:]))
				for i := 0; i < n; i++ {
					r := font[12+16*i:]
					if string(r[:4]) == "maxp" {
						numGlyphs = int(binary.BigEndian.Uint16(font[binary.BigEndian.Uint32(r[8:])+4:]))
					}
				}
				text := run(t, "pdftotext", "-raw", "-enc", "UTF-8", path, "-")
				chars := map[rune]bool{}
				for _, r := range text {
					if !unicode.IsSpace(r) {
						chars[r] = true
					}
				}
				// Besides one glyph per character: .notdef, the (full-width)
				// spaces pdftotext drops, and the components of composite
				// glyphs (WenQuanYi builds many ideographs from parts).
				if numGlyphs < len(chars)+1 || numGlyphs > 3*len(chars)+4 {
					t.Errorf("subset has %d glyphs for %d distinct characters", numGlyphs, len(chars))
				}
				if len(font) > 120<<10 {
					t.Errorf("font program %d bytes", len(font))
				}
			})
		})
	}
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func TestDeterministic(t *testing.T) {
	e := engine(t)
	for _, key := range sampleKeys {
		t.Run(key, func(t *testing.T) {
			opts := templates.RenderOptions{QRText: sampleQR, Specimen: true}
			want := render(t, e, sampleLicense(t, e, key), opts)
			var wg sync.WaitGroup
			got := make([][]byte, 8)
			for i := range got {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var b bytes.Buffer
					if err := e.Render(&b, sampleLicense(t, e, key), opts); err == nil {
						got[i] = b.Bytes()
					}
				}()
			}
			wg.Wait()
			for i, g := range got {
				if !bytes.Equal(g, want) {
					t.Fatalf("render %d differs from the first", i)
				}
			}
			other := sampleLicense(t, e, key)
			other.Values["license_no"] += "9"
			if bytes.Equal(render(t, e, other, opts)[len(want)-200:], want[len(want)-200:]) {
				t.Error("document ID does not depend on the content")
			}
		})
	}
}

func TestRenderRejects(t *testing.T) {
	e := engine(t)
	tests := []struct {
		name  string
		key   string
		item  string
		value string
		code  string
	}{
		{"uncovered character", "food-business", "holder_name", "芜湖𠮷祥餐饮有限公司", templates.CodeUncoveredChar},
		{"overflow", "food-business", "business_items", strings.Repeat("预包装食品销售；", 25), templates.CodeOverflow},
		{"single line overflow", "special-operations", "license_no", "皖A04202400012300000000000000000000000000", templates.CodeOverflow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lic := sampleLicense(t, e, tc.key)
			lic.Values[tc.item] = tc.value
			var b bytes.Buffer
			err := e.Render(&b, lic, templates.RenderOptions{QRText: sampleQR})
			if !errors.Is(err, templates.ErrRender) {
				t.Fatalf("err = %v, want ErrRender", err)
			}
			var ve *catalog.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Item != tc.item || ve.Problems[0].Code != tc.code {
				t.Fatalf("err = %v, want one %s problem on %s", err, tc.code, tc.item)
			}
			if b.Len() != 0 {
				t.Errorf("%d bytes written on error", b.Len())
			}
		})
	}
	t.Run("QR text too long", func(t *testing.T) {
		var b bytes.Buffer
		err := e.Render(&b, sampleLicense(t, e, "food-business"), templates.RenderOptions{QRText: strings.Repeat("7", 4000)})
		if !errors.Is(err, templates.ErrRender) || !strings.Contains(err.Error(), "QR") {
			t.Fatalf("err = %v, want ErrRender about the QR code", err)
		}
		if b.Len() != 0 {
			t.Errorf("%d bytes written on error", b.Len())
		}
	})
	t.Run("unknown type", func(t *testing.T) {
		lic := sampleLicense(t, e, "food-business")
		lic.TypeKey = "nope"
		if err := e.Render(io.Discard, lic, templates.RenderOptions{}); !errors.Is(err, templates.ErrUnknownType) {
			t.Fatalf("err = %v", err)
		}
	})
}
