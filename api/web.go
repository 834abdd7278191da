package api

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"elicense/catalog"
)

// The web pages: server-rendered HTML (html/template) with embedded assets and
// a little plain JavaScript, in Chinese. Four areas:
//
//	/V/<digits>   public verification of a scanned QR code (anonymous)
//	/counter      counter clerks (clerk API key exchanged for a session)
//	/my           holders (login through the IdentityProvider)
//	/console      issuing departments (issuer API key exchanged for a session)
//
// Handlers bind the form, call the same domain functions as the JSON API
// (checkQR, dynamicQR, record, Licenses.Issue, …) and render a template.

//go:embed web
var webFiles embed.FS

// webUI holds the parsed templates, the asset handler and the page sessions.
type webUI struct {
	pages    map[string]*template.Template
	assets   http.Handler
	version  string // content hash of the assets, for cache busting
	sessions *webSessions

	sealMu sync.Mutex
	seals  map[string]string // sealed-file digest → seal name
}

// webPages are the page templates; each is parsed with layout.html.
var webPages = []string{"home", "error", "public", "login_staff", "login_holder", "login_code",
	"counter", "my", "my_license", "my_show", "my_uses",
	"console", "console_issue", "console_license", "console_confirm", "console_batch", "console_batch_check", "console_search"}

func newWebUI(s *server) *webUI {
	w := &webUI{seals: map[string]string{}}
	w.sessions = newWebSessions(s.Now, s.Rand)
	static, err := fs.Sub(webFiles, "web/static")
	if err != nil {
		panic("api: web assets: " + err.Error())
	}
	h := sha256.New()
	_ = fs.WalkDir(static, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(static, p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	w.version = hex.EncodeToString(h.Sum(nil))[:12]
	w.assets = http.StripPrefix("/assets/", http.FileServer(http.FS(static)))
	funcs := template.FuncMap{
		"asset":      func(name string) string { return "/assets/" + name + "?v=" + w.version },
		"statusText": statusText,
		"statusTone": statusTone,
		"dateTime":   webTime,
		"validity":   validityText,
		"pathEscape": url.PathEscape,
		"actionText": useActionText,
		"resultText": useResultText,
	}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(webFiles, "web/templates/layout.html"))
	w.pages = map[string]*template.Template{}
	for _, p := range webPages {
		t := template.Must(layout.Clone())
		w.pages[p] = template.Must(t.ParseFS(webFiles, "web/templates/"+p+".html"))
	}
	return w
}

// webRoutes registers the pages on r.
func (s *server) webRoutes(r *gin.Engine) {
	s.web = newWebUI(s)
	r.GET("/assets/*path", s.webAsset)

	g := r.Group("", s.webHeaders)
	g.GET("/", s.webHome)
	// The URL of every printed QR code; scanners and phones may change its case.
	g.GET("/V/:token", s.publicPage)
	g.GET("/v/:token", s.publicPage)

	cl := g.Group("/counter")
	cl.GET("/login", s.staffLoginPage(areaCounter))
	cl.POST("/login", s.staffLogin(areaCounter))
	cl.POST("/logout", s.webLogout(areaCounter))
	cs := cl.Group("", s.webArea(areaCounter))
	cs.GET("", s.counterPage)
	cs.POST("/verify", s.counterVerify)
	cs.POST("/decode", s.counterDecode)

	my := g.Group("/my")
	my.GET("/login", s.holderLoginPage)
	my.POST("/login/code", s.holderLoginCode)
	my.POST("/login", s.holderLogin)
	my.POST("/logout", s.webLogout(areaMy))
	ms := my.Group("", s.webArea(areaMy))
	ms.GET("", s.myLicenses)
	ms.GET("/uses", s.myUses)
	ms.GET("/l/:id", s.myLicense)
	ms.GET("/l/:id/pdf", s.holderDownload)
	ms.GET("/l/:id/show", s.myShow)
	ms.POST("/l/:id/qr", s.myQR)

	co := g.Group("/console")
	co.GET("/login", s.staffLoginPage(areaConsole))
	co.POST("/login", s.staffLogin(areaConsole))
	co.POST("/logout", s.webLogout(areaConsole))
	ss := co.Group("", s.webArea(areaConsole))
	ss.GET("", s.consoleHome)
	ss.GET("/licenses", s.consoleSearch)
	ss.GET("/issue/:type", s.consoleIssueForm)
	ss.POST("/issue/:type", s.consoleIssue)
	ss.GET("/l/:id", s.consoleLicense)
	ss.GET("/l/:id/pdf", s.consolePDF)
	for _, act := range []catalog.Action{catalog.ActionSuspend, catalog.ActionResume, catalog.ActionRevoke} {
		ss.GET("/l/:id/"+string(act), s.consoleConfirm(act))
		ss.POST("/l/:id/"+string(act), s.consoleAct(act))
	}
	ss.POST("/batches", s.consoleBatchStart)
	ss.POST(consoleBatchCheck, s.consoleBatchCheck)
	ss.GET("/batches/:id", s.consoleBatch)
	ss.GET("/batches/:id/status", s.getBatch)
	ss.GET("/batches/:id/report", s.getBatchReport)
	ss.GET("/batches/:id/manifest", s.getBatchManifest)
}

// consoleBatchUpload is the route of the console's batch upload, whose body
// may be as large as Limits.MaxBatchUpload.
const consoleBatchUpload = "/console/batches"

// consoleBatchCheck checks such an upload without issuing.
const consoleBatchCheck = "/batches/check"

// cspPolicy allows only this origin's scripts, styles and connections,
// images from here or data: URLs (QR codes, photos) and no framing.
const cspPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; media-src 'self' blob:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// webHeaders sets the security headers of every page.
func (s *server) webHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", cspPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
	h.Set("Cache-Control", "no-store")
	c.Next()
}

func (s *server) webAsset(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", cspPolicy)
	if c.Query("v") == s.web.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	if strings.HasSuffix(c.Param("path"), "/") {
		s.webError(c, errNoRoute)
		return
	}
	s.web.assets.ServeHTTP(c.Writer, c.Request)
}

// view is what every page template receives.
type view struct {
	Title  string
	Area   string // "public", "counter", "my", "console"
	User   string // the signed-in person or unit, shown in the header
	CSRF   string // the session's token, for forms and fetch headers
	Flash  string
	Wide   bool // pages with tables use the full width
	Data   any
	Status int
}

// page renders a page template with the layout.
func (s *server) page(c *gin.Context, status int, name string, v view) {
	if ws, ok := c.Get(webSessionKey); ok {
		v.CSRF = ws.(*webSession).csrf
		if v.User == "" {
			v.User = ws.(*webSession).user
		}
	}
	if v.Flash == "" {
		v.Flash = c.Query("done")
		if v.Flash != "" {
			v.Flash = flashText(v.Flash)
		}
	}
	v.Status = status
	var buf bytes.Buffer
	if err := s.web.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		s.Logger.Error("web: render", "page", name, "err", err, "requestId", requestIDOf(c))
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("服务器内部错误 "+requestIDOf(c)))
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// flashText turns the done= query of a redirect into a message.
func flashText(code string) string {
	switch code {
	case "issued":
		return "已签发"
	case "suspend":
		return "已停用"
	case "resume":
		return "已恢复有效"
	case "revoke":
		return "已注销"
	}
	return ""
}

type errorView struct {
	Message   string
	Problems  []catalog.FieldError // of a validation error: every problem, as the API lists them
	RequestID string
	Back      string
}

// webError renders err as an error page through the API's error table.
func (s *server) webError(c *gin.Context, err error) {
	row := statusOf(err)
	msg := row.msg
	var re *requestError
	if errors.As(err, &re) && re.msg != "" {
		msg = re.msg
	}
	if row.status >= 500 {
		s.Logger.Error("web: request failed", "requestId", requestIDOf(c), "route", c.FullPath(), "err", err)
	}
	if row.status == http.StatusTooManyRequests {
		c.Header("Retry-After", "1")
	}
	c.Abort()
	back := "/"
	if a := areaOfPath(c.Request.URL.Path); a != "" {
		back = "/" + a
	}
	ev := errorView{Message: msg, RequestID: requestIDOf(c), Back: back}
	if ve := (*catalog.ValidationError)(nil); errors.As(err, &ve) {
		ev.Problems = ve.Problems
	}
	s.page(c, row.status, "error", view{Title: "出错了", Area: areaOfPath(c.Request.URL.Path), Data: ev})
}

// noRoute answers unknown paths: an HTML page for browsers, JSON otherwise.
func (s *server) noRoute(c *gin.Context) {
	if !strings.HasPrefix(c.Request.URL.Path, "/api/") && strings.Contains(c.GetHeader("Accept"), "text/html") {
		s.webHeaders(c)
		s.webError(c, errNoRoute)
		return
	}
	s.fail(c, errNoRoute)
}

func areaOfPath(p string) string {
	first, _, _ := strings.Cut(strings.TrimPrefix(path.Clean(p), "/"), "/")
	switch first {
	case areaCounter, areaMy, areaConsole:
		return first
	}
	return ""
}

func (s *server) webHome(c *gin.Context) {
	s.page(c, http.StatusOK, "home", view{Title: "电子证照", Area: "public"})
}

// --- formatting -------------------------------------------------------------

var chinaTime = time.FixedZone("CST", 8*3600)

func webTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(chinaTime).Format("2006-01-02 15:04")
}

func statusText(st catalog.Status) string {
	switch st {
	case catalog.StatusIssued:
		return "有效"
	case catalog.StatusSuspended:
		return "已停用"
	case catalog.StatusRevoked:
		return "已注销"
	case catalog.StatusSuperseded:
		return "已更新为新版本"
	case catalog.StatusExpired:
		return "已过期"
	}
	return string(st)
}

// statusTone is the colour class of a status: ok, warn or bad.
func statusTone(st catalog.Status) string {
	switch st {
	case catalog.StatusIssued:
		return "ok"
	case catalog.StatusSuspended, catalog.StatusExpired, catalog.StatusSuperseded:
		return "warn"
	}
	return "bad"
}

func validityText(from, until string) string {
	if until == catalog.LongTerm {
		until = "长期"
	}
	switch {
	case from == "" && until == "":
		return "—"
	case from == "":
		return "至 " + until
	}
	return from + " 至 " + until
}

func useActionText(a string) string {
	switch catalog.UseAction(a) {
	case catalog.UseVerify:
		return "核验"
	case catalog.UseGet:
		return "查询"
	case catalog.UseDownload:
		return "下载"
	case catalog.UseShow:
		return "亮证核验"
	}
	return a
}

func useResultText(r string) string {
	switch r {
	case "ok":
		return "真实有效"
	case string(catalog.StatusIssued):
		return "有效"
	case string(catalog.StatusSuspended), "license_status":
		return "已停用或注销"
	case string(catalog.StatusRevoked):
		return "已注销"
	case string(catalog.StatusExpired), "validity":
		return "已过期"
	case string(catalog.StatusSuperseded):
		return "已更新"
	case "window":
		return "动态码过期"
	case "ticket":
		return "动态码重复使用"
	}
	if strings.HasPrefix(r, "claim_") {
		return "信息比对"
	}
	return "未通过"
}
