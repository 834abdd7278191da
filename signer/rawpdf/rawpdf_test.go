package rawpdf_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"elicense/signer/rawpdf"
)

func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		p := filepath.Dir(dir)
		if p == dir {
			t.Fatal("go.mod not found")
		}
		dir = p
	}
}

func fixturePDFs(t testing.TB) map[string][]byte {
	t.Helper()
	base := filepath.Join(moduleRoot(t), "..", "shared", "fixtures", "attacks")
	m := map[string][]byte{}
	files, _ := filepath.Glob(filepath.Join(base, "*.pdf"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m[filepath.Base(f)] = b
	}
	return m
}

// qpdfVariant rewrites in with qpdf using args, or skips without qpdf.
func qpdfVariant(t *testing.T, in []byte, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath("qpdf"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("qpdf missing")
		}
		t.Skip("qpdf not installed")
	}
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	os.WriteFile(src, in, 0o644)
	cmd := exec.Command("qpdf", append(args, src, dst)...)
	if out, err := cmd.CombinedOutput(); err != nil && cmd.ProcessState.ExitCode() != 3 {
		t.Fatalf("qpdf: %v %s", err, out)
	}
	b, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseFixtures(t *testing.T) {
	pdfs := fixturePDFs(t)
	if len(pdfs) == 0 {
		t.Skip("shared fixtures absent")
	}
	for name, data := range pdfs {
		t.Run(name, func(t *testing.T) {
			f, err := rawpdf.Parse(data, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, _, err := f.FirstPage(); err != nil {
				t.Fatal(err)
			}
			if last := f.Revisions[len(f.Revisions)-1]; last.End != len(data) && last.End != -1 {
				t.Logf("last revision ends at %d of %d", last.End, len(data))
			}
		})
	}
}

func TestParseVariants(t *testing.T) {
	base := fixturePDFs(t)["base.pdf"]
	if base == nil {
		t.Skip("shared fixtures absent")
	}
	tests := []struct {
		name     string
		args     []string
		isStream bool
	}{
		{"table", []string{"--object-streams=disable"}, false},
		{"objstm", []string{"--object-streams=generate"}, true},
		{"compressed-streams", []string{"--object-streams=generate", "--compress-streams=y", "--recompress-flate"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := qpdfVariant(t, base, tc.args...)
			f, err := rawpdf.Parse(data, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Revisions[len(f.Revisions)-1].IsStream; got != tc.isStream {
				t.Fatalf("IsStream = %v", got)
			}
			if _, _, _, err := f.FirstPage(); err != nil {
				t.Fatal(err)
			}
			size, _ := f.Trailer.Int("Size")
			for n := 1; n < size; n++ {
				o, err := f.Object(n)
				if err != nil {
					t.Fatalf("object %d: %v", n, err)
				}
				if s, ok := o.(*rawpdf.Stream); ok {
					if _, err := f.StreamData(s); err != nil && !isUnsupported(err) {
						t.Fatalf("stream %d: %v", n, err)
					}
				}
			}
		})
	}
}

func isUnsupported(err error) bool {
	for e := err; e != nil; {
		if e == rawpdf.ErrUnsupported {
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

func TestParseRejects(t *testing.T) {
	base := fixturePDFs(t)["base.pdf"]
	if base == nil {
		t.Skip("shared fixtures absent")
	}
	tbl := qpdfVariant(t, base, "--object-streams=disable")
	tests := []struct {
		name string
		mut  func([]byte) []byte
	}{
		{"no header", func(b []byte) []byte { return append([]byte("%PDX"), b[4:]...) }},
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"startxref off by one", func(b []byte) []byte {
			f, _ := rawpdf.Parse(b, nil)
			off := f.Revisions[len(f.Revisions)-1].XrefOffset
			c := append([]byte(nil), b...)
			c[off] = 'y' // "xref" becomes "yref"
			return c
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := rawpdf.Parse(tc.mut(tbl), nil); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, b := range fixturePDFs(f) {
		f.Add(b)
	}
	f.Add([]byte("%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj\nxref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer<</Size 2/Root 1 0 R>>\nstartxref\n41\n%%EOF\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := rawpdf.Parse(data, &rawpdf.Limits{MaxDecoded: 1 << 20})
		if err != nil {
			return
		}
		p.FirstPage()
		size, _ := p.Trailer.Int("Size")
		for n := 0; n < size && n < 200; n++ {
			o, err := p.Object(n)
			if s, ok := o.(*rawpdf.Stream); ok && err == nil {
				p.StreamData(s)
			}
		}
	})
}
