package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"elicense/catalog"
	"elicense/signer"
	"elicense/templates"
	"elicense/verify"
)

// Fixed clocks: the test PKI is valid 2025-12-31 – 2046-01-01.
var (
	signTime = time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC)
	now      = time.Date(2026, 6, 1, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
)

const testPassword = "test-only-password"

// moduleRoot walks up from the package directory to the directory holding
// go.mod.
func moduleRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the package directory")
		}
		dir = parent
	}
}

// fixture reads ../shared/fixtures/<rel> beside the module root, skipping
// when the shared fixture folder is absent (failing under CI=true).
func fixture(tb testing.TB, rel string) []byte {
	tb.Helper()
	base := filepath.Join(moduleRoot(tb), "..", "shared", "fixtures")
	if _, err := os.Stat(base); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("shared fixtures folder %s missing", base)
		}
		tb.Skipf("shared fixtures folder %s absent; skipping", base)
	}
	b, err := os.ReadFile(filepath.Join(base, rel))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// fixtureOK is fixture for seeding: nil instead of skipping.
func fixtureOK(tb testing.TB, rel string) []byte {
	b, err := os.ReadFile(filepath.Join(moduleRoot(tb), "..", "shared", "fixtures", rel))
	if err != nil {
		return nil
	}
	return b
}

var (
	pkiOnce sync.Once
	pkiVal  *signer.PKI
	pkiErr  error
)

// testPKI loads the test-only PKI of testdata/pki.
func testPKI(tb testing.TB) *signer.PKI {
	tb.Helper()
	pkiOnce.Do(func() {
		pkiVal, pkiErr = signer.LoadPKI(filepath.Join(moduleRoot(tb), "testdata", "pki", "test-only"), []byte(testPassword))
	})
	if pkiErr != nil {
		tb.Fatalf("test PKI: %v", pkiErr)
	}
	return pkiVal
}

var (
	baseOnce sync.Once
	baseLic  *catalog.License
	basePDF  []byte
	baseKind string
)

// baseDocument is the unsealed food-business sample rendered by templates,
// or, without a CJK font, a small one-page PDF.
func baseDocument(tb testing.TB) ([]byte, *catalog.License, string) {
	tb.Helper()
	baseOnce.Do(func() {
		basePDF, baseLic, baseKind = renderSample(tb)
	})
	return basePDF, baseLic, baseKind
}

func renderSample(tb testing.TB) ([]byte, *catalog.License, string) {
	e, err := templates.Load(templates.Options{})
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("templates: %v", err)
		}
		lic := &catalog.License{ID: "TESTID", Number: "N-1", TypeKey: "food-business", Status: catalog.StatusIssued, ValidUntil: "2030-12-31"}
		return smallPDF(), lic, "small"
	}
	typ, ok := e.Type("food-business")
	if !ok {
		tb.Fatal("no food-business type")
	}
	raw, err := os.ReadFile(filepath.Join(moduleRoot(tb), "testdata", "samples", "food-business.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var row map[string]string
	if err := json.Unmarshal(raw, &row); err != nil {
		tb.Fatal(err)
	}
	iss := [2]string{"芜湖市市场监督管理局", "11340200MB17475382"}
	serial := "2026WH00012345"
	lic := &catalog.License{
		ID:         catalog.FormatIdentifier(typ.Code, iss[1], serial, 1),
		Number:     row[typ.NumberKey()],
		TypeKey:    typ.Key,
		TypeCode:   typ.Code,
		TypeName:   typ.Name,
		IssuerName: iss[0],
		IssuerUSCC: iss[1],
		Serial:     serial,
		Holder:     catalog.Holder{Name: row["holder_name"], Code: row["holder_code"], CodeType: typ.Holder.CodeType()},
		Values:     row,
		ValidFrom:  row["valid_from"],
		ValidUntil: row["valid_until"],
		IssuedAt:   signTime,
		Version:    1,
		Status:     catalog.StatusIssued,
	}
	var out bytes.Buffer
	if err := e.Render(&out, lic, templates.RenderOptions{}); err != nil {
		tb.Fatalf("render: %v", err)
	}
	return out.Bytes(), lic, "food-business"
}

// smallPDF is a minimal valid one-page PDF with a classic xref table.
func smallPDF() []byte {
	var b bytes.Buffer
	var offs []int
	obj := func(s string) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offs), s)
	}
	content := "BT /F1 24 Tf 72 720 Td (Electronic License) Tj ET"
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	obj("<</Type/Catalog/Pages 2 0 R>>")
	obj("<</Type/Pages/Kids[3 0 R]/Count 1/MediaBox[0 0 595.28 841.89]>>")
	obj("<</Type/Page/Parent 2 0 R/Resources<</Font<</F1 5 0 R>>>>/Contents 4 0 R>>")
	obj(fmt.Sprintf("<</Length %d>>\nstream\n%s\nendstream", len(content), content))
	obj("<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>")
	obj("<</ELIdentifier(TESTID)>>")
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f\r\n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", o)
	}
	fmt.Fprintf(&b, "trailer\n<</Size %d/Root 1 0 R/Info 6 0 R>>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, x)
	return b.Bytes()
}

var sealedCache sync.Map // signer.Format → []byte

// sealed returns the base document sealed in format f by the amr
// department of the test PKI.
func sealed(tb testing.TB, f signer.Format) []byte {
	tb.Helper()
	if v, ok := sealedCache.Load(f); ok {
		return v.([]byte)
	}
	p := testPKI(tb)
	d, ok := p.Department("amr")
	if !ok {
		tb.Fatal("no amr department in the test PKI")
	}
	z, err := d.NewSealer(signer.SealerOptions{Reason: "电子证照"})
	if err != nil {
		tb.Fatal(err)
	}
	doc, _, _ := baseDocument(tb)
	var out bytes.Buffer
	if _, err := signer.Sign(&out, doc, signer.SignOptions{Sealer: z, Format: f, Now: signTime, Rand: rand.NewChaCha8([32]byte{byte(f) + 1})}); err != nil {
		tb.Fatalf("sign: %v", err)
	}
	sealedCache.Store(f, out.Bytes())
	return out.Bytes()
}

// options are the verification options of the tests (registry optional).
func options(tb testing.TB, reg catalog.Store) verify.Options {
	return verify.Options{Now: now, TrustedRoots: testPKI(tb).Roots(), Registry: reg}
}

func run(tb testing.TB, file []byte, o verify.Options) verify.Result {
	tb.Helper()
	return verify.Verify(context.Background(), file, o)
}

// firstFail returns the first failing check's id, or "".
func firstFail(res verify.Result) string {
	for _, c := range res.Checks {
		if c.Status == verify.StatusFail {
			return c.ID
		}
	}
	return ""
}

func dump(tb testing.TB, res verify.Result) string {
	b, _ := json.MarshalIndent(res, "", "  ")
	return string(b)
}
