package api

import (
	"context"
	"crypto"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"elicense/catalog"
	"elicense/signer"
	"elicense/signer/qrtoken"
)

// Identity is a holder whose real name was checked by an identity provider.
type Identity struct {
	IDNumber string // resident ID number (GB 11643), upper case
	Name     string
	Provider string // e.g. "gov-app", "dev"
}

// Credentials are what a holder presents to log in: an Assertion from the
// government app's identity service, or (development provider) an ID
// number, a name and a one-time code.
type Credentials struct {
	Assertion string
	IDNumber  string
	Name      string
	Code      string
}

// IdentityProvider checks a holder's real-name credentials.
type IdentityProvider interface {
	// Authenticate returns the verified identity, or an error wrapping
	// ErrLoginFailed when the credentials do not prove one.
	Authenticate(ctx context.Context, cr Credentials) (Identity, error)
}

// CodeSender is implemented by providers that first send a one-time code
// (the development provider prints it in the server log).
type CodeSender interface {
	// SendCode makes and delivers a code for the ID number and name; an
	// error wrapping ErrLoginFailed for a malformed ID number.
	SendCode(ctx context.Context, idNumber, name string) error
}

// ErrLoginFailed: the credentials do not prove an identity.
var ErrLoginFailed = errLoginFailed

// DevIdentity is the development provider: a holder states an ID number and
// a name, the server prints a six-digit one-time code in its log (Deliver),
// and the holder logs in with the three. It proves nothing about the person
// and must be enabled only for demonstrations (dev_login = true).
type DevIdentity struct {
	Now  func() time.Time
	Rand io.Reader
	// Deliver hands the code to the holder; nil logs it on Logger (the ID
	// number masked).
	Deliver func(idNumber, name, code string)
	Logger  *slog.Logger

	mu    sync.Mutex
	codes map[string]devCode
}

type devCode struct {
	name, code string
	expires    time.Time
	tries      int
}

// DevCodeTTL is how long a development login code is valid.
const DevCodeTTL = 5 * time.Minute

// SendCode implements CodeSender.
func (d *DevIdentity) SendCode(_ context.Context, idNumber, name string) error {
	idNumber = catalog.NormalizeIDNumber(idNumber)
	now := d.Now()
	if code, msg := catalog.CheckIDNumber(idNumber, now); code != "" {
		return &requestError{kind: errLoginFailed, code: "login_failed", msg: msg,
			fields: []catalog.FieldError{{Item: "idNumber", Code: code, Message: msg}}}
	}
	if strings.TrimSpace(name) == "" {
		return fieldRequired("name", "必须填写姓名")
	}
	var b [4]byte
	if _, err := io.ReadFull(d.Rand, b[:]); err != nil {
		return err
	}
	code := fmt.Sprintf("%06d", binary.BigEndian.Uint32(b[:])%1_000_000)
	d.mu.Lock()
	if d.codes == nil || len(d.codes) > 10_000 {
		d.codes = map[string]devCode{}
	}
	d.codes[idNumber] = devCode{name: strings.TrimSpace(name), code: code, expires: now.Add(DevCodeTTL)}
	d.mu.Unlock()
	if d.Deliver != nil {
		d.Deliver(idNumber, name, code)
	} else if d.Logger != nil {
		d.Logger.Warn("development login code (dev_login is on: not for production)",
			"idNumber", qrtoken.MaskIDNumber(idNumber), "code", code)
	}
	return nil
}

// Authenticate implements IdentityProvider. A code is single-use and
// allows five tries.
func (d *DevIdentity) Authenticate(_ context.Context, cr Credentials) (Identity, error) {
	id := catalog.NormalizeIDNumber(cr.IDNumber)
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.codes[id]
	if !ok || !d.Now().Before(c.expires) {
		delete(d.codes, id)
		return Identity{}, fmt.Errorf("api: dev login: no code: %w", ErrLoginFailed)
	}
	if subtle.ConstantTimeCompare([]byte(c.code), []byte(cr.Code)) != 1 || c.name != strings.TrimSpace(cr.Name) {
		c.tries++
		if c.tries >= 5 {
			delete(d.codes, id)
		} else {
			d.codes[id] = c
		}
		return Identity{}, fmt.Errorf("api: dev login: wrong code or name: %w", ErrLoginFailed)
	}
	delete(d.codes, id)
	return Identity{IDNumber: id, Name: c.name, Provider: "dev"}, nil
}

// GovAppIdentity verifies the signed assertion the government app's
// identity service gives a holder who passed its real-name check. The
// assertion is a compact JWS-like token:
//
//	base64url(header) "." base64url(claims) "." base64url(signature)
//
// header {"alg":"SM2","typ":"JWT"}; claims {"iss", "aud", "sub" (the resident
// ID number), "name", "iat", "exp" (Unix seconds), "jti"}; signature: SM2 with
// SM3 and the default user ID over the ASCII bytes header "." claims, DER or
// 64-byte r‖s. iss and aud must equal Issuer and Audience, iat ≤ now + 60 s,
// now < exp, exp − iat ≤ 10 min, and each jti is accepted once.
type GovAppIdentity struct {
	PublicKey crypto.PublicKey
	Issuer    string
	Audience  string
	Now       func() time.Time

	mu   sync.Mutex
	seen map[string]time.Time
}

type assertionClaims struct {
	Iss  string `json:"iss"`
	Aud  string `json:"aud"`
	Sub  string `json:"sub"`
	Name string `json:"name"`
	Iat  int64  `json:"iat"`
	Exp  int64  `json:"exp"`
	Jti  string `json:"jti"`
}

// Authenticate implements IdentityProvider.
func (g *GovAppIdentity) Authenticate(_ context.Context, cr Credentials) (Identity, error) {
	fail := func(why string) (Identity, error) {
		return Identity{}, fmt.Errorf("api: assertion: %s: %w", why, ErrLoginFailed)
	}
	parts := strings.Split(strings.TrimSpace(cr.Assertion), ".")
	if len(parts) != 3 || len(cr.Assertion) > 8192 {
		return fail("not three parts")
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return fail("base64")
	}
	if json.Unmarshal(hb, &hdr) != nil || hdr.Alg != "SM2" {
		return fail("header")
	}
	if !signer.VerifyMessage(g.PublicKey, []byte(parts[0]+"."+parts[1]), sig) {
		return fail("signature")
	}
	var c assertionClaims
	if json.Unmarshal(cb, &c) != nil {
		return fail("claims")
	}
	now := g.Now()
	switch {
	case c.Iss != g.Issuer || c.Aud != g.Audience:
		return fail("issuer or audience")
	case c.Iat > now.Unix()+60 || now.Unix() >= c.Exp || c.Exp-c.Iat > 600:
		return fail("time window")
	case c.Jti == "" || c.Name == "":
		return fail("jti or name missing")
	}
	id := catalog.NormalizeIDNumber(c.Sub)
	if code, _ := catalog.CheckIDNumber(id, now); code != "" {
		return fail("sub is not an ID number")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seen == nil {
		g.seen = map[string]time.Time{}
	}
	for k, exp := range g.seen {
		if !now.Before(exp) {
			delete(g.seen, k)
		}
	}
	if _, dup := g.seen[c.Jti]; dup {
		return fail("replayed")
	}
	g.seen[c.Jti] = time.Unix(c.Exp, 0)
	return Identity{IDNumber: id, Name: c.Name, Provider: "gov-app"}, nil
}
