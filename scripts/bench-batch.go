//go:build ignore

// bench-batch generates N synthetic food-business rows, issues them with
// `elicense batch` into a fresh data directory, and prints licenses per
// second, CPU seconds per license and peak RSS, then the crypto floor
// measured in the same run (SM3 over each produced file plus one SM2
// signature each, on one core) and the ratio.
//
//	go run scripts/bench-batch.go -n 10000 [-bin bin/elicense] [-keep DIR] [-cpuprofile FILE]
//	go run scripts/bench-batch.go -api -n 10000   # through serve and POST /api/v1/batches
//	go run scripts/bench-batch.go -gen -n 1000 -out rows.csv   # only write rows
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
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
	defer func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() }()
	base := "http://" + addr
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if r, err := http.Get(base + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			log.Fatal("serve did not become ready")
		}
	}
	keys, err := os.ReadFile(filepath.Join(data, "secrets", "demo-keys.txt"))
	if err != nil {
		log.Fatal(err)
	}
	key := ""
	for _, line := range strings.Split(string(keys), "\n") {
		if f := strings.Split(line, "\t"); len(f) == 3 && f[0] == "issuer" && strings.HasPrefix(f[1], "芜湖市市场监督管理局") {
			key = f[2]
		}
	}
	if key == "" {
		log.Fatal("no demo key of the market regulator")
	}
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
