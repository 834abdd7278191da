package api_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"elicense/api"
	"elicense/catalog"
	"elicense/catalog/catalogtest"
	"elicense/signer"
)

// panicStore panics on ListTypes, to check the recovery boundary.
type panicStore struct{ catalog.Store }

func (panicStore) ListTypes(context.Context) ([]*catalog.LicenseType, error) {
	panic("secret detail 340202199003071238")
}

func TestPanicBecomes500WithoutDetails(t *testing.T) {
	var logs strings.Builder
	h := api.New(api.Deps{Store: panicStore{}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/types", nil))
	if rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
	var body struct {
		Error struct{ Code, Message, RequestID string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Error.Code != "internal" || body.Error.RequestID == "" || rec.Header().Get("X-Request-ID") != body.Error.RequestID {
		t.Fatalf("body %s", rec.Body)
	}
	if strings.Contains(rec.Body.String(), "secret") || strings.Contains(rec.Body.String(), "goroutine") {
		t.Fatalf("details sent to the client: %s", rec.Body)
	}
	if !strings.Contains(logs.String(), body.Error.RequestID) || !strings.Contains(logs.String(), "stack") {
		t.Fatalf("panic not logged with the request id:\n%s", logs.String())
	}
}

func TestErrorsAndLimits(t *testing.T) {
	h := api.New(api.Deps{Store: catalogtest.NewMemStore(), Access: catalogtest.NewMemAccess()})
	for _, tc := range []struct {
		name, method, path, auth, ctype, body string
		want                                  int
		code                                  string
	}{
		{"unknown route", "GET", "/api/v1/nope", "", "", "", 404, "not_found"},
		{"wrong method", "DELETE", "/api/v1/types", "", "", "", 405, "method_not_allowed"},
		{"malformed key", "GET", "/api/v1/keys", "Bearer nope", "", "", 401, "unauthenticated"},
		{"unknown key", "GET", "/api/v1/keys", "Bearer elk_0123456789ab_" + strings.Repeat("a", 64), "", "", 401, "unauthenticated"},
		{"basic auth", "GET", "/api/v1/keys", "Basic eDp5", "", "", 400, "unauthenticated"},
		{"anonymous admin", "POST", "/api/v1/types", "", "application/json", "{}", 401, "unauthenticated"},
		{"holder login off", "POST", "/api/v1/holder/login", "", "application/json", "{}", 404, "not_enabled"},
		{"dev code off", "POST", "/api/v1/holder/login/code", "", "application/json", "{}", 404, "not_enabled"},
		{"anonymous holder", "GET", "/api/v1/holder/licenses", "", "", "", 401, "unauthenticated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			if tc.ctype != "" {
				r.Header.Set("Content-Type", tc.ctype)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			var body struct{ Error struct{ Code string } }
			json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != tc.want || body.Error.Code != tc.code {
				t.Fatalf("%d %s, want %d %s", rec.Code, rec.Body, tc.want, tc.code)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	p := &catalog.Principal{Name: "x", Role: catalog.RoleClerk}
	text, err := api.NewKey(rand.Reader, time.Unix(0, 0), p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(text, api.KeyPrefix) || len(text) != 4+12+1+64 || p.KeyHash != api.KeyHash(text) ||
		!strings.HasPrefix(p.ID, "key_") || strings.Contains(p.KeyHash, text[17:]) {
		t.Fatalf("key %q principal %+v", text, p)
	}
	ms := catalogtest.NewMemAccess()
	if err := ms.PutPrincipal(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	h := api.New(api.Deps{Store: catalogtest.NewMemStore(), Access: ms})
	for _, tc := range []struct {
		name, header, value string
		want                int
	}{
		{"bearer", "Authorization", "Bearer " + text, 403}, // a clerk may not list keys
		{"x-api-key", "X-API-Key", text, 403},
		{"wrong secret", "X-API-Key", text[:len(text)-1] + map[bool]string{true: "1", false: "0"}[text[len(text)-1] == '0'], 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/v1/keys", nil)
			r.Header.Set(tc.header, tc.value)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tc.want {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
		})
	}
}

func TestGovAppAssertion(t *testing.T) {
	key, err := signer.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	mk := func(alg string, c map[string]any) string {
		enc := func(v any) string {
			b, _ := json.Marshal(v)
			return base64.RawURLEncoding.EncodeToString(b)
		}
		in := enc(map[string]string{"alg": alg, "typ": "JWT"}) + "." + enc(c)
		sig, err := signer.SignMessage(key, rand.Reader, []byte(in))
		if err != nil {
			t.Fatal(err)
		}
		return in + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	good := func() map[string]any {
		return map[string]any{"iss": "wuhu-app", "aud": "elicense", "sub": "340202199003071238", "name": "李文斌",
			"iat": now.Unix() - 10, "exp": now.Unix() + 290, "jti": "j1"}
	}
	with := func(k string, v any) map[string]any { c := good(); c[k] = v; return c }
	g := &api.GovAppIdentity{PublicKey: key.Public(), Issuer: "wuhu-app", Audience: "elicense", Now: func() time.Time { return now }}
	for _, tc := range []struct {
		name  string
		token string
		ok    bool
	}{
		{"valid", mk("SM2", good()), true},
		{"replayed", mk("SM2", good()), false},
		{"wrong alg", mk("none", with("jti", "j2")), false},
		{"wrong audience", mk("SM2", with("aud", "other")), false},
		{"expired", mk("SM2", with("exp", now.Unix()-1)), false},
		{"too long", mk("SM2", with("exp", now.Unix()+3600)), false},
		{"bad ID number", mk("SM2", with("sub", "340202199003071239")), false},
		{"tampered", strings.Replace(mk("SM2", with("jti", "j3")), ".", ".e", 1), false},
		{"garbage", "a.b", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := g.Authenticate(context.Background(), api.Credentials{Assertion: tc.token})
			if tc.ok != (err == nil) {
				t.Fatalf("err %v", err)
			}
			if err != nil && !errors.Is(err, api.ErrLoginFailed) {
				t.Fatalf("error %v does not wrap ErrLoginFailed", err)
			}
			if tc.ok && (id.IDNumber != "340202199003071238" || id.Name != "李文斌") {
				t.Fatalf("identity %+v", id)
			}
		})
	}
}
