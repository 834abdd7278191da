package api

import (
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"elicense/catalog"
)

// Page sessions. A clerk or a department enters its API key once in a login
// form; the server checks it and answers with a random session ID in an
// HttpOnly, SameSite=Strict cookie scoped to its area (/counter, /console).
// The key itself is kept nowhere: the session names the key's principal,
// which is loaded (and must still be active) on every request. Holders get
// the same kind of cookie for /my after logging in through the
// IdentityProvider. Every session has its own CSRF token, sent back in a
// hidden form field (_csrf) or the X-CSRF-Token header of script requests;
// login forms, which come before any session, use a double-submit token in
// the elicense_login cookie. Sessions live in memory.

const (
	areaCounter = "counter"
	areaMy      = "my"
	areaConsole = "console"

	webSessionKey   = "elicense.webSession"
	loginCookie     = "elicense_login"
	webStaffTTL     = 8 * time.Hour // a counter or console shift
	maxWebSessions  = 100_000
	csrfField       = "_csrf"
	csrfHeader      = "X-CSRF-Token"
	maxWebFormBytes = 1 << 20
)

// webCookie is the session cookie of each area.
func webCookie(area string) string { return "elicense_" + area }

type webSession struct {
	area    string
	holder  Identity // area my
	keyID   string   // areas counter and console
	user    string   // shown in the page header
	csrf    string
	purpose string // counter: the last 用证事由, offered again
	expires time.Time
}

type webSessions struct {
	mu  sync.Mutex
	m   map[string]*webSession
	now func() time.Time
	rnd io.Reader
}

func newWebSessions(now func() time.Time, rnd io.Reader) *webSessions {
	return &webSessions{m: map[string]*webSession{}, now: now, rnd: rnd}
}

func randomHex(rnd io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// create stores ws (its csrf and expiry are set here) and returns its ID.
func (ss *webSessions) create(ws webSession, ttl time.Duration) (string, *webSession, error) {
	sid, err := randomHex(ss.rnd, 32)
	if err == nil {
		ws.csrf, err = randomHex(ss.rnd, 32)
	}
	if err != nil {
		return "", nil, err
	}
	now := ss.now()
	ws.expires = now.Add(ttl)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= maxWebSessions {
		for k, v := range ss.m {
			if !now.Before(v.expires) {
				delete(ss.m, k)
			}
		}
		if len(ss.m) >= maxWebSessions {
			return "", nil, fmt.Errorf("api: too many page sessions: %w", errRateLimited)
		}
	}
	p := &ws
	ss.m[sid] = p
	return sid, p, nil
}

// get returns a copy of the live session sid of area.
func (ss *webSessions) get(sid, area string) (*webSession, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	v, ok := ss.m[sid]
	if !ok || v.area != area {
		return nil, false
	}
	if !ss.now().Before(v.expires) {
		delete(ss.m, sid)
		return nil, false
	}
	cp := *v
	return &cp, true
}

func (ss *webSessions) setPurpose(sid, purpose string) {
	ss.mu.Lock()
	if v, ok := ss.m[sid]; ok {
		v.purpose = purpose
	}
	ss.mu.Unlock()
}

func (ss *webSessions) drop(sid string) {
	ss.mu.Lock()
	delete(ss.m, sid)
	ss.mu.Unlock()
}

func setWebCookie(c *gin.Context, name, value, path string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.Request.TLS != nil,
	})
}

// webArea admits requests with a live session of area: it sets the caller
// the API handlers expect (a principal of the area's role, or a holder),
// applies the per-key or per-session rate limit and checks the CSRF token
// of every POST. Without a session, page requests are sent to the login
// form and script requests get 401.
func (s *server) webArea(area string) gin.HandlerFunc {
	role := map[string]catalog.Role{areaCounter: catalog.RoleClerk, areaConsole: catalog.RoleIssuer}[area]
	return func(c *gin.Context) {
		sid, _ := c.Cookie(webCookie(area))
		ws, ok := s.web.sessions.get(sid, area)
		if !ok {
			s.webLoginRedirect(c, area)
			return
		}
		who := &caller{}
		limKey := ""
		if area == areaMy {
			id := ws.holder
			who.holder, who.session = &id, "web:"+sid
			limKey = "holder:web:" + sid
		} else {
			if s.Access == nil {
				s.webError(c, errUnavailable)
				return
			}
			p, err := s.Access.GetPrincipal(c.Request.Context(), ws.keyID)
			if err != nil || !p.Active() || p.Role != role {
				// The key was revoked since the login.
				s.web.sessions.drop(sid)
				s.webLoginRedirect(c, area)
				return
			}
			who.p = p
			if p.Dept != "" {
				d, err := s.Store.GetDepartment(c.Request.Context(), p.Dept)
				if err != nil {
					s.webError(c, fmt.Errorf("api: department of %s: %w", p.ID, err))
					return
				}
				who.deptUSCC, who.deptName = d.USCC, d.Name
			}
			if role == catalog.RoleIssuer && who.deptUSCC == "" {
				s.webError(c, fmt.Errorf("api: issuer key %s has no department: %w", p.ID, errForbidden))
				return
			}
			limKey = "key:" + p.ID
		}
		if !s.limiter.allow(limKey, s.lim.KeyRate, s.lim.KeyBurst) {
			s.webFail(c, errRateLimited)
			return
		}
		if c.Request.Method == http.MethodPost && !s.checkCSRF(c, ws.csrf) {
			s.webFail(c, errBadCSRF)
			return
		}
		c.Set(callerKey, who)
		c.Set(webSessionKey, ws)
		c.Set("elicense.webSID", sid)
		c.Next()
	}
}

// errBadCSRF: a POST without the session's token (a forged or stale form).
var errBadCSRF = &requestError{kind: errForbidden, code: "csrf", msg: "页面已过期或请求来源不明，请刷新页面后重试"}

// isScript tells requests made by the pages' scripts, which want JSON.
func isScript(c *gin.Context) bool { return c.GetHeader(csrfHeader) != "" }

// webFail answers a script request with the API's JSON error, a page
// request with the error page.
func (s *server) webFail(c *gin.Context, err error) {
	if isScript(c) {
		s.fail(c, err)
		return
	}
	s.webError(c, err)
}

func (s *server) webLoginRedirect(c *gin.Context, area string) {
	if isScript(c) {
		s.fail(c, errUnauthenticated)
		return
	}
	c.Abort()
	c.Redirect(http.StatusSeeOther, "/"+area+"/login")
}

// checkCSRF compares the token of a POST (header, or form field) with want,
// and refuses requests whose Origin names another site. Browsers send
// "Origin: null" under Referrer-Policy no-referrer; the token decides then.
func (s *server) checkCSRF(c *gin.Context, want string) bool {
	if o := c.GetHeader("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, c.Request.Host) {
			return false
		}
	}
	got := c.GetHeader(csrfHeader)
	if got == "" {
		limit := int64(maxWebFormBytes)
		if mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type")); mt == "multipart/form-data" {
			limit = s.lim.MaxUpload + 64<<10
			if p := c.FullPath(); p == consoleBatchUpload || p == "/console"+consoleBatchCheck {
				limit = s.lim.MaxBatchUpload + 64<<10
			}
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		got = c.PostForm(csrfField)
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// loginToken returns the double-submit token of the login forms, setting its
// cookie when the browser has none.
func (s *server) loginToken(c *gin.Context) string {
	if v, err := c.Cookie(loginCookie); err == nil && len(v) == 64 && isHex(v) {
		return v
	}
	v, err := randomHex(s.Rand, 32)
	if err != nil {
		return ""
	}
	setWebCookie(c, loginCookie, v, "/", 0)
	return v
}

// checkLogin checks a login form's token and the per-IP login rate.
func (s *server) checkLogin(c *gin.Context) error {
	want, _ := c.Cookie(loginCookie)
	if !s.checkCSRF(c, want) {
		return errBadCSRF
	}
	if !s.limiter.allow("login:"+c.ClientIP(), s.lim.PublicRate, s.lim.PublicBurst) {
		return errRateLimited
	}
	return nil
}

// startSession creates a session of area and sets its cookie.
func (s *server) startSession(c *gin.Context, ws webSession, ttl time.Duration) error {
	sid, _, err := s.web.sessions.create(ws, ttl)
	if err != nil {
		return err
	}
	setWebCookie(c, webCookie(ws.area), sid, "/"+ws.area, int(ttl/time.Second))
	return nil
}

// webLogout ends the session of area (the logout form carries its token).
func (s *server) webLogout(area string) gin.HandlerFunc {
	return func(c *gin.Context) {
		sid, _ := c.Cookie(webCookie(area))
		if ws, ok := s.web.sessions.get(sid, area); ok {
			if !s.checkCSRF(c, ws.csrf) {
				s.webError(c, errBadCSRF)
				return
			}
			s.web.sessions.drop(sid)
		}
		setWebCookie(c, webCookie(area), "", "/"+area, -1)
		c.Redirect(http.StatusSeeOther, "/"+area+"/login")
	}
}

type staffLoginView struct {
	Action, Heading, Hint, Error, LoginCSRF string
}

func staffLoginText(area string) (heading, hint string) {
	if area == areaCounter {
		return "窗口核验登录", "请输入本窗口的核验密钥（clerk 角色的 API 密钥）。密钥只用于本次登录，不会保存在浏览器中。"
	}
	return "部门管理台登录", "请输入本部门的签发密钥（issuer 角色的 API 密钥）。密钥只用于本次登录，不会保存在浏览器中。"
}

func (s *server) staffLoginPage(area string) gin.HandlerFunc {
	return func(c *gin.Context) {
		s.renderStaffLogin(c, area, http.StatusOK, "")
	}
}

func (s *server) renderStaffLogin(c *gin.Context, area string, status int, msg string) {
	h, hint := staffLoginText(area)
	s.page(c, status, "login_staff", view{Title: h, Area: area,
		Data: staffLoginView{Action: "/" + area + "/login", Heading: h, Hint: hint, Error: msg, LoginCSRF: s.loginToken(c)}})
}

// staffLogin exchanges a clerk's or department's API key for a session.
func (s *server) staffLogin(area string) gin.HandlerFunc {
	role := map[string]catalog.Role{areaCounter: catalog.RoleClerk, areaConsole: catalog.RoleIssuer}[area]
	return func(c *gin.Context) {
		if err := s.checkLogin(c); err != nil {
			s.renderStaffLogin(c, area, statusOf(err).status, messageOf(err))
			return
		}
		p, err := s.principal(c.Request.Context(), strings.TrimSpace(c.PostForm("key")))
		if err != nil || p.Role != role {
			s.Logger.Info("web: staff login refused", "area", area, "requestId", requestIDOf(c))
			msg := "密钥无效、已撤销，或不是本页面所需角色的密钥"
			s.renderStaffLogin(c, area, http.StatusUnauthorized, msg)
			return
		}
		user := p.Name
		if p.Dept != "" {
			if d, err := s.Store.GetDepartment(c.Request.Context(), p.Dept); err == nil && d.Name != p.Name {
				user = p.Name + " · " + d.Name
			}
		}
		if err := s.startSession(c, webSession{area: area, keyID: p.ID, user: user}, webStaffTTL); err != nil {
			s.webError(c, err)
			return
		}
		s.Logger.Info("web: staff login", "area", area, "principal", p.ID, "requestId", requestIDOf(c))
		c.Redirect(http.StatusSeeOther, "/"+area)
	}
}

// messageOf is the public message of err, as in the error table.
func messageOf(err error) string {
	var re *requestError
	if errors.As(err, &re) && re.msg != "" {
		return re.msg
	}
	return statusOf(err).msg
}
