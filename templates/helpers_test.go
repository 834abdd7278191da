package templates_test

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"elicense/catalog"
	"elicense/templates"
)

// clock is the fixed service clock of the tests.
var clock = time.Date(2024, 9, 10, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))

var sampleKeys = []string{"food-business", "special-operations", "no-criminal-record"}

var issuers = map[string][2]string{
	"food-business":      {"芜湖市市场监督管理局", "11340200MB17475382"},
	"special-operations": {"芜湖市住房和城乡建设局", "113402000030373674"},
	"no-criminal-record": {"芜湖市公安局镜湖分局", "113402000030373674"},
}

func engine(tb testing.TB) *templates.Engine {
	tb.Helper()
	e, err := templates.Load(templates.Options{})
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("Load: %v", err)
		}
		tb.Skipf("no CJK font: %v", err)
	}
	return e
}

func sampleRow(tb testing.TB, name string) map[string]string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "samples", name+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	var row map[string]string
	if err := json.Unmarshal(b, &row); err != nil {
		tb.Fatal(err)
	}
	return row
}

// sampleLicense builds the license of a sample row as the issuing service would.
func sampleLicense(tb testing.TB, e *templates.Engine, key string) *catalog.License {
	tb.Helper()
	typ, ok := e.Type(key)
	if !ok {
		tb.Fatalf("no type %s", key)
	}
	row := sampleRow(tb, key)
	if ve := e.Check(&typ, row, clock); ve != nil {
		tb.Fatalf("sample %s: %v", key, ve)
	}
	iss := issuers[key]
	serial := "2024WH" + strings.Repeat("0", 2) + "012345"
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
		IssuedAt:   clock,
		Version:    1,
		Status:     catalog.StatusIssued,
	}
	return lic
}

// sampleQR is a short QR text in the shape of the static token (upper-case URL + digits).
const sampleQR = "HTTPS://ZZ.WUHU.GOV.CN/V/0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"

// tokenQR is a QR text of the real length: the base URL and the 564 digits
// of a static token (232 bytes), version 14 at level Q.
var tokenQR = tokenTexts(7, 1, 564, 564)[0]

// tokenTexts returns n printed tokens (upper-case base URL + lo..hi random
// digits), the same for the same seed.
func tokenTexts(seed uint64, n, lo, hi int) []string {
	rng := rand.New(rand.NewPCG(seed, 7))
	bases := []string{"HTTPS://ZZ.WUHU.GOV.CN/V/", "HTTPS://LICENSE.WUHU.GOV.CN/V/", "HTTPS://E.ZZ.GOV.CN:8443/V/"}
	out := make([]string, n)
	for i := range out {
		d := make([]byte, lo+rng.IntN(hi-lo+1))
		for j := range d {
			d[j] = byte('0' + rng.IntN(10))
		}
		out[i] = bases[i%len(bases)] + string(d)
	}
	return out
}

// tool returns the path of an external tool, skipping (or failing under CI=true) when missing.
func tool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s not installed (required when CI=true)", name)
		}
		tb.Skipf("%s not installed; skipping", name)
	}
	return p
}

func problems(ve *catalog.ValidationError) []catalog.FieldError {
	if ve == nil {
		return nil
	}
	return ve.Problems
}
