package api

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"elicense/catalog"
	"elicense/signer"
)

// KeyPrefix starts every API key: elk_<id>_<secret>, where id is 12 and
// secret 64 lower-case hex digits (32 random bytes).
const KeyPrefix = "elk_"

// NewKey makes an API key for p (Name, Role, Dept, Types set by the caller):
// it fills p.ID, p.KeyHash and p.CreatedAt and returns the key text, which is
// shown once and never stored.
func NewKey(rnd io.Reader, now time.Time, p *catalog.Principal) (string, error) {
	var id [6]byte
	var secret [32]byte
	if _, err := io.ReadFull(rnd, id[:]); err != nil {
		return "", fmt.Errorf("api: new key: %w", err)
	}
	if _, err := io.ReadFull(rnd, secret[:]); err != nil {
		return "", fmt.Errorf("api: new key: %w", err)
	}
	text := KeyPrefix + hex.EncodeToString(id[:]) + "_" + hex.EncodeToString(secret[:])
	p.ID = "key_" + hex.EncodeToString(id[:])
	p.KeyHash = KeyHash(text)
	p.CreatedAt = now.UTC()
	return text, nil
}

// KeyHash is the stored digest of a key: lower-case hex SM3 of its text.
func KeyHash(text string) string {
	h := signer.NewSM3()
	h.Write([]byte(text))
	return hex.EncodeToString(h.Sum(nil))
}

// parseKey returns the principal ID a key text claims.
func parseKey(text string) (string, bool) {
	rest, ok := strings.CutPrefix(text, KeyPrefix)
	if !ok {
		return "", false
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 12 || len(secret) != 64 || !isHex(id) || !isHex(secret) {
		return "", false
	}
	return "key_" + id, true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// caller is who makes a request: a principal (API key), a holder (session)
// or nobody.
type caller struct {
	p        *catalog.Principal
	deptUSCC string // issuer and clerk: the USCC of the principal's department
	deptName string
	holder   *Identity
	session  string
	public   bool // on a public endpoint: the 用证事由 is optional
}

func (c *caller) role() catalog.Role {
	if c.p != nil {
		return c.p.Role
	}
	return ""
}

// actor is the domain actor of an issuing principal: always bound to its
// department, never the unrestricted local operator.
func (c *caller) actor() catalog.Actor {
	return catalog.Actor{Name: c.p.Name + " (" + c.p.ID + ")", Dept: c.deptUSCC}
}

const callerKey = "elicense.caller"

func callerOf(c *gin.Context) *caller {
	if v, ok := c.Get(callerKey); ok {
		return v.(*caller)
	}
	return &caller{}
}

// SessionCookie is the name of the holder session cookie.
const SessionCookie = "elicense_session"

// authenticate reads the API key (Authorization: Bearer elk_… or X-API-Key)
// or the holder session cookie. A key that is malformed, unknown or revoked
// is refused at once; no credentials make an anonymous caller.
func (s *server) authenticate(c *gin.Context) {
	who := &caller{}
	c.Set(callerKey, who)
	key := c.GetHeader("X-API-Key")
	if a := c.GetHeader("Authorization"); key == "" && a != "" {
		scheme, rest, _ := strings.Cut(a, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			s.fail(c, badRequest("unauthenticated", "Authorization 应为 Bearer <API 密钥>"))
			return
		}
		key = strings.TrimSpace(rest)
	}
	if key != "" {
		p, err := s.principal(c.Request.Context(), key)
		if err != nil {
			s.fail(c, err)
			return
		}
		who.p = p
		if p.Dept != "" {
			d, err := s.Store.GetDepartment(c.Request.Context(), p.Dept)
			if err != nil {
				s.fail(c, fmt.Errorf("api: department of %s: %w", p.ID, err))
				return
			}
			who.deptUSCC, who.deptName = d.USCC, d.Name
		}
		if p.Role == catalog.RoleIssuer && who.deptUSCC == "" {
			s.fail(c, fmt.Errorf("api: issuer key %s has no department: %w", p.ID, errForbidden))
			return
		}
	} else if ck, err := c.Cookie(SessionCookie); err == nil && ck != "" {
		if id, ok := s.sessions.get(ck); ok {
			who.holder, who.session = &id, ck
		}
	}
	c.Next()
}

func (s *server) principal(ctx context.Context, key string) (*catalog.Principal, error) {
	if s.Access == nil {
		return nil, errUnavailable
	}
	id, ok := parseKey(key)
	if !ok {
		return nil, errUnauthenticated
	}
	p, err := s.Access.PrincipalByKeyHash(ctx, KeyHash(key))
	if errors.Is(err, catalog.ErrNotFound) || err == nil && (p.ID != id || !p.Active()) {
		return nil, errUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// allow admits principals of the given roles, after their rate limit.
// Anonymous callers get 401, others 403.
func (s *server) allow(roles ...catalog.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		who := callerOf(c)
		if who.p == nil {
			if who.holder != nil {
				s.fail(c, errForbidden)
			} else {
				s.fail(c, errUnauthenticated)
			}
			return
		}
		ok := false
		for _, r := range roles {
			ok = ok || who.p.Role == r
		}
		if !ok {
			s.fail(c, errForbidden)
			return
		}
		if !s.limiter.allow("key:"+who.p.ID, s.lim.KeyRate, s.lim.KeyBurst) {
			s.fail(c, errRateLimited)
			return
		}
		c.Next()
	}
}

// public rate-limits by client IP (anonymous callers), or by key or session.
func (s *server) public(c *gin.Context) {
	who := callerOf(c)
	who.public = true
	var ok bool
	switch {
	case who.p != nil:
		ok = s.limiter.allow("key:"+who.p.ID, s.lim.KeyRate, s.lim.KeyBurst)
	default:
		ok = s.limiter.allow("ip:"+c.ClientIP(), s.lim.PublicRate, s.lim.PublicBurst)
	}
	if !ok {
		s.fail(c, errRateLimited)
		return
	}
	c.Next()
}

// holderOnly admits a logged-in holder.
func (s *server) holderOnly(c *gin.Context) {
	who := callerOf(c)
	if who.holder == nil {
		if who.p != nil {
			s.fail(c, errForbidden)
		} else {
			s.fail(c, errUnauthenticated)
		}
		return
	}
	if !s.limiter.allow("holder:"+who.session, s.lim.KeyRate, s.lim.KeyBurst) {
		s.fail(c, errRateLimited)
		return
	}
	c.Next()
}

// limiters are token buckets by key. The map is dropped when it grows past
// maxLimiters, which at worst gives a burst back to everyone.
type limiters struct {
	mu sync.Mutex
	m  map[string]*rate.Limiter
}

const maxLimiters = 50_000

func newLimiters() *limiters { return &limiters{m: map[string]*rate.Limiter{}} }

func (l *limiters) allow(key string, r float64, burst int) bool {
	l.mu.Lock()
	lim, ok := l.m[key]
	if !ok {
		if len(l.m) >= maxLimiters {
			l.m = map[string]*rate.Limiter{}
		}
		lim = rate.NewLimiter(rate.Limit(r), burst)
		l.m[key] = lim
	}
	l.mu.Unlock()
	return lim.Allow()
}

// sessions are holder sessions in memory: a restart logs every holder out.
type sessions struct {
	mu  sync.Mutex
	m   map[string]session
	ttl time.Duration
	now func() time.Time
	rnd io.Reader
}

type session struct {
	id      Identity
	expires time.Time
}

const maxSessions = 100_000

func newSessions(ttl time.Duration, now func() time.Time, rnd io.Reader) *sessions {
	return &sessions{m: map[string]session{}, ttl: ttl, now: now, rnd: rnd}
}

func (ss *sessions) create(id Identity) (string, time.Time, error) {
	var b [32]byte
	if _, err := io.ReadFull(ss.rnd, b[:]); err != nil {
		return "", time.Time{}, err
	}
	sid := hex.EncodeToString(b[:])
	now := ss.now()
	exp := now.Add(ss.ttl)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= maxSessions {
		for k, v := range ss.m {
			if !now.Before(v.expires) {
				delete(ss.m, k)
			}
		}
		if len(ss.m) >= maxSessions {
			return "", time.Time{}, fmt.Errorf("api: too many sessions: %w", errRateLimited)
		}
	}
	ss.m[sid] = session{id: id, expires: exp}
	return sid, exp, nil
}

func (ss *sessions) get(sid string) (Identity, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	v, ok := ss.m[sid]
	if !ok {
		return Identity{}, false
	}
	if !ss.now().Before(v.expires) {
		delete(ss.m, sid)
		return Identity{}, false
	}
	return v.id, true
}

func (ss *sessions) drop(sid string) {
	ss.mu.Lock()
	delete(ss.m, sid)
	ss.mu.Unlock()
}

func setSessionCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: SessionCookie, Value: value, Path: "/api/v1/holder", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.Request.TLS != nil,
	})
}
