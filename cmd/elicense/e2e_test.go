package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// needTool skips when an external tool is missing, except in CI where it fails.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
}

// cli runs one command and returns stdout, stderr and the exit status.
func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	code := exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := cli(t, args...)
	if code != 0 {
		t.Fatalf("elicense %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

var (
	demoOnce sync.Once
	demoDir  string
	demoErr  error
)

// demoData returns a data directory with the demo city (PKI included), made
// once per test binary and copied for each test so tests stay independent.
func demoData(t *testing.T) string {
	t.Helper()
	demoOnce.Do(func() {
		demoDir, demoErr = os.MkdirTemp("", "elicense-demo-")
		if demoErr != nil {
			return
		}
		var out, errb bytes.Buffer
		if err := run(context.Background(), []string{"pki", "init", "--data-dir", demoDir}, &out, &errb); err != nil {
			demoErr = errors.New(err.Error() + "\n" + errb.String())
		}
	})
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.CopyFS(dir, os.DirFS(demoDir)); err != nil {
		t.Fatal(err)
	}
	return dir
}

func sample(name string) string { return filepath.Join("..", "..", "testdata", "samples", name) }

func decodeQR(t *testing.T, pngPath string) string {
	t.Helper()
	png, err := os.ReadFile(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	text, err := qrFromPNG(png)
	if err != nil {
		t.Fatalf("%s: %v", pngPath, err)
	}
	return text
}

func TestIssueAndLifecycle(t *testing.T) {
	needTool(t, "qpdf")
	needTool(t, "pdftotext")
	dir := demoData(t)
	d := "--data-dir=" + dir
	pdf := filepath.Join(t.TempDir(), "food.pdf")
	id := strings.TrimSpace(mustCLI(t, "issue", d, "--type", "food-business", "--input", sample("food-business.json"), "--out", pdf))
	if !strings.HasPrefix(id, "1.2.156.3005.2.11100000MB0341032Y002.11340200MB1A23457N.") {
		t.Fatalf("identifier %q", id)
	}
	if out, err := exec.Command("qpdf", "--check", pdf).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	txt, _ := exec.Command("pdftotext", "-raw", pdf, "-").Output()
	flat := strings.Join(strings.Fields(string(txt)), "")
	var row map[string]string
	b, _ := os.ReadFile(sample("food-business.json"))
	json.Unmarshal(b, &row)
	for k, v := range row {
		if !strings.Contains(flat, strings.Join(strings.Fields(v), "")) {
			t.Errorf("pdftotext lacks %s=%q", k, v)
		}
	}
	// The same row again is refused and names the existing license.
	if _, errs, code := cli(t, "issue", d, "--type", "food-business", "--input", sample("food-business.json")); code != 1 || !strings.Contains(errs, id) {
		t.Fatalf("reissue: exit %d %s", code, errs)
	}
	// A bad row: every problem, exit 1, nothing stored.
	_, errs, code := cli(t, "issue", d, "--type", "food-business", "--input", sample("invalid-food-business.json"))
	if code != 1 || !strings.Contains(errs, "holder_code\tbad_check") || !strings.Contains(errs, "uncovered_char") || !strings.Contains(errs, "overflow") {
		t.Fatalf("invalid row: exit %d\n%s", code, errs)
	}
	var list struct {
		Licenses []struct{ Identifier, Status string }
	}
	json.Unmarshal([]byte(mustCLI(t, "license", "list", d, "--json")), &list)
	if len(list.Licenses) != 1 || list.Licenses[0].Identifier != id || list.Licenses[0].Status != "issued" {
		t.Fatalf("list = %+v", list)
	}
	// Lifecycle through the CLI.
	if _, errs, code := cli(t, "license", "suspend", d, id); code != 3 || !strings.Contains(errs, "--reason") {
		t.Fatalf("suspend without reason: %d %s", code, errs)
	}
	mustCLI(t, "license", "suspend", d, id, "--reason", "异议核查")
	if _, _, code := cli(t, "license", "suspend", d, id, "--reason", "again"); code != 1 {
		t.Fatal("suspending a suspended license succeeded")
	}
	mustCLI(t, "license", "resume", d, id)
	mustCLI(t, "license", "revoke", d, id, "--reason", "主体注销")
	show := mustCLI(t, "license", "show", d, id)
	for _, want := range []string{"revoked", "异议核查", "主体注销", "suspended → issued"} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}
}

func TestQROfflineEndToEnd(t *testing.T) {
	needTool(t, "pdftoppm")
	dir := demoData(t)
	d := "--data-dir=" + dir
	tmp := t.TempDir()
	pdf := filepath.Join(tmp, "ops.pdf")
	// The sample row with a validity that covers today.
	var row map[string]any
	b, _ := os.ReadFile(sample("special-operations.json"))
	json.Unmarshal(b, &row)
	row["valid_until"] = "长期"
	rowFile := filepath.Join(tmp, "row.json")
	b, _ = json.Marshal(row)
	os.WriteFile(rowFile, b, 0o600)
	id := strings.TrimSpace(mustCLI(t, "issue", d, "--type", "special-operations", "--input", rowFile, "--out", pdf))
	if out, err := exec.Command("pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", pdf, filepath.Join(tmp, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(tmp, "page*.png"))
	if len(pages) != 1 {
		t.Fatalf("pages: %v", pages)
	}
	text := decodeQR(t, pages[0])
	if !strings.Contains(text, "/V/") {
		t.Fatalf("QR text %q is not a verification URL", text)
	}
	keys, status := filepath.Join(tmp, "keys.bin"), filepath.Join(tmp, "status.bin")
	mustCLI(t, "qr", "keys", "export", d, keys)
	mustCLI(t, "qr", "status", "export", d, status)
	// Offline: the lists from files, nothing from the registry.
	var res struct {
		Authentic, Valid bool
		Reason           string
		License          struct{ Identifier string }
	}
	out := mustCLI(t, "qr", "verify", d, "--json", "--keys", keys, "--status", status, text)
	json.Unmarshal([]byte(out), &res)
	if !res.Valid || res.License.Identifier != id {
		t.Fatalf("scan of the printed QR: %s", out)
	}
	// Changing any one digit fails.
	i := strings.Index(text, "/V/") + 3
	for _, pos := range []int{i, i + 7, i + (len(text)-i)/2, len(text) - 1} {
		b := []byte(text)
		b[pos] = '0' + (b[pos]-'0'+1)%10
		if _, _, code := cli(t, "qr", "verify", d, "--keys", keys, "--status", status, string(b)); code == 0 {
			t.Fatalf("digit %d changed and still valid", pos)
		}
	}
	// Revoke; the exported status list makes the same scan fail offline.
	mustCLI(t, "license", "revoke", d, id, "--reason", "吊销")
	mustCLI(t, "qr", "status", "export", d, status)
	out, _, code := cli(t, "qr", "verify", d, "--json", "--keys", keys, "--status", status, text)
	json.Unmarshal([]byte(out), &res)
	if code != 2 || res.Valid || !res.Authentic || res.Reason != "license_status" {
		t.Fatalf("after revoke: exit %d %s", code, out)
	}
}

func TestDynamicTokenSingleUse(t *testing.T) {
	dir := demoData(t)
	d := "--data-dir=" + dir
	id := strings.TrimSpace(mustCLI(t, "issue", d, "--type", "food-business", "--input", sample("food-business.json")))
	tok := strings.TrimSpace(mustCLI(t, "qr", "token", d, id))
	mustCLI(t, "qr", "verify", d, tok)
	if _, _, code := cli(t, "qr", "verify", d, tok); code != 2 {
		t.Fatalf("second use: exit %d", code)
	}
	// A token whose window has passed: lifetime 1s, verified later is out
	// of window only beyond the 60 s skew, which the qrtoken tests cover
	// with an injected clock; here the lifetime bound is checked.
	if _, errs, code := cli(t, "qr", "token", d, id, "--lifetime", "10m"); code == 0 {
		t.Fatalf("a 10-minute token was made: %s", errs)
	}
}

func TestSealMakeInspectSign(t *testing.T) {
	needTool(t, "qpdf")
	dir := demoData(t)
	d := "--data-dir=" + dir
	tmp := t.TempDir()
	esl := filepath.Join(tmp, "new.esl")
	mustCLI(t, "seal", "make", d, "--dept", "wuhu-psb", "--out", esl, "--years", "2")
	var info struct {
		Version int
		Name    string
		Checks  []struct{ ID, Status string }
	}
	json.Unmarshal([]byte(mustCLI(t, "seal", "inspect", d, "--json", esl)), &info)
	if info.Version != 4 || info.Name != "芜湖市公安局电子证照专用章" || len(info.Checks) != 4 {
		t.Fatalf("inspect = %+v", info)
	}
	for _, c := range info.Checks {
		if c.Status != "pass" {
			t.Errorf("check %s = %s", c.ID, c.Status)
		}
	}
	// A seal from another maker inspects but fails S3 (untrusted): exit 1.
	if _, err := os.Stat(fixture("seals/UserV4.esl")); err == nil {
		if _, _, code := cli(t, "seal", "inspect", d, fixture("seals/UserV4.esl")); code != 1 {
			t.Fatalf("foreign seal: exit %d", code)
		}
	}
	in := filepath.Join(tmp, "in.pdf")
	mustCLI(t, "render", d, "--type", "no-criminal-record", "--input", sample("no-criminal-record.json"), "--out", in)
	for _, f := range []string{"ses", "pkcs7"} {
		out := filepath.Join(tmp, f+".pdf")
		mustCLI(t, "sign", d, "--in", in, "--out", out, "--seal", esl, "--format", f)
		if o, err := exec.Command("qpdf", "--check", out).CombinedOutput(); err != nil {
			t.Fatalf("%s: qpdf: %v %s", f, err, o)
		}
	}
	if _, errs, code := cli(t, "sign", d, "--in", in, "--out", filepath.Join(tmp, "x.pdf")); code != 3 || !strings.Contains(errs, "several departments") {
		t.Fatalf("sign without a seal choice: %d %s", code, errs)
	}
}

// fixture returns the path of a shared fixture beside the repository.
func fixture(name string) string {
	return filepath.Join("..", "..", "..", "shared", "fixtures", name)
}

func TestMain(m *testing.M) {
	// Cheap key files: scrypt at its default cost dominates every command
	// under the race detector.
	os.Setenv("ELICENSE_KEY_SCRYPT_LOG_N", "10")
	code := m.Run()
	if demoDir != "" {
		os.RemoveAll(demoDir)
	}
	os.Exit(code)
}

func TestTemplatesAndRender(t *testing.T) {
	needTool(t, "pdftotext")
	dir := demoData(t)
	d := "--data-dir=" + dir
	list := mustCLI(t, "templates", "list", d)
	for _, k := range []string{"food-business", "special-operations", "no-criminal-record", "11100000000013338W032"} {
		if !strings.Contains(list, k) {
			t.Errorf("templates list lacks %s:\n%s", k, list)
		}
	}
	var shown struct {
		Type   struct{ Key, Name string }
		Layout struct {
			Page struct{ Width, Height float64 }
		}
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "templates", "show", d, "special-operations")), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Type.Key != "special-operations" || shown.Layout.Page.Width == 0 {
		t.Fatalf("templates show = %+v", shown)
	}
	if _, _, code := cli(t, "templates", "show", d, "nope"); code != 3 {
		t.Fatalf("unknown template: exit %d", code)
	}
	out := filepath.Join(t.TempDir(), "preview.pdf")
	mustCLI(t, "render", d, "--type", "food-business", "--input", sample("food-business.json"), "--out", out)
	txt, _ := exec.Command("pdftotext", out, "-").Output()
	if !strings.Contains(string(txt), "样本") || !strings.Contains(string(txt), "JY13402020012345") {
		t.Fatalf("preview lacks the specimen mark or the number:\n%s", txt)
	}
	// A render never reaches the registry.
	var list2 struct{ Licenses []any }
	json.Unmarshal([]byte(mustCLI(t, "license", "list", d, "--json")), &list2)
	if len(list2.Licenses) != 0 {
		t.Fatalf("render stored %d licenses", len(list2.Licenses))
	}
	_, errs, code := cli(t, "render", d, "--type", "special-operations", "--input", sample("invalid-special-operations.json"), "--out", out+"2")
	if code != 1 || !strings.Contains(errs, "holder_code\tbad_check") {
		t.Fatalf("invalid row: exit %d %s", code, errs)
	}
	if _, err := os.Stat(out + "2"); err == nil {
		t.Fatal("a file was written for an invalid row")
	}
}
