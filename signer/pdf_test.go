package signer_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"elicense/signer"
)

const testPassword = "test-only-password"

var signTime = time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC)

func testPKI(t testing.TB) *signer.PKI {
	t.Helper()
	p, err := signer.LoadPKI(filepath.Join(moduleRoot(t), "testdata", "pki", "test-only"), []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testSealer(t testing.TB) (*signer.Sealer, *signer.PKI) {
	t.Helper()
	p := testPKI(t)
	d, _ := p.Department("amr")
	z, err := d.NewSealer(signer.SealerOptions{Reason: "电子证照"})
	if err != nil {
		t.Fatal(err)
	}
	return z, p
}

// licensePDF builds a one-page PDF of about size bytes (an incompressible
// image stream makes up the bulk), optionally with /ELSealSlot.
func licensePDF(size int, slot bool) []byte {
	r := rand.NewChaCha8([32]byte{1, 2})
	noise := make([]byte, size)
	r.Read(noise)
	content := "BT /F1 24 Tf 72 720 Td (Electronic License) Tj ET q 100 0 0 100 72 500 cm /Im1 Do Q"
	slotEntry := ""
	if slot {
		slotEntry = "/ELSealSlot [400 80 520 200]"
	}
	var b bytes.Buffer
	var offs []int
	obj := func(s string) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offs), s)
	}
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	obj("<</Type/Catalog/Pages 2 0 R>>")
	obj("<</Type/Pages/Kids[3 0 R]/Count 1/MediaBox[0 0 595.28 841.89]>>")
	obj("<</Type/Page/Parent 2 0 R/Resources<</Font<</F1 5 0 R>>/XObject<</Im1 6 0 R>>>>/Contents 4 0 R" + slotEntry + ">>")
	obj(fmt.Sprintf("<</Length %d>>\nstream\n%s\nendstream", len(content), content))
	obj("<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>")
	side := 1
	for side*side*3 < size {
		side++
	}
	offs = append(offs, b.Len())
	fmt.Fprintf(&b, "6 0 obj\n<</Type/XObject/Subtype/Image/Width %d/Height %d/ColorSpace/DeviceRGB/BitsPerComponent 8/Length %d>>\nstream\n", side, side, side*side*3)
	for len(noise) < side*side*3 {
		noise = append(noise, 0)
	}
	b.Write(noise[:side*side*3])
	b.WriteString("\nendstream\nendobj\n")
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f\r\n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", o)
	}
	fmt.Fprintf(&b, "trailer\n<</Size %d/Root 1 0 R/ID[<0102><0102>]>>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, x)
	return b.Bytes()
}

// tool returns the path of an external tool; it skips the test when the
// tool is missing, unless CI=true, where that is a failure.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

func qpdf(t *testing.T, in []byte, args ...string) []byte {
	t.Helper()
	q := tool(t, "qpdf")
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	os.WriteFile(src, in, 0o644)
	if out, err := exec.Command(q, append(args, src, dst)...).CombinedOutput(); err != nil {
		t.Fatalf("qpdf: %v %s", err, out)
	}
	b, _ := os.ReadFile(dst)
	return b
}

func TestSignRoundTrip(t *testing.T) {
	z, p := testSealer(t)
	base := licensePDF(60_000, true)
	variants := map[string][]byte{
		"table":      base,
		"xrefstream": qpdf(t, base, "--object-streams=generate"),
		"noslot":     licensePDF(5_000, false),
	}
	for _, format := range []signer.Format{signer.FormatSES, signer.FormatPKCS7} {
		for name, in := range variants {
			t.Run(format.String()+"/"+name, func(t *testing.T) {
				var out bytes.Buffer
				res, err := signer.Sign(&out, in, signer.SignOptions{Sealer: z, Format: format, Now: signTime, Rand: rand.NewChaCha8([32]byte{3, 4})})
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(out.Bytes(), in) {
					t.Fatal("input not preserved as prefix")
				}
				if name != "noslot" && res.Rect != [4]float64{400, 80, 520, 200} {
					t.Fatalf("rect %v ignores /ELSealSlot", res.Rect)
				}
				if got := signer.DocumentDigest(out.Bytes()); !bytes.Equal(got, res.Digest[:]) {
					t.Fatal("SignResult.Digest is not SM3 of the output")
				}
				ps, err := signer.VerifyPDF(out.Bytes(), signer.CheckOptions{Roots: p.Roots()})
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range ps.Checks {
					if c.Status == signer.StatusFail {
						t.Errorf("%s: %s", c.ID, c.Detail)
					}
				}
				if ps.Format != format {
					t.Fatalf("format %v", ps.Format)
				}
				pdfTools(t, out.Bytes())
			})
		}
	}
}

// pdfTools runs qpdf --check and pdfsig on a sealed file.
func pdfTools(t *testing.T, pdf []byte) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "sealed.pdf")
	os.WriteFile(path, pdf, 0o644)
	q := tool(t, "qpdf")
	if out, err := exec.Command(q, "--check", path).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	ps := tool(t, "pdfsig")
	out, _ := exec.Command(ps, path).CombinedOutput()
	if n := strings.Count(string(out), "Signature #"); n != 1 || strings.Contains(string(out), "does not contain any signatures") {
		t.Fatalf("pdfsig lists %d signatures:\n%s", n, out)
	}
}

// exhaustive reports whether loops over every byte should run in full:
// without -short and the race detector, or when ELICENSE_EXHAUSTIVE=1
// (make test-exhaustive). Otherwise they keep every structural byte and a
// dense sample of the rest.
func exhaustive() bool {
	return os.Getenv("ELICENSE_EXHAUSTIVE") == "1" || !testing.Short() && !raceEnabled
}

// tamperPositions returns the offsets of pdf to flip, outside the
// /Contents hole [hole0, hole1): every offset when full is set; otherwise
// every byte outside stream data (the PDF syntax: dictionaries, keywords,
// cross-reference table, trailer), the first and last 8 bytes of each
// stream's data and every 13th byte in between.
func tamperPositions(pdf []byte, hole0, hole1 int, full bool) []int {
	data := make([]bool, len(pdf)) // stream data, sampled
	for i := 0; ; {
		j := bytes.Index(pdf[i:], []byte("stream\n"))
		if j < 0 {
			break
		}
		start := i + j + len("stream\n")
		k := bytes.Index(pdf[start:], []byte("endstream"))
		if k < 0 {
			break
		}
		end := start + k
		for p := start + 8; p < end-8; p++ {
			data[p] = true
		}
		i = end + len("endstream")
	}
	var out []int
	for i := range pdf {
		if i >= hole0 && i < hole1 {
			continue // the /Contents hole is not signed
		}
		if full || !data[i] || i%13 == 0 {
			out = append(out, i)
		}
	}
	return out
}

func TestSignTamper(t *testing.T) {
	z, p := testSealer(t)
	in := licensePDF(400, true)
	full := exhaustive()
	for _, format := range []signer.Format{signer.FormatSES, signer.FormatPKCS7} {
		t.Run(format.String(), func(t *testing.T) {
			var out bytes.Buffer
			res, err := signer.Sign(&out, in, signer.SignOptions{Sealer: z, Format: format, Now: signTime, Rand: rand.NewChaCha8([32]byte{5, 6})})
			if err != nil {
				t.Fatal(err)
			}
			signed := out.Bytes()
			br := res.ByteRange
			// The seal and certificates sit in the hole and never change, so
			// a cache saves re-checking them; G7 is computed every time.
			opts := signer.CheckOptions{Roots: p.Roots(), Cache: signer.NewVerifyCache(0)}
			positions := tamperPositions(signed, br[1], br[2], full)
			bad := make([]byte, len(signed))
			for _, i := range positions {
				copy(bad, signed)
				bad[i] ^= 0x01
				ps, err := signer.VerifyPDF(bad, opts)
				if err != nil {
					continue // structure broken: rejected
				}
				if c, _ := signer.Find(ps.Checks, "G7"); c.Status != signer.StatusFail {
					// flipping a byte of a span must break the digest unless
					// the flip only changed where the parser looks (then G7
					// still fails because the spans changed)
					t.Fatalf("byte %d flipped: G7 %s", i, c.Status)
				}
			}
			signedBytes := len(signed) - (br[2] - br[1])
			if len(positions) < 1000 || full && len(positions) != signedBytes {
				t.Fatalf("only %d of %d signed positions checked", len(positions), signedBytes)
			}
			t.Logf("%d of %d signed positions flipped", len(positions), signedBytes)
		})
	}
}

func TestSignRejectsExpiredSeal(t *testing.T) {
	z, _ := testSealer(t)
	_, err := signer.Sign(&bytes.Buffer{}, licensePDF(100, true), signer.SignOptions{Sealer: z, Now: time.Date(2060, 1, 1, 0, 0, 0, 0, time.UTC), Rand: rand.NewChaCha8([32]byte{1, 1})})
	if err == nil {
		t.Fatal("expired seal accepted")
	}
}

func ExampleSign() {
	root, _ := os.Getwd()
	for !fileExists(filepath.Join(root, "go.mod")) {
		root = filepath.Dir(root)
	}
	p, err := signer.LoadPKI(filepath.Join(root, "testdata", "pki", "test-only"), []byte("test-only-password"))
	if err != nil {
		fmt.Println(err)
		return
	}
	dept, _ := p.Department("amr")
	sealer, err := dept.NewSealer(signer.SealerOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	var out bytes.Buffer
	res, err := signer.Sign(&out, licensePDF(1000, true), signer.SignOptions{
		Sealer: sealer,
		Format: signer.FormatSES,
		Now:    time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC),
		Rand:   rand.NewChaCha8([32]byte{1, 2}), // crypto/rand.Reader in production
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.ByteRange[0], res.Size == out.Len())
	// Output: 0 true
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
