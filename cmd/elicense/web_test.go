package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	_ "image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"elicense/api"
	"elicense/catalog"
)

// chromium returns the headless browser's path; the test skips without one
// except in CI.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is required in CI (scripts/install-deps.sh test)")
	}
	t.Skip("chromium not installed")
	return ""
}

// webEnv is elicense's handler on a copy of the demo city, on a real port
// whose URL is the public base printed in QR codes, with a clerk and an
// issuer key and the development holder login logging to log.
type webEnv struct {
	base   string
	log    *syncBuffer
	keys   map[string]string
	shots  string
	app    *app
	shotMu sync.Mutex
}

func newWebEnv(t *testing.T) *webEnv {
	t.Helper()
	dir := demoData(t)
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	cfg, err := loadConfig(&globalFlags{dataDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.PublicBase = strings.ToUpper(base) // as printed: the alphanumeric QR mode is upper case
	a, err := openApp(context.Background(), cfg, io.Discard, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	deps, err := a.apiDeps(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e := &webEnv{base: base, log: &syncBuffer{}, keys: map[string]string{}, app: a}
	logger := slog.New(slog.NewTextHandler(e.log, nil))
	deps.Logger = logger
	deps.Identity = &api.DevIdentity{Now: deps.Now, Rand: deps.Rand, Logger: logger}
	deps.Limits = api.Limits{PublicBurst: 200, KeyBurst: 400}
	srv.Config.Handler = api.New(deps)
	srv.Start()
	t.Cleanup(srv.Close)
	for name, p := range map[string]catalog.Principal{
		"issuer": {Name: "芜湖市住房和城乡建设局", Role: catalog.RoleIssuer, Dept: "wuhu-hurd"},
		"clerk":  {Name: "政务服务中心3号窗口", Role: catalog.RoleClerk, Dept: "wuhu-hurd"},
	} {
		text, err := api.NewKey(deps.Rand, deps.Now(), &p)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.store.PutPrincipal(context.Background(), &p); err != nil {
			t.Fatal(err)
		}
		e.keys[name] = text
	}
	e.shots = os.Getenv("ELICENSE_SCREENSHOTS")
	if e.shots == "" {
		e.shots = t.TempDir()
	} else if err := os.MkdirAll(e.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return e
}

// loginCode waits for the development provider's code in the server log.
func (e *webEnv) loginCode(t *testing.T, after int) string {
	t.Helper()
	re := regexp.MustCompile(`development login code.* code=(\d{6})`)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(e.log.String()[after:]); m != nil {
			return m[1]
		}
	}
	t.Fatalf("no login code in the server log:\n%s", e.log.String())
	return ""
}

// browser starts headless Chromium and collects script errors, CSP
// violations and failed loads, which fail the test.
func browser(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	var mu sync.Mutex
	var problems []string
	enable := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, log.Enable, cdp.Empty{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, runtime.Enable, cdp.Empty{})
		return err
	})
	// The first action starts the browser; it runs without a deadline.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			problems = append(problems, "script exception: "+ev.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				problems = append(problems, "console.error")
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError && !strings.Contains(ev.Entry.URL, "favicon") &&
				!strings.Contains(ev.Entry.Text, "status of 4") { // expected 401/403/422 answers
				problems = append(problems, "browser log: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		}
	})
	if err == nil {
		err = chromedp.Do(ctx, enable)
	}
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), problems...)
	}
}

// shot saves full-page screenshots of the current page at 360 and 1280 px.
func (e *webEnv) shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	for _, w := range [][2]int64{{360, 780}, {1280, 900}} {
		png := webGet(t, ctx, "screenshot "+name, chromedp.Steps(chromedp.EmulateViewport(w[0], w[1])), chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(e.shots, fmt.Sprintf("%s-%d.png", name, w[0])), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func decodeQRPNG(t *testing.T, png []byte) string {
	t.Helper()
	text, err := qrFromPNG(png)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func qrFromPNG(png []byte) (string, error) {
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		return "", err
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true})
	if err == nil {
		return res.GetText(), nil
	}
	// gozxing's detector misreads about one in forty of these codes
	// (api.findQR says why); zbar, a second real decoder, settles it.
	if _, lerr := exec.LookPath("zbarimg"); lerr == nil {
		f, ferr := os.CreateTemp("", "shot-*.png")
		if ferr == nil {
			defer os.Remove(f.Name())
			f.Write(png)
			f.Close()
			if out, zerr := exec.Command("zbarimg", "--raw", "-q", f.Name()).Output(); zerr == nil {
				return strings.TrimSpace(string(out)), nil
			}
		}
	}
	return "", fmt.Errorf("no QR code in the screenshot: %w", err)
}

// webStep bounds one step of the walk.
const webStep = 20 * time.Second

// webDo runs the steps; a failure names the step and the page.
func webDo(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	webGet(t, ctx, what, chromedp.Steps(steps...), chromedp.Action[chromedp.Void](nil))
}

// webGet runs before, then get, and returns get's value.
func webGet[T any](t *testing.T, ctx context.Context, what string, before chromedp.Action[chromedp.Void], get chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, webStep)
	defer cancel()
	defer func(start time.Time) {
		if d := time.Since(start); d > 3*time.Second {
			t.Logf("slow step %s: %v", what, d)
		}
	}(time.Now())
	var v T
	_, err := chromedp.Run(sctx, before)
	if err == nil && get != nil {
		v, err = chromedp.Run(sctx, get)
	}
	if err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("%s: %v (at %s)", what, err, loc)
	}
	return v
}

// webText returns the text of the first element matching the CSS selector.
func webText(ctx context.Context, t *testing.T, sel string) string {
	t.Helper()
	return strings.TrimSpace(webGet(t, ctx, "text of "+sel, chromedp.Steps(), chromedp.Text(chromedp.CSS(sel))))
}

// until waits for a JavaScript condition, also across a navigation (the
// old document's context vanishes while the condition is polled).
func until(expr string) chromedp.Action[chromedp.Void] {
	ev := chromedp.Evaluate[bool](expr)
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if ok, err := ev(ctx, tg); err == nil && ok {
				return chromedp.Void{}, nil
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("waiting for %s: %w", expr, ctx.Err())
			case <-tick.C:
			}
		}
	}
}

// TestWebPages walks the pages in a real browser: a department issues a
// license in the console, the holder logs in and shows it, a clerk scans the
// code shown on the screen, the holder sees the use record, the department
// revokes the license and the public page for the printed QR code says so.
func TestWebPages(t *testing.T) {
	needTool(t, "pdftoppm")
	ctx, problems := browser(t)
	start := time.Now()
	e := newWebEnv(t)
	u := func(p string) string { return e.base + p }
	tmp := t.TempDir()

	// Home.
	webDo(t, ctx, "home", chromedp.Navigate(u("/")), chromedp.WaitVisible(chromedp.CSS(".choices")))
	e.shot(t, ctx, "home")

	// --- Console: login, issue with a mistake, then correctly. ---
	webDo(t, ctx, "console login", chromedp.Navigate(u("/console")), chromedp.WaitVisible(chromedp.ID("key")))
	e.shot(t, ctx, "console-login")
	webDo(t, ctx, "console login submit",
		chromedp.SendKeys(chromedp.ID("key"), e.keys["issuer"]),
		chromedp.Submit(chromedp.ID("key")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/console/issue/special-operations"]`)))
	e.shot(t, ctx, "console")

	webDo(t, ctx, "issue form", chromedp.Click(chromedp.CSS(`a[href="/console/issue/special-operations"]`)),
		chromedp.WaitVisible(chromedp.ID("f-holder_name")))
	photo := filepath.Join(tmp, "photo.png")
	var row map[string]string
	b, _ := os.ReadFile(sample("special-operations.json"))
	if err := json.Unmarshal(b, &row); err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(row["photo"])
	os.WriteFile(photo, raw, 0o600)
	holder := person{name: "张晓明", id: idWithCheck("34020219851112345"), birth: "1985-11-12", gender: "男"}
	fill := []chromedp.Action[chromedp.Void]{
		chromedp.SetValue(chromedp.ID("f-holder_name"), holder.name),
		chromedp.SetValue(chromedp.ID("f-holder_code"), holder.id[:17]+"0"), // wrong check character
		chromedp.SetValue(chromedp.ID("f-gender"), holder.gender),
		chromedp.SetValue(chromedp.ID("f-birth_date"), holder.birth),
		chromedp.SetValue(chromedp.ID("f-category"), "高处作业"),
		chromedp.SetValue(chromedp.ID("f-license_no"), "皖A042025000777"),
		chromedp.SetValue(chromedp.ID("f-first_issue"), "2020-05-01"),
		chromedp.SetValue(chromedp.ID("f-valid_from"), "2025-05-01"),
		chromedp.SetValue(chromedp.ID("f-valid_until"), "2031-04-30"),
		chromedp.SetUploadFiles(chromedp.ID("f-photo"), []string{photo}),
		chromedp.Click(chromedp.CSS(`form.grid-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("issue-error")),
	}
	webDo(t, ctx, "issue with a bad ID number", fill...)
	if msg := webText(ctx, t, ".field.has-error .error"); !strings.Contains(msg, "校验") {
		t.Errorf("inline message for the bad ID number = %q", msg)
	}
	e.shot(t, ctx, "console-issue-errors")
	loc := webGet(t, ctx, "issue", chromedp.Steps(
		chromedp.SetValue(chromedp.ID("f-holder_code"), holder.id),
		chromedp.SetUploadFiles(chromedp.ID("f-photo"), []string{photo}),
		chromedp.Click(chromedp.CSS(`form.grid-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".flash"))), chromedp.Location())
	if f := webText(ctx, t, ".flash"); f != "已签发" {
		t.Fatalf("flash after issuing = %q", f)
	}
	id := strings.TrimPrefix(strings.Split(loc, "?")[0], u("/console/l/"))
	if !strings.HasPrefix(id, "1.2.156.3005.2.") {
		t.Fatalf("license page %s", loc)
	}
	e.shot(t, ctx, "console-license")

	// The printed QR code, from the sealed PDF rendered by pdftoppm.
	pdf, err := e.app.files.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	pdfPath := filepath.Join(tmp, "license.pdf")
	os.WriteFile(pdfPath, pdf, 0o600)
	if out, err := exec.Command("pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", pdfPath, filepath.Join(tmp, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(tmp, "page*.png"))
	if len(pages) != 1 {
		t.Fatalf("pages: %v", pages)
	}
	printed := decodeQR(t, pages[0])
	if !strings.HasPrefix(printed, strings.ToUpper(e.base)+"/V/") {
		t.Fatalf("printed QR %q", printed)
	}
	webDo(t, ctx, "public page (valid)", chromedp.Navigate(printed), chromedp.WaitVisible(chromedp.ID("verdict")))
	if v := webText(ctx, t, "#verdict"); v != "真实有效" {
		t.Fatalf("public verdict before revoking = %q", v)
	}
	e.shot(t, ctx, "public-valid")

	// --- Holder: development login with the code from the server log. ---
	webDo(t, ctx, "holder login page", chromedp.Navigate(u("/my")), chromedp.WaitVisible(chromedp.ID("idNumber")))
	e.shot(t, ctx, "my-login")
	logAt := len(e.log.String())
	webDo(t, ctx, "holder code",
		chromedp.SendKeys(chromedp.ID("idNumber"), holder.id),
		chromedp.SendKeys(chromedp.ID("name"), holder.name),
		chromedp.Submit(chromedp.ID("name")),
		chromedp.WaitVisible(chromedp.ID("code")))
	e.shot(t, ctx, "my-code")
	webDo(t, ctx, "holder login",
		chromedp.SendKeys(chromedp.ID("code"), e.loginCode(t, logAt)),
		chromedp.Submit(chromedp.ID("code")),
		chromedp.WaitVisible(chromedp.CSS(".cards")))
	e.shot(t, ctx, "my")
	webDo(t, ctx, "my license", chromedp.Click(chromedp.CSS(".cards a.card")), chromedp.WaitVisible(chromedp.ID("show-link")))
	e.shot(t, ctx, "my-license")
	webDo(t, ctx, "出示", chromedp.Click(chromedp.ID("show-link")),
		until(`(function(){var i=document.getElementById('qr');return !!(i&&i.complete&&i.naturalWidth>0&&i.dataset.serial==='1');})()`),
		chromedp.EmulateViewport(360, 780, chromedp.EmulateScale(2))) // a phone: 2 device pixels per CSS pixel
	// A screenshot may catch the page between two layouts after the
	// viewport change: up to five tries, 300 ms apart.
	var shown string
	for try := 1; ; try++ {
		screen := webGet(t, ctx, "screenshot of 出示", chromedp.Steps(), chromedp.CaptureScreenshot())
		os.WriteFile(filepath.Join(e.shots, "my-show-screen.png"), screen, 0o644)
		var err error
		if shown, err = qrFromPNG(screen); err == nil {
			break
		} else if try == 5 {
			t.Fatalf("%v (5 screenshots)", err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if !strings.Contains(shown, "/V/") {
		t.Fatalf("QR on the screen: %q", shown)
	}
	if c := webText(ctx, t, "#countdown"); !strings.Contains(c, "秒后刷新") {
		t.Errorf("countdown = %q", c)
	}
	e.shot(t, ctx, "my-show")

	// --- Clerk: login, scan (keyboard input + Enter, as a scanner types). ---
	webDo(t, ctx, "counter login", chromedp.Navigate(u("/counter")), chromedp.WaitVisible(chromedp.ID("key")))
	e.shot(t, ctx, "counter-login")
	webDo(t, ctx, "counter",
		chromedp.SendKeys(chromedp.ID("key"), e.keys["clerk"]),
		chromedp.Submit(chromedp.ID("key")),
		chromedp.WaitVisible(chromedp.ID("scan-text")))
	focused := webGet(t, ctx, "focus", chromedp.Steps(), chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
	if focused != "scan-text" {
		t.Errorf("focus on the counter page: %q, want scan-text", focused)
	}
	e.shot(t, ctx, "counter")
	// A scanner types the code and Enter into whatever has focus.
	webDo(t, ctx, "scan",
		chromedp.Click(chromedp.CSS(`input[name=purpose][value="入职审查"]`)),
		chromedp.SendKeys(chromedp.ID("scan-text"), shown+"\n"),
		chromedp.WaitVisible(chromedp.ID("verdict")))
	if v := webText(ctx, t, "#verdict"); v != "真实有效" {
		t.Fatalf("clerk verdict = %q", v)
	}
	if face := webText(ctx, t, ".license"); !strings.Contains(face, holder.name) || !strings.Contains(face, holder.id) || !strings.Contains(face, "高处作业") {
		t.Errorf("the clerk does not see the full face:\n%s", face)
	}
	e.shot(t, ctx, "counter-valid")
	// The same dynamic code again (typed faster): single use.
	webDo(t, ctx, "scan again",
		chromedp.SetValue(chromedp.ID("scan-text"), shown[:len(shown)-1]),
		chromedp.SendKeys(chromedp.ID("scan-text"), shown[len(shown)-1:]+"\n"),
		until(`document.title.indexOf('无法验证') >= 0`))
	if v := webText(ctx, t, "#verdict"); v != "无法验证" {
		t.Fatalf("second scan of one dynamic code = %q", v)
	}
	e.shot(t, ctx, "counter-reused")

	// --- Holder: the use record. ---
	webDo(t, ctx, "uses", chromedp.Navigate(u("/my/uses")), chromedp.WaitVisible(chromedp.CSS(".use-row")))
	if r := webText(ctx, t, ".use-row"); !strings.Contains(r, "政务服务中心3号窗口") || !strings.Contains(r, "入职审查") {
		t.Errorf("newest use record: %q", r)
	}
	e.shot(t, ctx, "my-uses")

	// --- Console: a small batch, search, then revoke with a reason. ---
	csv := "holder_name,holder_code,gender,birth_date,category,license_no,first_issue,valid_from,valid_until\n" +
		"王芳," + idWithCheck("34020219920304562") + ",女,1992-03-04,焊接与热切割作业,皖A042025000801,2021-01-01,2025-01-01,2031-01-01\n" +
		"赵强,340202199001011230,男,1990-01-01,电工作业,皖A042025000802,2021-01-01,2025-01-01,2031-01-01\n"
	csvPath := filepath.Join(tmp, "rows.csv")
	os.WriteFile(csvPath, []byte(csv), 0o600)
	// The console links each type's batch template.
	tmpl := webGet(t, ctx, "batch template link", chromedp.Navigate(u("/console")), chromedp.Evaluate[string](
		`(function () { var a = document.querySelector('#batch-templates a'); var x = new XMLHttpRequest(); x.open('GET', a.href, false); x.overrideMimeType('text/plain; charset=x-user-defined'); x.send(); return x.status + ' ' + x.getResponseHeader('Content-Type') + ' ' + x.responseText.slice(0, 2); })()`))
	if !strings.HasPrefix(tmpl, "200 application/vnd.openxmlformats-officedocument.spreadsheetml.sheet PK") {
		t.Errorf("the console's template link: %.200s", tmpl)
	}
	// Checking the file first issues nothing and names the bad row.
	webDo(t, ctx, "batch check",
		chromedp.Navigate(u("/console")),
		chromedp.SetUploadFiles(chromedp.ID("batch-file"), []string{csvPath}),
		chromedp.Click(chromedp.ID("batch-check")),
		chromedp.WaitVisible(chromedp.ID("c-problems")))
	if v, r := webText(ctx, t, "#c-valid"), webText(ctx, t, "#c-rejected"); v != "1" || r != "1" {
		t.Errorf("check: %s valid, %s rejected; want 1 and 1", v, r)
	}
	if p := webText(ctx, t, "#c-problems"); !strings.Contains(p, "第 3 行") || !strings.Contains(p, "身份证号：") {
		t.Errorf("check problems: %q", p)
	}
	e.shot(t, ctx, "console-batch-check")
	// A sheet with a column the type lacks is refused with every problem.
	badPath := filepath.Join(tmp, "bad.csv")
	os.WriteFile(badPath, []byte("序号,"+csv), 0o600)
	webDo(t, ctx, "batch with a bad header",
		chromedp.Navigate(u("/console")),
		chromedp.SetUploadFiles(chromedp.ID("batch-file"), []string{badPath}),
		chromedp.Submit(chromedp.ID("batch-file")),
		chromedp.WaitVisible(chromedp.ID("error-problems")))
	if p := webText(ctx, t, "#error-problems"); !strings.Contains(p, "“序号”") || !strings.Contains(p, "unknown_item") {
		t.Errorf("problems of a bad header: %q", p)
	}
	e.shot(t, ctx, "console-batch-refused")
	webDo(t, ctx, "batch",
		chromedp.Navigate(u("/console")),
		chromedp.SetUploadFiles(chromedp.ID("batch-file"), []string{csvPath}),
		chromedp.Submit(chromedp.ID("batch-file")),
		chromedp.WaitVisible(chromedp.ID("batch-progress")),
		until(`document.getElementById('b-state').textContent.indexOf('已完成') === 0`))
	if n := webText(ctx, t, "#b-issued"); n != "1" {
		t.Errorf("batch issued %s, want 1 (one row has a bad ID number)", n)
	}
	if p := webText(ctx, t, "#b-problems"); !strings.Contains(p, "第 3 行") || !strings.Contains(p, "身份证号：") {
		t.Errorf("the batch page's rejected rows (by item label): %q", p)
	}
	report := webGet(t, ctx, "batch report", until(`!document.getElementById('b-files').hidden`), chromedp.Evaluate[string](
		`(function () { var x = new XMLHttpRequest(); x.open('GET', document.getElementById('b-report').href, false); x.send(); return x.status + ' ' + x.responseText; })()`))
	if !strings.HasPrefix(report, "200 ") || !strings.Contains(report, "rejected") || !strings.Contains(report, "皖A042025000801") {
		t.Errorf("the console's report link: %.300s", report)
	}
	e.shot(t, ctx, "console-batch")
	webDo(t, ctx, "search", chromedp.Navigate(u("/console/licenses?q="+holder.id)), chromedp.WaitVisible(chromedp.ID("results")))
	e.shot(t, ctx, "console-search")
	webDo(t, ctx, "revoke confirm", chromedp.Navigate(u("/console/l/"+id)),
		chromedp.Click(chromedp.CSS(`a.danger`)), chromedp.WaitVisible(chromedp.ID("reason")))
	webDo(t, ctx, "revoke without a reason", chromedp.Click(chromedp.ID("confirm")),
		chromedp.WaitVisible(chromedp.ID("reason-err")))
	e.shot(t, ctx, "console-confirm")
	webDo(t, ctx, "revoke",
		chromedp.SendKeys(chromedp.ID("reason"), "持证人申请注销"),
		chromedp.Click(chromedp.ID("confirm")),
		chromedp.WaitVisible(chromedp.CSS(".flash")))
	if f := webText(ctx, t, ".flash"); f != "已注销" {
		t.Fatalf("flash after revoking = %q", f)
	}

	// --- Anyone: the printed QR code now says 已注销. ---
	webDo(t, ctx, "public page (revoked)", chromedp.Navigate(strings.Replace(printed, "/V/", "/v/", 1)),
		chromedp.WaitVisible(chromedp.ID("verdict")))
	if v := webText(ctx, t, "#verdict"); v != "已注销" {
		t.Fatalf("public verdict after revoking = %q", v)
	}
	page := webText(ctx, t, "main")
	if strings.Contains(page, holder.name) || strings.Contains(page, holder.id) || !strings.Contains(page, "张*明") {
		t.Errorf("the public page shows personal data unmasked:\n%s", page)
	}
	e.shot(t, ctx, "public-revoked")
	webDo(t, ctx, "public page (garbage)", chromedp.Navigate(u("/V/123")), chromedp.WaitVisible(chromedp.ID("verdict")))
	e.shot(t, ctx, "public-unknown")

	for _, p := range problems() {
		t.Error(p)
	}
	t.Logf("browser walk: %v; screenshots in %s", time.Since(start).Round(time.Millisecond), e.shots)
}

// TestWebSecurityHeaders checks the headers of the pages and that a
// cookie-authenticated POST needs the session's CSRF token.
func TestWebSecurityHeaders(t *testing.T) {
	e := newWebEnv(t)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"/", "/V/123", "/my/login", "/counter/login", "/console/login"} {
		res, err := c.Get(e.base + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		h := res.Header
		if res.StatusCode != http.StatusOK || !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") ||
			!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" ||
			h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: %d %v", p, res.StatusCode, h)
		}
	}
	// Log in as the clerk with the login form's token.
	res, err := c.Get(e.base + "/counter/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var loginCk *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "elicense_login" {
			loginCk = ck
		}
	}
	m := regexp.MustCompile(`name="_csrf" value="([0-9a-f]{64})"`).FindSubmatch(body)
	if loginCk == nil || m == nil || string(m[1]) != loginCk.Value || !loginCk.HttpOnly || loginCk.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login form token: cookie %v", loginCk)
	}
	post := func(path, form string, cks ...*http.Cookie) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, e.base+path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, ck := range cks {
			req.AddCookie(ck)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	if r := post("/counter/login", "key="+e.keys["clerk"], loginCk); r.StatusCode != http.StatusForbidden {
		t.Errorf("login without the form token: %d", r.StatusCode)
	}
	r := post("/counter/login", "_csrf="+loginCk.Value+"&key="+e.keys["clerk"], loginCk)
	var sess *http.Cookie
	for _, ck := range r.Cookies() {
		if ck.Name == "elicense_counter" {
			sess = ck
		}
	}
	if r.StatusCode != http.StatusSeeOther || sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/counter" {
		t.Fatalf("login: %d %v", r.StatusCode, sess)
	}
	if strings.Contains(sess.Value, e.keys["clerk"]) {
		t.Fatal("the session cookie holds the key")
	}
	if r := post("/counter/verify", "purpose=业务办理&text=HTTP://X/V/1", sess); r.StatusCode != http.StatusForbidden {
		t.Errorf("verify without the session's token: %d", r.StatusCode)
	}
	if r := post("/counter/verify", "_csrf="+loginCk.Value+"&purpose=业务办理&text=HTTP://X/V/1", sess); r.StatusCode != http.StatusForbidden {
		t.Errorf("verify with the login token instead of the session's: %d", r.StatusCode)
	}
	// A revoked key ends its sessions.
	ps, _ := e.app.store.ListPrincipals(context.Background())
	for _, p := range ps {
		if p.Role == catalog.RoleClerk {
			p.RevokedAt = time.Now()
			e.app.store.PutPrincipal(context.Background(), p)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, e.base+"/counter", nil)
	req.AddCookie(sess)
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/counter/login" {
		t.Errorf("revoked key's session: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}
