//go:build ignore

// bench runs the load benchmarks against the elicense binary.
//
// Batch issuing (the default): it generates N synthetic food-business
// rows, issues them with `elicense batch` into a fresh data directory, and
// prints licenses per second, CPU seconds per license and peak RSS, then
// the crypto floor measured in the same run (SM3 over each produced file
// plus one SM2 signature each, on one core) and the ratio.
//
// Verification over HTTP (-http): it issues N licenses that way, starts
// `elicense serve` on them (rate limits lifted in elicense.toml, so the
// figures are the server's, not the limiter's), then for each endpoint
// user units, clerks and phones call runs C concurrent clients for D and
// prints requests per second, latency percentiles, the serve process's
// CPU per request and, for the endpoints with cryptography, the floor
// measured in the same run on one core (SM3 of the file + two SM2
// verifications for a PDF; one SM2 verification for a QR token) and the
// ratio. The clients run on the same machine and their CPU is printed
// too: on 2 cores they take a share of what the server could use.
//
//	go run scripts/bench.go -n 10000 [-bin bin/elicense] [-keep DIR] [-cpuprofile FILE]
//	go run scripts/bench.go -api -n 10000   # through serve and POST /api/v1/batches
//	go run scripts/bench.go -http -n 1000 [-c 8] [-d 10s]   # the verification endpoints
//	go run scripts/bench.go -gen -n 1000 -out rows.csv   # only write rows
package main

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"math"
	mrand "math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"elicense/catalog"
	"elicense/signer"
)

var (
	surnames  = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	given     = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉力斌波宁云飞鹏海燕春梅林雪琳晨阳")
	shops     = []string{"徽味轩", "鸠兹人家", "江城小馆", "青弋江鲜", "镜湖茶舍", "赭山面馆", "长江鱼庄", "万春食府", "三山烧烤", "湾沚米粉", "繁昌土菜", "南陵酒家", "无为板鸭", "芜湖虾籽面", "陶辛藕粉", "天门山农家乐"}
	kinds     = []string{"有限公司", "餐饮管理有限公司", "食品有限公司", "餐饮店", "商贸有限公司"}
	roads     = []string{"赤铸山东路", "北京中路", "中山北路", "九华山路", "银湖北路", "长江中路", "黄山西路", "弋江路", "利民路", "花津南路", "峨山路", "文化路"}
	districts = []struct{ name, code string }{{"镜湖区", "02"}, {"弋江区", "03"}, {"鸠江区", "07"}, {"湾沚区", "21"}, {"繁昌区", "22"}}
	bizKinds  = []string{"餐饮服务经营者（小型餐馆）", "餐饮服务经营者（中型餐馆）", "食品销售经营者（食品贸易商）", "单位食堂（学校食堂）", "餐饮服务经营者（饮品店）"}
	items     = []string{"预包装食品销售（含冷藏冷冻食品）", "散装食品销售（含熟食）", "热食类食品制售", "冷食类食品制售", "自制饮品制售（不含自酿酒）", "糕点类食品制售（含裱花类糕点）"}
)

const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

func pick[T any](xs []T, i int) T { return xs[i%len(xs)] }

// Row returns synthetic row i (deterministic).
func Row(i int) []string {
	h := uint64(i)*0x9E3779B97F4A7C15 + 0x1234567
	next := func() int { h ^= h >> 29; h *= 0xBF58476D1CE4E5B9; h ^= h >> 32; return int(h & 0x7fffffff) }
	d := pick(districts, next())
	name := "芜湖市" + d.name + pick(shops, next()) + string(pick(given, next())) + string(pick(given, next())) + pick(kinds, next())
	body := "913402" + d.code + "MA"
	for len(body) < 17 {
		body += string(usccChars[next()%len(usccChars)])
	}
	c, _ := catalog.USCCCheckChar(body)
	road := pick(roads, next())
	addr := fmt.Sprintf("安徽省芜湖市%s%s%d号", d.name, road, 1+next()%300)
	it := pick(items, next()) + "；" + pick(items, next())
	from := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, next()%1500)
	return []string{name, body + string(c), string(pick(surnames, next())) + string(pick(given, next())) + string(pick(given, next())),
		addr, addr + fmt.Sprintf("%d幢%d室", 1+next()%9, 101+next()%20), pick(bizKinds, next()), it,
		fmt.Sprintf("JY134020%08d", i+1), "芜湖市" + d.name + "市场监督管理局", "12315",
		from.Format("2006-01-02"), from.AddDate(5, 0, -1).Format("2006-01-02")}
}

// Header lists the food-business item keys in Row's order.
var Header = []string{"holder_name", "holder_code", "legal_rep", "address", "premises", "business_kind", "business_items", "license_no", "supervisor", "phone", "valid_from", "valid_until"}

func writeCSV(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write(Header)
	for i := 0; i < n; i++ {
		w.Write(Row(i))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return f.Close()
}

func main() {
	n := flag.Int("n", 10000, "rows")
	gen := flag.Bool("gen", false, "only write the rows to -out")
	out := flag.String("out", "rows.csv", "with -gen: where to write")
	bin := flag.String("bin", "bin/elicense", "elicense binary")
	keep := flag.String("keep", "", "data directory to use and keep (default: a temporary one)")
	prof := flag.String("cpuprofile", "", "pass --cpuprofile to the batch")
	workers := flag.Int("workers", 0, "pass --workers")
	viaAPI := flag.Bool("api", false, "issue through `elicense serve` and POST /api/v1/batches instead of `elicense batch`")
	viaHTTP := flag.Bool("http", false, "load the verification endpoints of `elicense serve` (after issuing N licenses)")
	conc := flag.Int("c", 8, "with -http: concurrent clients")
	dur := flag.Duration("d", 10*time.Second, "with -http: load per endpoint")
	flag.Parse()
	if *gen {
		if err := writeCSV(*out, *n); err != nil {
			log.Fatal(err)
		}
		return
	}
	dir := *keep
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "bench-batch-"); err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
	}
	data := filepath.Join(dir, "data")
	rows := filepath.Join(dir, "rows.csv")
	if err := writeCSV(rows, *n); err != nil {
		log.Fatal(err)
	}
	if *viaAPI {
		perLic := runAPI(*bin, data, rows, *n)
		printFloor(data, *n, perLic)
		return
	}
	if *viaHTTP {
		runHTTP(*bin, dir, data, rows, *n, *conc, *dur)
		return
	}
	if out, err := exec.Command(*bin, "pki", "init", "--data-dir", data).CombinedOutput(); err != nil {
		log.Fatalf("pki init: %v\n%s", err, out)
	}
	args := []string{"batch", "--data-dir", data, "--type", "food-business", "--input", rows, "--progress", "none"}
	if *prof != "" {
		args = append(args, "--cpuprofile", *prof)
	}
	if *workers > 0 {
		args = append(args, "--workers", fmt.Sprint(*workers))
	}
	cmd := exec.Command(*bin, args...)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		log.Fatalf("batch: %v\n%s", err, stdout.String())
	}
	wall := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Print(stdout.String())
	perLic := cpu.Seconds() / float64(*n)
	defer printFloor(data, *n, perLic)
	fmt.Printf("rows %d, cores %d: %.0f licenses/s (wall %s), CPU %.3f ms/license (user %s, sys %s), peak RSS %.0f MB, %.1f page faults/license\n",
		*n, runtime.NumCPU(), float64(*n)/wall.Seconds(), wall.Round(time.Millisecond), perLic*1000,
		time.Duration(ru.Utime.Nano()).Round(time.Millisecond), time.Duration(ru.Stime.Nano()).Round(time.Millisecond), float64(ru.Maxrss)/1024,
		float64(ru.Minflt+ru.Majflt)/float64(*n))

}

// printFloor measures, on one core, SM3 over each produced file plus one SM2
// signature (up to 5,000 files), and prints it with its ratio to perLic,
// the CPU seconds per license of the run.
func printFloor(data string, n int, perLic float64) {
	// Floor: one SM3 over each produced file and one SM2 signature each.
	key, err := signer.GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	var sample [][]byte // the first 5,000 files: enough for a stable figure
	var bytesTotal int64
	count := 0
	filepath.WalkDir(filepath.Join(data, "files"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".pdf") {
			count++
			if len(sample) < 5000 {
				b, _ := os.ReadFile(p)
				sample = append(sample, b)
				bytesTotal += int64(len(b))
			}
		}
		return nil
	})
	if count != n {
		log.Fatalf("%d files for %d rows", count, n)
	}
	t0 := time.Now()
	for _, b := range sample {
		h := signer.NewSM3()
		h.Write(b)
		d := h.Sum(nil)
		if _, err := signer.SignMessage(key, rand.Reader, d); err != nil {
			log.Fatal(err)
		}
	}
	floor := time.Since(t0).Seconds() / float64(len(sample))
	fmt.Printf("floor (SM3 of the file + one SM2 signature, one core, %d files of %.1f KB on average): %.3f ms/license = %.0f licenses/s on %d cores\n",
		len(sample), float64(bytesTotal)/float64(len(sample))/1024, floor*1000, float64(runtime.NumCPU())/floor, runtime.NumCPU())
	fmt.Printf("ratio CPU per license / floor: %.1f×\n", perLic/floor)
}

// runAPI starts `elicense serve` on an empty data directory (the demo city),
// streams the rows to POST /api/v1/batches as the market regulator's demo
// key, polls the job until it has finished and prints the rate, the serve
// process's CPU per license (upload included) and its peak RSS (start-up
// included). It returns the CPU seconds per license.
func runAPI(bin, data, rows string, n int) float64 {
	base, srv := serve(bin, data)
	defer func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() }()
	key := demoKey(data, "issuer", "芜湖市市场监督管理局")
	cpu0 := procCPU(srv.Process.Pid)
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		f, err := os.Open(rows)
		if err == nil {
			mw.WriteField("type", "food-business")
			var fw io.Writer
			if fw, err = mw.CreateFormFile("file", "rows.csv"); err == nil {
				_, err = io.Copy(fw, f)
			}
			f.Close()
		}
		pw.CloseWithError(errors.Join(err, mw.Close()))
	}()
	start := time.Now()
	req, _ := http.NewRequest("POST", base+"/api/v1/batches", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+key)
	var st struct {
		ID                      string
		Done, Issued, Rejected  int
		Finished                bool
		Error, Report, Manifest string
	}
	get := func(r *http.Request, want int) {
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != want || json.Unmarshal(body, &st) != nil {
			log.Fatalf("%s %s: %d %s", r.Method, r.URL.Path, res.StatusCode, body)
		}
	}
	get(req, 202)
	uploaded := time.Since(start)
	for !st.Finished {
		time.Sleep(250 * time.Millisecond)
		r, _ := http.NewRequest("GET", base+"/api/v1/batches/"+st.ID, nil)
		r.Header.Set("Authorization", "Bearer "+key)
		get(r, 200)
	}
	wall := time.Since(start)
	cpu := procCPU(srv.Process.Pid) - cpu0
	if st.Error != "" || st.Issued != n || st.Manifest == "" {
		log.Fatalf("batch: %+v", st)
	}
	hwm := 0.0
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.Process.Pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				hwm = kb / 1024
			}
		}
	}
	perLic := cpu.Seconds() / float64(n)
	fmt.Printf("api: rows %d, cores %d: %.0f licenses/s (upload %s, upload to finished %s), serve CPU %.3f ms/license, serve peak RSS %.0f MB\n",
		n, runtime.NumCPU(), float64(n)/wall.Seconds(), uploaded.Round(time.Millisecond), wall.Round(time.Millisecond), perLic*1000, hwm)
	return perLic
}

// procCPU returns the user+system CPU time of process pid so far.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		log.Fatal(err)
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// runHTTP issues n licenses with `elicense batch`, serves them and loads
// the verification endpoints (see the package comment).
func runHTTP(bin, dir, data, rows string, n, conc int, dur time.Duration) {
	pdfs := filepath.Join(dir, "pdfs")
	if out, err := exec.Command(bin, "pki", "init", "--data-dir", data).CombinedOutput(); err != nil {
		log.Fatalf("pki init: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "batch", "--data-dir", data, "--type", "food-business", "--input", rows, "--out", pdfs, "--progress", "none")
	if out, err := cmd.CombinedOutput(); err != nil {
		log.Fatalf("batch: %v\n%s", err, out)
	}
	ids := issued(rows + ".report.csv")
	if len(ids) != n {
		log.Fatalf("%d licenses issued of %d rows", len(ids), n)
	}
	pdf, err := os.ReadFile(filepath.Join(pdfs, ids[0]+".pdf"))
	if err != nil {
		log.Fatal(err)
	}
	qrText := decodeQR(filepath.Join(pdfs, ids[0]+".pdf"))

	limits := "[limits]\nkey_rate = 1000000\nkey_burst = 1000000\npublic_rate = 1000000\npublic_burst = 1000000\n"
	if err := os.WriteFile(filepath.Join(data, "elicense.toml"), []byte(limits), 0o600); err != nil {
		log.Fatal(err)
	}
	base, srv := serve(bin, data)
	defer func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() }()
	verifier := demoKey(data, "verifier", "")

	fmt.Printf("bench-http: %d licenses, %d clients, %s per endpoint, %d cores\n", n, conc, dur, runtime.NumCPU())
	fmt.Printf("%-34s %9s %8s %8s %8s %8s %12s %12s %9s\n", "endpoint", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "server CPU", "client CPU", "× floor")

	jsonReq := func(path string, body any) func() *http.Request {
		b, _ := json.Marshal(body)
		return func() *http.Request {
			r, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Authorization", "Bearer "+verifier)
			return r
		}
	}
	// POST /api/v1/verify/identifier: a registry lookup and a use record.
	load(conc, dur, srv.Process.Pid, "POST /api/v1/verify/identifier", 0, func() *http.Request {
		return jsonReq("/api/v1/verify/identifier", map[string]string{"identifier": ids[mrand.IntN(len(ids))], "purpose": "入职核验"})()
	})
	// POST /api/v1/verify/file: every check of the sealed PDF, the registry
	// and a use record.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	mw.WriteField("purpose", "入职核验")
	fw, _ := mw.CreateFormFile("file", "license.pdf")
	fw.Write(pdf)
	mw.Close()
	load(conc, dur, srv.Process.Pid, "POST /api/v1/verify/file", fileFloor(pdf), func() *http.Request {
		r, _ := http.NewRequest("POST", base+"/api/v1/verify/file", bytes.NewReader(form.Bytes()))
		r.Header.Set("Content-Type", mw.FormDataContentType())
		r.Header.Set("Authorization", "Bearer "+verifier)
		return r
	})
	if qrText == "" {
		fmt.Println("(no zbarimg/pdftoppm: the QR endpoints were skipped)")
		return
	}
	// POST /api/v1/verify/qr with the printed (static) token.
	load(conc, dur, srv.Process.Pid, "POST /api/v1/verify/qr (static)", qrFloor(), jsonReq("/api/v1/verify/qr", map[string]string{"text": qrText, "purpose": "现场核验"}))
	// The public page a phone opens from the printed code.
	path := qrText[strings.Index(strings.ToUpper(qrText), "/V/"):]
	load(conc, dur, srv.Process.Pid, "GET /V/… (public page)", qrFloor(), func() *http.Request {
		r, _ := http.NewRequest("GET", base+path, nil)
		r.Header.Set("Accept", "text/html")
		return r
	})
}

// issued returns the identifiers of the issued rows of a batch report.
func issued(report string) []string {
	f, err := os.Open(report)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		log.Fatal(err)
	}
	var ids []string
	for _, r := range recs[1:] {
		if len(r) > 3 && r[2] == "issued" {
			ids = append(ids, r[3])
		}
	}
	return ids
}

// decodeQR reads the QR code of a license PDF with pdftoppm and zbarimg,
// or returns "" when they are missing.
func decodeQR(pdf string) string {
	if _, err := exec.LookPath("zbarimg"); err != nil {
		return ""
	}
	png := strings.TrimSuffix(pdf, ".pdf")
	if out, err := exec.Command("pdftoppm", "-r", "200", "-png", "-singlefile", pdf, png).CombinedOutput(); err != nil {
		log.Printf("pdftoppm: %v %s", err, out)
		return ""
	}
	out, err := exec.Command("zbarimg", "--raw", "-q", png+".png").Output()
	if err != nil {
		log.Printf("zbarimg: %v", err)
		return ""
	}
	return strings.TrimSpace(string(out))
}

func serve(bin, data string) (string, *exec.Cmd) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv := exec.Command(bin, "serve", "--data-dir", data, "--addr", addr)
	srv.Stderr = io.Discard
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	base := "http://" + addr
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if r, err := http.Get(base + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return base, srv
			}
		}
		if time.Now().After(deadline) {
			log.Fatal("serve did not become ready")
		}
	}
}

// demoKey returns the first demo API key of a role whose name starts with
// prefix.
func demoKey(data, role, prefix string) string {
	b, err := os.ReadFile(filepath.Join(data, "secrets", "demo-keys.txt"))
	if err != nil {
		log.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Split(line, "\t"); len(f) == 3 && f[0] == role && strings.HasPrefix(f[1], prefix) {
			return f[2]
		}
	}
	log.Fatalf("no demo %s key %s…", role, prefix)
	return ""
}

// load runs c clients for d against one endpoint and prints a line.
// floor is the crypto floor per request in seconds (0: none).
func load(c int, d time.Duration, pid int, name string, floor float64, mk func() *http.Request) {
	tr := &http.Transport{MaxIdleConnsPerHost: c}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	// Warm up: connections, caches.
	for i := 0; i < 2*c; i++ {
		if res, err := client.Do(mk()); err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	}
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	cpu0, self0 := procCPU(pid), selfCPU()
	start := time.Now()
	stop := start.Add(d)
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for time.Now().Before(stop) {
				t0 := time.Now()
				res, err := client.Do(mk())
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				if err != nil || res.StatusCode != 200 {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	cpu, self := procCPU(pid)-cpu0, selfCPU()-self0
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return math.NaN()
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	reqs := float64(len(lat) + errs)
	perReq := cpu.Seconds() / reqs
	ratio := "-"
	if floor > 0 {
		ratio = fmt.Sprintf("%.1f×", perReq/floor)
	}
	fmt.Printf("%-34s %9.0f %8.2f %8.2f %8.2f %8d %9.3f ms %9.3f ms %9s\n", name, float64(len(lat))/wall.Seconds(), pct(0.5), pct(0.95), pct(0.99), errs,
		perReq*1000, self.Seconds()/reqs*1000, ratio)
}

// fileFloor: SM3 of the file and two SM2 verifications (signature and seal
// maker), on one core.
func fileFloor(pdf []byte) float64 {
	key, msg, sig := floorKey()
	const rounds = 300
	t0 := time.Now()
	for i := 0; i < rounds; i++ {
		h := signer.NewSM3()
		h.Write(pdf)
		h.Sum(nil)
		if !signer.VerifyMessage(key.Public(), msg, sig) || !signer.VerifyMessage(key.Public(), msg, sig) {
			log.Fatal("floor: verification failed")
		}
	}
	return time.Since(t0).Seconds() / rounds
}

// qrFloor: one SM2 verification, on one core.
func qrFloor() float64 {
	key, msg, sig := floorKey()
	const rounds = 500
	t0 := time.Now()
	for i := 0; i < rounds; i++ {
		if !signer.VerifyMessage(key.Public(), msg, sig) {
			log.Fatal("floor: verification failed")
		}
	}
	return time.Since(t0).Seconds() / rounds
}

func floorKey() (crypto.Signer, []byte, []byte) {
	key, err := signer.GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	msg := []byte("floor")
	sig, err := signer.SignMessage(key, rand.Reader, msg)
	if err != nil {
		log.Fatal(err)
	}
	return key, msg, sig
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
