package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"elicense/api"
	"elicense/catalog"
	"elicense/catalog/batchio"
	"elicense/catalog/boltstore"
	"elicense/signer"
)

// foodLabels are foodHeader's items by their labels, as a department's own
// sheet names its columns.
var foodLabels = []string{"*经营者名称", "统一社会信用代码", "法定代表人(负责人)", "住所", "经营场所", "主体业态", "经营项目", "许可证编号", "日常监督管理机构", "投诉举报电话", "发证日期", "有效期至"}

var foodHeader = []string{"holder_name", "holder_code", "legal_rep", "address", "premises", "business_kind", "business_items", "license_no", "supervisor", "phone", "valid_from", "valid_until"}

var (
	shopNames = []string{"徽味轩", "鸠兹人家", "江城小馆", "青弋江鲜", "镜湖茶舍", "赭山面馆", "长江鱼庄", "万春食府"}
	roadNames = []string{"赤铸山东路", "北京中路", "中山北路", "九华山路", "银湖北路", "长江中路"}
	repNames  = []string{"王建国", "李秀英", "张伟", "刘芳", "陈静", "杨磊"}
)

// foodRow returns a valid food-business row i (deterministic).
func foodRow(i int) []string {
	body := fmt.Sprintf("91340200MA%07d", i)
	c, _ := catalog.USCCCheckChar(body)
	addr := fmt.Sprintf("安徽省芜湖市鸠江区%s%d号", roadNames[i%len(roadNames)], 1+i%300)
	from := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%900)
	return []string{fmt.Sprintf("芜湖市%s%d餐饮有限公司", shopNames[i%len(shopNames)], i), body + string(c), repNames[i%len(repNames)],
		addr, addr + "1幢101室", "餐饮服务经营者（小型餐馆）", "热食类食品制售；冷食类食品制售", fmt.Sprintf("JY134020%08d", i+1),
		"芜湖市鸠江区市场监督管理局", "12315", from.Format("2006-01-02"), from.AddDate(5, 0, -1).Format("2006-01-02")}
}

// plantedRows maps a data row index to a change that makes it bad, and the
// item and code the report must name.
var plantedRows = map[int]struct {
	col, value, item, code string
}{
	7:   {"holder_code", "BADCHECK", "holder_code", catalog.CodeBadCheck},
	88:  {"legal_rep", "", "legal_rep", catalog.CodeRequired},
	150: {"valid_from", "2023-02-30", "valid_from", catalog.CodeBadDate},
	230: {"holder_name", "芜湖市𠮷野家餐饮有限公司", "holder_name", "uncovered_char"},
	311: {"holder_code", "91340200MA000031", "holder_code", catalog.CodeBadLength},
	402: {"supervisor", "", "supervisor", catalog.CodeRequired},
	509: {"valid_until", "2024-13-01", "valid_until", catalog.CodeBadDate},
	612: {"address", "安徽省芜湖市𠮷路1号", "address", "uncovered_char"},
	777: {"holder_code", "BADCHECK", "holder_code", catalog.CodeBadCheck},
	901: {"phone", "一二三一五", "phone", catalog.CodeBadValue},
}

func plantedTable(n int) [][]string {
	rows := [][]string{foodHeader}
	for i := 0; i < n; i++ {
		r := foodRow(i)
		if p, ok := plantedRows[i]; ok {
			for c, k := range foodHeader {
				if k == p.col {
					if p.value != "BADCHECK" {
						r[c] = p.value
					} else { // the valid code with a wrong check character
						last := r[c][17] // the valid code with a wrong check character
						r[c] = r[c][:17] + string("0123456789ABCDEFGHJKLMNPQRTUWXY"[(strings.IndexByte("0123456789ABCDEFGHJKLMNPQRTUWXY", last)+1)%31])
					}
				}
			}
		}
		rows = append(rows, r)
	}
	return rows
}

func writeCSVFile(t *testing.T, path string, rows [][]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.WriteAll(rows)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeXLSXFile(t *testing.T, path string, rows [][]string) {
	t.Helper()
	x := excelize.NewFile()
	sw, err := x.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		cells := make([]any, len(r))
		for j, v := range r {
			cells[j] = v
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, cells); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := x.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

type reportLine struct{ row, key, outcome, id, item, code, msg string }

func readReport(t *testing.T, path string) []reportLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "\uFEFF") {
		t.Fatal("report has no BOM")
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []reportLine
	for _, r := range recs[1:] {
		out = append(out, reportLine{r[0], r[1], r[2], r[3], r[4], r[5], r[6]})
	}
	return out
}

func TestBatchPlantedRows(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 300
	}
	dir := demoData(t)
	clean := filepath.Join(t.TempDir(), "clean")
	if err := os.CopyFS(clean, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	rows := plantedTable(n)
	in := filepath.Join(work, "rows.csv")
	writeCSVFile(t, in, rows)
	out := filepath.Join(work, "out")
	stdout, stderr, code := cli(t, "batch", "--data-dir", dir, "--type", "food-business", "--input", in, "--out", out, "--progress", "none")
	want := 0
	for i := range plantedRows {
		if i < n {
			want++
		}
	}
	if code != 1 || !strings.Contains(stderr, fmt.Sprintf("%d row(s) rejected", want)) {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	first := readReport(t, in+".report.csv")
	rejected := map[int]reportLine{}
	ids := map[string]bool{}
	for _, l := range first {
		num, _ := strconv.Atoi(l.row)
		switch l.outcome {
		case "rejected":
			rejected[num-2] = l
		case "issued":
			if ids[l.id] {
				t.Fatalf("identifier %s twice", l.id)
			}
			ids[l.id] = true
			if _, err := os.Stat(filepath.Join(out, l.id+".pdf")); err != nil {
				t.Fatalf("row %s: %v", l.row, err)
			}
		default:
			t.Fatalf("first run: outcome %q on row %s", l.outcome, l.row)
		}
	}
	if len(rejected) != want || len(ids) != n-want {
		t.Fatalf("%d rejected, %d issued; want %d, %d", len(rejected), len(ids), want, n-want)
	}
	for i, p := range plantedRows {
		if i >= n {
			continue
		}
		l, ok := rejected[i]
		if !ok || l.item != p.item || l.code != p.code || l.msg == "" {
			t.Errorf("row %d: got %+v, want %s %s", i+2, l, p.item, p.code)
		}
	}
	// The manifest verifies, also against the files.
	manifest := in + ".manifest.json"
	mustCLI(t, "batch", "verify", "--data-dir", dir, manifest, "--dir", out)

	// Rerun: nothing new, every issued row reported as existing with its identifier.
	_, stderr, code = cli(t, "batch", "--data-dir", dir, "--type", "food-business", "--input", in, "--progress", "none")
	if code != 1 {
		t.Fatalf("rerun exit %d: %s", code, stderr)
	}
	second := readReport(t, in+".report.csv")
	if len(second) != len(first) {
		t.Fatalf("rerun: %d lines, first run %d", len(second), len(first))
	}
	for i := range first {
		a, b := first[i], second[i]
		if a.outcome == "issued" {
			a.outcome = "existing"
		}
		if a != b {
			t.Fatalf("rerun line %d: %+v, first run %+v", i, b, a)
		}
	}
	countLicenses(t, dir, n-want)

	// The same rows as XLSX, into the same starting state, give the same
	// report, also with the column names a department's own sheet has:
	// the items' labels (brackets of either width, a required marker).
	xin := filepath.Join(work, "rows.xlsx")
	labelled := append([][]string{foodLabels}, rows[1:]...)
	writeXLSXFile(t, xin, labelled)
	cli(t, "batch", "--data-dir", clean, "--type", "food-business", "--input", xin, "--progress", "none")
	third := readReport(t, xin+".report.csv")
	if len(third) != len(first) {
		t.Fatalf("xlsx: %d lines, csv %d", len(third), len(first))
	}
	for i := range first {
		if first[i] != third[i] {
			t.Fatalf("xlsx line %d: %+v, csv %+v", i, third[i], first[i])
		}
	}
}

// countLicenses checks the registry: want records, each with its file whose
// SM3 equals the recorded digest, no license number twice.
func countLicenses(t *testing.T, dataDir string, want int) {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(dataDir, "elicense.db"), &boltstore.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	numbers := map[string]string{}
	cursor := ""
	for {
		p, err := st.List(context.Background(), catalog.Filter{TypeKey: "food-business"}, cursor, catalog.MaxPageSize)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range p.Licenses {
			if prev, dup := numbers[l.Number]; dup {
				t.Fatalf("license number %s issued twice: %s and %s", l.Number, prev, l.ID)
			}
			numbers[l.Number] = l.ID
			data, err := readLicenseFile(filepath.Join(dataDir, "files"), l.ID)
			if err != nil {
				t.Fatalf("record %s without its file: %v", l.ID, err)
			}
			h := signer.NewSM3()
			h.Write(data)
			if got := hex.EncodeToString(h.Sum(nil)); got != l.Digest {
				t.Fatalf("%s: file SM3 %s, record %s", l.ID, got, l.Digest)
			}
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if len(numbers) != want {
		t.Fatalf("%d licenses in the registry, want %d", len(numbers), want)
	}
}

func TestBatchManifestTamper(t *testing.T) {
	dir := demoData(t)
	work := t.TempDir()
	rows := [][]string{foodHeader}
	for i := 0; i < 5; i++ {
		rows = append(rows, foodRow(5000+i))
	}
	in := filepath.Join(work, "rows.jsonl")
	var b strings.Builder
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, k := range foodHeader {
			m[k] = r[i]
		}
		j, _ := json.Marshal(m)
		b.Write(j)
		b.WriteByte('\n')
	}
	os.WriteFile(in, []byte(b.String()), 0o644)
	out := filepath.Join(work, "out")
	mustCLI(t, "batch", "--data-dir", dir, "--type", "food-business", "--input", in, "--out", out, "--progress", "none")
	manifest := in + ".manifest.json"
	mustCLI(t, "batch", "verify", "--data-dir", dir, manifest, "--dir", out)
	mustCLI(t, "batch", "verify", "--data-dir", dir, manifest, "--dir", filepath.Join(dir, "files"))
	raw, _ := os.ReadFile(manifest)
	var env manifestEnvelope
	json.Unmarshal(raw, &env)
	payload, _ := base64.StdEncoding.DecodeString(env.Payload)

	entries, _ := os.ReadDir(out)
	victim := filepath.Join(out, entries[2].Name())
	orig, _ := os.ReadFile(victim)

	tests := []struct {
		name   string
		mutate func(t *testing.T) string // returns the manifest path to verify
		dir    string
	}{
		{name: "file changed", dir: out, mutate: func(t *testing.T) string {
			bad := append([]byte{}, orig...)
			bad[len(bad)/2] ^= 1
			os.WriteFile(victim, bad, 0o644)
			t.Cleanup(func() { os.WriteFile(victim, orig, 0o644) })
			return manifest
		}},
		{name: "file missing", dir: out, mutate: func(t *testing.T) string {
			os.Remove(victim)
			t.Cleanup(func() { os.WriteFile(victim, orig, 0o644) })
			return manifest
		}},
		{name: "payload changed", mutate: func(t *testing.T) string {
			p := strings.Replace(string(payload), `"rejected":0`, `"rejected":1`, 1)
			return writeEnv(t, env, []byte(p), "")
		}},
		{name: "listed digest changed", mutate: func(t *testing.T) string {
			e := env
			e.Licenses = append([]manifestLicense{}, env.Licenses...)
			e.Licenses[0].Digest = strings.Repeat("0", 64)
			return writeEnv(t, e, payload, "")
		}},
		{name: "license dropped from the list", mutate: func(t *testing.T) string {
			e := env
			e.Licenses = env.Licenses[1:]
			return writeEnv(t, e, payload, "")
		}},
		{name: "signed by a key outside the city", mutate: func(t *testing.T) string {
			k, _ := signer.GenerateKey(rand.Reader)
			sig, _ := signer.SignMessage(k, rand.Reader, payload)
			return writeEnv(t, env, payload, base64.StdEncoding.EncodeToString(sig))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"batch", "verify", "--data-dir", dir, tc.mutate(t)}
			if tc.dir != "" {
				args = append(args, "--dir", tc.dir)
			}
			out, _, code := cli(t, args...)
			if code != 1 || !strings.Contains(out, "FAIL") {
				t.Fatalf("exit %d, want 1 with FAIL\n%s", code, out)
			}
		})
	}
}

func writeEnv(t *testing.T, env manifestEnvelope, payload []byte, sig string) string {
	env.Payload = base64.StdEncoding.EncodeToString(payload)
	if sig != "" {
		env.Signature = sig
	}
	b, _ := json.Marshal(env)
	p := filepath.Join(t.TempDir(), "m.json")
	os.WriteFile(p, b, 0o644)
	return p
}

// TestBatchKill runs a batch in a child process (this test binary,
// re-executed), kills it with SIGKILL part-way, reruns it to the end, and
// checks the registry: no license lost or issued twice, every record's file
// has the recorded SM3. Rows: 2,000 (-short: 400); ELICENSE_KILL_ROWS sets
// another count (make test-kill uses 20,000).
func TestBatchKill(t *testing.T) {
	if os.Getenv("ELICENSE_BATCH_CHILD") != "" {
		t.Skip("child")
	}
	n := 2000
	if testing.Short() {
		n = 400
	}
	if v, err := strconv.Atoi(os.Getenv("ELICENSE_KILL_ROWS")); err == nil && v > 0 {
		n = v
	}
	dir := demoData(t)
	work := t.TempDir()
	rows := [][]string{foodHeader}
	for i := 0; i < n; i++ {
		rows = append(rows, foodRow(100000+i))
	}
	in := filepath.Join(work, "rows.csv")
	writeCSVFile(t, in, rows)
	args := []string{"batch", "--data-dir", dir, "--type", "food-business", "--input", in, "--progress", "lines", "--progress-every", "100ms"}

	kills := 0
	for attempt := 0; attempt < 3; attempt++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBatchChild$")
		cmd.Env = append(os.Environ(), "ELICENSE_BATCH_CHILD="+strings.Join(args, "\x1f"))
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill once a share of the rows is durable (read from the progress lines).
		target := n * (attempt + 1) / 4
		buf := make([]byte, 4096)
		acc := ""
		killed := false
		for {
			k, err := stderr.Read(buf)
			acc += string(buf[:k])
			if done := lastDone(acc); done >= target {
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
				break
			}
			if err != nil {
				break
			}
		}
		err := cmd.Wait()
		if killed && err != nil {
			kills++
			t.Logf("killed after about %d of %d rows", lastDone(acc), n)
			continue
		}
		break
	}
	if kills == 0 {
		t.Log("the batch finished before it could be killed")
	}
	_, stderr, code := cli(t, args...)
	if code != 0 {
		t.Fatalf("rerun exit %d: %s", code, stderr)
	}
	countLicenses(t, dir, n)
	rep := readReport(t, in+".report.csv")
	if len(rep) != n {
		t.Fatalf("report: %d lines for %d rows", len(rep), n)
	}
	mustCLI(t, "batch", "verify", "--data-dir", dir, in+".manifest.json", "--dir", filepath.Join(dir, "files"))
	var env manifestEnvelope
	raw, _ := os.ReadFile(in + ".manifest.json")
	json.Unmarshal(raw, &env)
	payload, _ := base64.StdEncoding.DecodeString(env.Payload)
	var m batchManifest
	json.Unmarshal(payload, &m)
	if m.Counts.Issued != n || len(env.Licenses) != n || m.Counts.Rows != n {
		t.Fatalf("manifest counts %+v with %d licenses, want %d", m.Counts, len(env.Licenses), n)
	}
	// Orphan files (written, never recorded) are allowed; count them for the log.
	files := 0
	filepath.WalkDir(filepath.Join(dir, "files"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return nil
	})
	t.Logf("%d rows, %d kills, %d files for %d records", n, kills, files, n)
}

// lastDone returns the row count of the last complete progress line.
func lastDone(s string) int {
	lines := strings.Split(s, "\n")
	for i := len(lines) - 2; i >= 0; i-- {
		if rest, ok := strings.CutPrefix(lines[i], "batch: "); ok {
			f := strings.FieldsFunc(rest, func(r rune) bool { return r == '/' || r == ' ' })
			if len(f) > 0 {
				if v, err := strconv.Atoi(f[0]); err == nil {
					return v
				}
			}
		}
	}
	return 0
}

// TestBatchChild is the child process of TestBatchKill.
func TestBatchChild(t *testing.T) {
	v := os.Getenv("ELICENSE_BATCH_CHILD")
	if v == "" {
		t.Skip("only as the child of TestBatchKill")
	}
	err := run(context.Background(), strings.Split(v, "\x1f"), os.Stdout, os.Stderr)
	os.Exit(exitCode(err, os.Stderr))
}

// TestBatchHTTP: a department uploads an XLSX file through the API (the
// file part after the others, streamed to disk), polls the job, and
// downloads the per-row report (the planted rows rejected with their codes)
// and the manifest, which verifies against the city root and the files.
func TestBatchHTTP(t *testing.T) {
	e := newAPIEnv(t, api.Limits{KeyRate: 1000, KeyBurst: 1000})
	const n = 240 // planted rows 7, 88, 150 and 230 fall inside
	work := t.TempDir()
	xin := filepath.Join(work, "rows.xlsx")
	writeXLSXFile(t, xin, plantedTable(n))
	data, err := os.ReadFile(xin)
	if err != nil {
		t.Fatal(err)
	}
	var st api.BatchStatus
	e.must("deptY", req{method: "POST", path: "/api/v1/batches", form: map[string]string{"type": "food-business", "name": "台账.xlsx", "file": string(data)}}, 202).json(t, &st)
	st = e.waitBatch("deptY", st.ID)
	if st.Error != "" || st.Done != n || st.Issued != n-4 || st.Rejected != 4 || st.Report == "" || st.Manifest == "" {
		t.Fatalf("finished batch: %+v", st)
	}
	if ents, _ := os.ReadDir(filepath.Join(e.app.cfg.DataDir, "batches", "incoming")); len(ents) != 0 {
		t.Fatalf("the upload was left behind: %v", ents)
	}
	rep := e.must("deptY", req{method: "GET", path: st.Report}, 200).body
	rpath := filepath.Join(work, "report.csv")
	os.WriteFile(rpath, rep, 0o600)
	lines := readReport(t, rpath)
	rejected := map[string]string{}
	for _, l := range lines {
		if l.outcome == "rejected" {
			rejected[l.row] = l.item + ":" + l.code
		}
	}
	for i, p := range plantedRows {
		if i >= n {
			continue
		}
		if got := rejected[strconv.Itoa(i+2)]; got != p.item+":"+p.code {
			t.Errorf("sheet row %d: report says %q, want %s:%s", i+2, got, p.item, p.code)
		}
	}
	if len(rejected) != 4 || len(lines) != n {
		t.Fatalf("%d report lines, %d rejected", len(lines), len(rejected))
	}
	raw := e.must("deptY", req{method: "GET", path: st.Manifest}, 200).body
	p, err := e.app.PKI(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	m, problems, err := verifyManifest(raw, p.RootPEM(), e.app.files.Root)
	if err != nil || len(problems) != 0 || m.Counts.Issued != n-4 || m.Source.Name != "台账.xlsx" {
		t.Fatalf("manifest: %v %v %+v", problems, err, m)
	}
	// Uploading the same file again resumes the batch: nothing new.
	e.must("deptY", req{method: "POST", path: "/api/v1/batches", form: map[string]string{"type": "food-business", "name": "台账.xlsx", "file": string(data)}}, 202).json(t, &st)
	if st = e.waitBatch("deptY", st.ID); st.Issued != 0 || st.Existing != n-4 {
		t.Fatalf("rerun: %+v", st)
	}
	// Another department may not read the report.
	e.must("deptX", req{method: "GET", path: st.Report}, 403)
	// After a restart (no job in memory) the batch's last run is described
	// as it ended: the same counts, rejected rows and links.
	fresh := &apiBatches{a: e.app}
	ctx := context.Background()
	after, err := fresh.Status(ctx, st.ID)
	if err != nil || !reflect.DeepEqual(after, st) || len(after.Problems) != 4 {
		t.Fatalf("after a restart: %+v %v (before: %+v)", after, err, st)
	}
	// Without that status (lost, unreadable, or left by an earlier run) it
	// is described from its journal: the rows issued over all its runs.
	statusFile := filepath.Join(e.app.cfg.DataDir, "batches", st.ID, finalStatusName)
	bt, err := e.app.store.GetBatch(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(statusFile)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"unreadable":  []byte("{"),
		"earlier run": bytes.Replace(saved, []byte(fmt.Sprintf(`"run":%d,`, bt.Runs)), []byte(fmt.Sprintf(`"run":%d,`, bt.Runs-1)), 1),
		"other batch": bytes.Replace(saved, []byte(st.ID), []byte("B000000000000000000000000"), 1),
	} {
		if bytes.Equal(content, saved) {
			t.Fatalf("%s: status file unchanged", name)
		}
		os.WriteFile(statusFile, content, 0o600)
		after, err := fresh.Status(ctx, st.ID)
		if err != nil || !after.Finished || after.Issued != n-4 || after.Existing != 0 || after.Total != -1 || after.Dept != st.Dept ||
			after.Error != "" || after.Report != st.Report || after.Manifest != st.Manifest || after.Problems != nil {
			t.Fatalf("%s: after a restart: %+v %v (before: %+v)", name, after, err, st)
		}
	}
	os.WriteFile(statusFile, saved, 0o600)
	rc, err := fresh.Manifest(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := io.ReadAll(rc)
	rc.Close()
	if m2, problems, err := verifyManifest(again, p.RootPEM(), e.app.files.Root); err != nil || len(problems) != 0 || m2.Merkle.Root != m.Merkle.Root {
		t.Fatalf("manifest after a restart: %v %v", problems, err)
	}
	if _, err := fresh.Status(ctx, "B000000000000000000000000"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("unknown batch: %v", err)
	}
	// An old binary workbook is refused; a name without a known extension
	// is read as CSV (these three rows were issued above).
	e.must("deptY", req{method: "POST", path: "/api/v1/batches", form: map[string]string{"type": "food-business", "name": "旧表.xls", "file": string(data)}}, 422)
	var csvText strings.Builder
	cw := csv.NewWriter(&csvText)
	cw.WriteAll(plantedTable(3))
	e.must("deptY", req{method: "POST", path: "/api/v1/batches", form: map[string]string{"type": "food-business", "name": "rows.txt", "file": csvText.String()}}, 202).json(t, &st)
	if st = e.waitBatch("deptY", st.ID); st.Existing != 3 || st.Rejected != 0 || st.Error != "" {
		t.Fatalf("rows.txt: %+v", st)
	}
}

// TestBatchGC: the collector's target is 200 % during a batch and back to
// what it was after it; an operator's GOGC wins.
func TestBatchGC(t *testing.T) {
	gcPercent := func() int { p := debug.SetGCPercent(100); debug.SetGCPercent(p); return p }
	defer debug.SetGCPercent(debug.SetGCPercent(70))
	t.Setenv("GOGC", "")
	restore := batchGC()
	if got := gcPercent(); got != 200 {
		t.Fatalf("during a batch: GOGC %d", got)
	}
	restore()
	if got := gcPercent(); got != 70 {
		t.Fatalf("after a batch: GOGC %d, want 70 back", got)
	}
	t.Setenv("GOGC", "70")
	restore = batchGC()
	if got := gcPercent(); got != 70 {
		t.Fatalf("GOGC=70 in the environment: %d during a batch", got)
	}
	restore()
}

// TestBatchHeader: a header row that does not fit the type is refused before
// any row is read, with every problem named, by the CLI and over HTTP; no
// batch is recorded.
func TestBatchHeader(t *testing.T) {
	dir := demoData(t)
	work := t.TempDir()
	rows := plantedTable(5)
	rows[0] = append([]string{"序号"}, foodHeader[1:]...) // holder_name missing, an extra column
	for i := 1; i < len(rows); i++ {
		rows[i] = append([]string{strconv.Itoa(i)}, rows[i][1:]...)
	}
	in := filepath.Join(work, "rows.csv")
	writeCSVFile(t, in, rows)
	stdout, stderr, code := cli(t, "batch", "--data-dir", dir, "--type", "food-business", "--input", in, "--progress", "none")
	if code == 0 || !strings.Contains(stderr, "序号") || !strings.Contains(stderr, "unknown_item") ||
		!strings.Contains(stderr, "holder_name") || !strings.Contains(stderr, "经营者名称") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(in + ".report.csv"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a report for a refused file: %v", err)
	}
	st, err := boltstore.Open(filepath.Join(dir, "elicense.db"), &boltstore.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ft, err := st.GetType(ctx, "food-business")
	if err != nil {
		t.Fatal(err)
	}
	digest, _, err := sourceDigest(in)
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.GetBatch(ctx, batchID(ft.Key, ft.IssuingDepts[0], digest))
	st.Close()
	if !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("a batch recorded for a refused file: %v", err)
	}

	e := newAPIEnv(t, api.Limits{KeyRate: 1000, KeyBurst: 1000})
	var csvText strings.Builder
	cw := csv.NewWriter(&csvText)
	cw.WriteAll(rows)
	res := e.must("deptY", req{method: "POST", path: "/api/v1/batches", form: map[string]string{"type": "food-business", "name": "rows.csv", "file": csvText.String()}}, 422)
	var body struct {
		Error struct {
			Code   string `json:"code"`
			Fields []struct{ Item, Code, Message string }
		} `json:"error"`
	}
	res.json(t, &body)
	got := map[string]string{}
	for _, f := range body.Error.Fields {
		got[f.Item] = f.Code
	}
	if len(got) != 2 || got["序号"] != "unknown_item" || got["holder_name"] != "required" {
		t.Fatalf("422 body: %+v", body)
	}
	if ents, _ := os.ReadDir(filepath.Join(e.app.cfg.DataDir, "batches", "incoming")); len(ents) != 0 {
		t.Fatalf("the refused upload was left behind: %v", ents)
	}
}

// TestBatchTemplate: the template a department downloads, filled in as it
// would be (an 18-digit code typed into a text cell, an option from the
// drop-down), is issued as it is, XLSX over HTTP and CSV with the CLI.
func TestBatchTemplate(t *testing.T) {
	e := newAPIEnv(t, api.Limits{KeyRate: 1000, KeyBurst: 1000})
	ctx := context.Background()
	ft, err := e.app.store.GetType(ctx, "food-business")
	if err != nil {
		t.Fatal(err)
	}
	res := e.must("anon", req{method: "GET", path: "/api/v1/types/food-business/batch-template"}, 200)
	if cd := res.header.Get("Content-Disposition"); !strings.Contains(cd, `filename="food-business.xlsx"`) || !strings.Contains(cd, "filename*=UTF-8''") {
		t.Fatalf("Content-Disposition %q", cd)
	}
	f, err := excelize.OpenReader(bytes.NewReader(res.body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) != 2 || sheets[1] != "填写说明" {
		t.Fatalf("sheets %v", sheets)
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil || len(rows) != 1 || !reflect.DeepEqual(rows[0], batchio.TemplateColumns(ft)) {
		t.Fatalf("template rows %v (%v)", rows, err)
	}
	if rows[0][0] != "*经营者名称" {
		t.Fatalf("first column %q", rows[0][0])
	}
	// Every column is text, so a typed 18-digit code stays a code.
	for i := range rows[0] {
		col, _ := excelize.ColumnNumberToName(i + 1)
		id, err := f.GetCellStyle(sheets[0], col+"5")
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil || st.NumFmt != 49 {
			t.Fatalf("column %s: style %+v (%v), want number format 49 (text)", col, st, err)
		}
	}
	// An item with options gets a drop-down list (性别 of special-operations).
	so, err := excelize.OpenReader(bytes.NewReader(e.must("anon", req{method: "GET", path: "/api/v1/types/special-operations/batch-template"}, 200).body))
	if err != nil {
		t.Fatal(err)
	}
	dvs, err := so.GetDataValidations("证照数据")
	so.Close()
	if err != nil || len(dvs) != 1 || !strings.Contains(dvs[0].Formula1, "男,女") || !strings.HasPrefix(dvs[0].Sqref, "C2:") {
		t.Fatalf("drop-down lists: %+v (%v)", dvs, err)
	}
	notes, _ := f.GetRows(sheets[1])
	if len(notes) != 2+len(ft.Items) || notes[2+1][1] != "holder_code" || notes[2+1][3] != "18 位统一社会信用代码" {
		t.Fatalf("notes: %v", notes)
	}
	// Fill the first sheet by columns, as the department does.
	const n = 20
	col := map[string]int{}
	for i, k := range foodHeader {
		col[k] = i
	}
	// Dates come as a department's sheet has them: real date cells in
	// Excel's default date format, and text such as 2030年12月31日.
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	for r := 0; r < n; r++ {
		vals := foodRow(r)
		for i, it := range ft.Items {
			cell, _ := excelize.CoordinatesToCellName(i+1, r+2)
			v := vals[col[it.Key]]
			switch it.Key {
			case "valid_from":
				day, err := time.Parse(catalog.DateLayout, v)
				if err != nil {
					t.Fatal(err)
				}
				f.SetCellValue(sheets[0], cell, day)
				f.SetCellStyle(sheets[0], cell, cell, dateStyle)
			case "valid_until":
				day, _ := time.Parse(catalog.DateLayout, v)
				f.SetCellStr(sheets[0], cell, day.Format("2006年1月2日"))
			default:
				f.SetCellStr(sheets[0], cell, v)
			}
		}
	}
	var filled bytes.Buffer
	if _, err := f.WriteTo(&filled); err != nil {
		t.Fatal(err)
	}
	var st api.BatchStatus
	e.must("deptY", req{method: "POST", path: "/api/v1/batches", form: map[string]string{"type": "food-business", "name": "模板.xlsx", "file": filled.String()}}, 202).json(t, &st)
	if st = e.waitBatch("deptY", st.ID); st.Issued != n || st.Rejected != 0 || st.Error != "" {
		t.Fatalf("filled XLSX template: %+v", st)
	}
	// The registry holds the dates as YYYY-MM-DD.
	first, err := e.app.store.GetByNumber(ctx, "food-business", foodRow(0)[col["license_no"]])
	if err != nil {
		t.Fatal(err)
	}
	if first.Values["valid_from"] != foodRow(0)[col["valid_from"]] || first.Values["valid_until"] != foodRow(0)[col["valid_until"]] {
		t.Fatalf("stored dates %q %q, sheet %q %q", first.Values["valid_from"], first.Values["valid_until"], foodRow(0)[col["valid_from"]], foodRow(0)[col["valid_until"]])
	}

	// The CSV template with rows appended, through the CLI.
	csvT := e.must("anon", req{method: "GET", path: "/api/v1/types/food-business/batch-template?format=csv"}, 200).body
	var buf bytes.Buffer
	buf.Write(csvT)
	cw := csv.NewWriter(&buf)
	for r := n; r < 2*n; r++ {
		vals := foodRow(r)
		line := make([]string, len(ft.Items))
		for i, it := range ft.Items {
			line[i] = vals[col[it.Key]]
		}
		cw.Write(line)
	}
	cw.Flush()
	e.must("anon", req{method: "GET", path: "/api/v1/types/food-business/batch-template?format=pdf"}, 422)
	e.must("anon", req{method: "GET", path: "/api/v1/types/no-such-type/batch-template"}, 404)
	in := filepath.Join(t.TempDir(), "模板.csv")
	os.WriteFile(in, buf.Bytes(), 0o600)
	e.app.Close()
	// `elicense batch template` writes the same file.
	cliT := filepath.Join(t.TempDir(), "t.csv")
	mustCLI(t, "batch", "template", "--data-dir", e.app.cfg.DataDir, "--type", "food-business", "--out", cliT)
	if b, err := os.ReadFile(cliT); err != nil || !bytes.Equal(b, csvT) {
		t.Fatalf("CLI template %q, API %q (%v)", b, csvT, err)
	}
	if _, _, code := cli(t, "batch", "template", "--data-dir", e.app.cfg.DataDir, "--type", "food-business", "--out", "t.pdf"); code != 3 {
		t.Fatalf("--out t.pdf: exit %d", code)
	}
	if stdout, stderr, code := cli(t, "batch", "--data-dir", e.app.cfg.DataDir, "--type", "food-business", "--input", in, "--progress", "none"); code != 0 {
		t.Fatalf("filled CSV template: exit %d\n%s%s", code, stdout, stderr)
	}
	lines := readReport(t, in+".report.csv")
	if len(lines) != n || lines[0].outcome != "issued" {
		t.Fatalf("CSV template report: %+v", lines)
	}
}

// TestBatchCheck: checking a file issues nothing and says per row what a
// batch would do: the planted rows rejected with the batch's codes, a
// repeated number as duplicate, the rest valid; after the batch, existing
// (the repeated number too), as a rerun of the batch says.
// Over HTTP the same file gives the same counts.
func TestBatchCheck(t *testing.T) {
	dir := demoData(t)
	work := t.TempDir()
	const n = 300
	rows := plantedTable(n)
	rows = append(rows, rows[5]) // row 5's number again, on the last row
	in := filepath.Join(work, "rows.csv")
	writeCSVFile(t, in, rows)
	planted := 0
	for i := range plantedRows {
		if i < n {
			planted++
		}
	}
	stdout, stderr, code := cli(t, "batch", "check", "--data-dir", dir, "--type", "food-business", "--input", in)
	want := fmt.Sprintf("checked %d rows of rows.csv as food-business", n+1)
	if code != 1 || !strings.Contains(stdout, want) || !strings.Contains(stdout, fmt.Sprintf("%d valid, 0 existing, %d rejected", n-planted, planted+1)) {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	lines := readReport(t, in+".check.csv")
	got := map[string]string{}
	for _, l := range lines {
		if l.outcome == "rejected" {
			got[l.row] = l.item + ":" + l.code
		} else if l.outcome != "valid" || l.id != "" {
			t.Fatalf("line %+v", l)
		}
	}
	for i, p := range plantedRows {
		if i < n && got[strconv.Itoa(i+2)] != p.item+":"+p.code {
			t.Errorf("row %d: %q, want %s:%s", i+2, got[strconv.Itoa(i+2)], p.item, p.code)
		}
	}
	if got[strconv.Itoa(n+2)] != "license_no:duplicate" {
		t.Errorf("the repeated number: %q", got[strconv.Itoa(n+2)])
	}
	countLicenses(t, dir, 0)

	// After the batch every valid row is existing.
	cli(t, "batch", "--data-dir", dir, "--type", "food-business", "--input", in, "--progress", "none")
	stdout, _, _ = cli(t, "batch", "check", "--data-dir", dir, "--type", "food-business", "--input", in, "--report", filepath.Join(work, "again.csv"))
	// (the repeated number is in force now: existing, as a rerun of the
	// batch reports it)
	if !strings.Contains(stdout, fmt.Sprintf("0 valid, %d existing, %d rejected", n-planted+1, planted)) {
		t.Fatalf("after the batch: %s", stdout)
	}
	for _, l := range readReport(t, filepath.Join(work, "again.csv")) {
		if l.outcome == "existing" && !strings.HasPrefix(l.id, "1.2.156.3005.2.") {
			t.Fatalf("existing row without its identifier: %+v", l)
		}
	}

	// Over HTTP, into a data directory where nothing is issued yet.
	e := newAPIEnv(t, api.Limits{KeyRate: 1000, KeyBurst: 1000})
	data, _ := os.ReadFile(in)
	var res api.BatchCheck
	e.must("deptY", req{method: "POST", path: "/api/v1/batches/check", form: map[string]string{"type": "food-business", "name": "rows.csv", "file": string(data)}}, 200).json(t, &res)
	if res.Rows != n+1 || res.Valid != n-planted || res.Rejected != planted+1 || len(res.Problems) != planted+1 || res.Dept == "" {
		t.Fatalf("check over HTTP: %+v", res)
	}
	e.must("deptX", req{method: "POST", path: "/api/v1/batches/check", form: map[string]string{"type": "food-business", "name": "rows.csv", "file": string(data)}}, 403)
	if ents, _ := os.ReadDir(filepath.Join(e.app.cfg.DataDir, "batches", "incoming")); len(ents) != 0 {
		t.Fatalf("the checked upload was left behind: %v", ents)
	}
	if p, err := e.app.store.List(context.Background(), catalog.Filter{}, "", 10); err != nil || len(p.Licenses) != 0 {
		t.Fatalf("a check issued licenses: %+v (%v)", p, err)
	}
}
