package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"elicense/api"
	"elicense/catalog"
	"elicense/signer/qrtoken"
)

// Holders of the API tests: natural persons, so their names and ID numbers
// must never reach an anonymous caller unmasked.
var (
	holderA = person{name: "李文斌", id: "340202199003071238", birth: "1990-03-07", gender: "男"}
	holderB = person{name: "张晓明", id: idWithCheck("34020219851112345"), birth: "1985-11-12", gender: "男"}
)

type person struct{ name, id, birth, gender string }

func idWithCheck(first17 string) string {
	c, _ := catalog.IDCheckChar(first17)
	return first17 + string(c)
}

func specialOps(p person, number string) map[string]string {
	var row map[string]string
	b, err := os.ReadFile(sample("special-operations.json"))
	if err != nil {
		panic(err)
	}
	if err := json.Unmarshal(b, &row); err != nil {
		panic(err)
	}
	row["holder_name"], row["holder_code"], row["birth_date"], row["gender"] = p.name, p.id, p.birth, p.gender
	row["license_no"], row["valid_from"], row["valid_until"] = number, "2025-06-20", "2031-06-19"
	return row
}

// openAPIValidator checks every request and response passing through it
// against the OpenAPI document and collects the problems.
type openAPIValidator struct {
	router routers.Router
	next   http.Handler
	mu     sync.Mutex
	errs   []string
	seen   map[string]bool // operations exercised
}

func newOpenAPIValidator(t *testing.T, next http.Handler) *openAPIValidator {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi document invalid: %v", err)
	}
	doc.Servers = nil
	r, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range []string{"application/pdf", "application/cbor"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
	return &openAPIValidator{router: r, next: next, seen: map[string]bool{}}
}

func (v *openAPIValidator) fail(format string, args ...any) {
	v.mu.Lock()
	v.errs = append(v.errs, fmt.Sprintf(format, args...))
	v.mu.Unlock()
}

func (v *openAPIValidator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := v.router.FindRoute(r)
	if err != nil {
		v.fail("%s %s: no route in the OpenAPI document: %v", r.Method, r.URL.Path, err)
		v.next.ServeHTTP(w, r)
		return
	}
	v.mu.Lock()
	v.seen[route.Operation.OperationID] = true
	v.mu.Unlock()
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
	// Requests the tests send on purpose wrong are marked and not judged.
	if r.Header.Get("X-Test-Invalid") == "" {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			v.fail("%s %s: request: %v", r.Method, r.URL.Path, err)
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	v.next.ServeHTTP(rec, r)
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
		Options: opts}
	out.SetBodyBytes(rec.Body.Bytes())
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		v.fail("%s %s → %d: response: %v\n%.300s", r.Method, r.URL.Path, rec.Code, err, rec.Body.String())
	}
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// apiEnv is a running API on a copy of the demo city: real bbolt, templates,
// PKI and QR authority, behind the OpenAPI validator.
type apiEnv struct {
	t     *testing.T
	app   *app
	base  string
	valid *openAPIValidator
	codes sync.Map // ID number → last dev login code
	keys  map[string]string
	anon  []string // bodies of anonymous responses
	mu    sync.Mutex
}

func newAPIEnv(t *testing.T, limits api.Limits) *apiEnv {
	t.Helper()
	dir := demoData(t)
	cfg, err := loadConfig(&globalFlags{dataDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(context.Background(), cfg, io.Discard, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	deps, err := a.apiDeps(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e := &apiEnv{t: t, app: a, keys: map[string]string{}}
	dev := &api.DevIdentity{Now: deps.Now, Rand: deps.Rand, Deliver: func(id, _, code string) { e.codes.Store(id, code) }}
	deps.Identity = dev
	deps.Limits = limits
	e.valid = newOpenAPIValidator(t, api.New(deps))
	srv := httptest.NewServer(e.valid)
	t.Cleanup(srv.Close)
	e.base = srv.URL
	ctx := context.Background()
	for name, p := range map[string]catalog.Principal{
		"admin": {Name: "芜湖市数据资源局", Role: catalog.RoleAdmin},
		"deptX": {Name: "芜湖市住房和城乡建设局", Role: catalog.RoleIssuer, Dept: "wuhu-hurd"},
		"deptY": {Name: "芜湖市市场监督管理局", Role: catalog.RoleIssuer, Dept: "wuhu-amr"},
		"unit":  {Name: "芜湖市某建筑公司", Role: catalog.RoleVerifier, Types: []string{"special-operations"}},
		"clerk": {Name: "政务服务中心3号窗口", Role: catalog.RoleClerk, Dept: "wuhu-hurd"},
	} {
		p := p
		text, err := api.NewKey(deps.Rand, deps.Now(), &p)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.store.PutPrincipal(ctx, &p); err != nil {
			t.Fatal(err)
		}
		e.keys[name] = text
	}
	t.Cleanup(func() {
		e.valid.mu.Lock()
		defer e.valid.mu.Unlock()
		for _, m := range e.valid.errs {
			t.Error("OpenAPI: " + m)
		}
	})
	return e
}

// req is one request of a test.
type req struct {
	method, path string
	json         any
	form         map[string]string // multipart parts; "file" is sent as a file
	header       map[string]string
}

type resp struct {
	code   int
	body   []byte
	header http.Header
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
}

// do sends r as who: a key name, "holderA"/"holderB" (a session cookie
// value in e.keys) or "anon".
func (e *apiEnv) do(who string, r req) resp {
	e.t.Helper()
	var body io.Reader
	ct := ""
	switch {
	case r.json != nil:
		b, _ := json.Marshal(r.json)
		body, ct = bytes.NewReader(b), "application/json"
	case r.form != nil:
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, v := range r.form {
			if k == "file" {
				fw, _ := mw.CreateFormFile("file", "upload.pdf")
				fw.Write([]byte(v))
			} else {
				mw.WriteField(k, v)
			}
		}
		mw.Close()
		body, ct = &buf, mw.FormDataContentType()
	}
	hr, err := http.NewRequest(r.method, e.base+r.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	switch {
	case who == "anon":
	case strings.HasPrefix(who, "holder"):
		hr.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: e.keys[who]})
	default:
		hr.Header.Set("Authorization", "Bearer "+e.keys[who])
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if who == "anon" {
		e.mu.Lock()
		e.anon = append(e.anon, string(b))
		e.mu.Unlock()
	}
	return resp{res.StatusCode, b, res.Header}
}

func (e *apiEnv) must(who string, r req, want int) resp {
	e.t.Helper()
	res := e.do(who, r)
	if res.code != want {
		e.t.Fatalf("%s %s as %s = %d, want %d\n%s", r.method, r.path, who, res.code, want, res.body)
	}
	return res
}

// login logs a holder in with the development provider.
func (e *apiEnv) login(who string, p person) {
	e.t.Helper()
	e.must("anon", req{method: "POST", path: "/api/v1/holder/login/code", json: map[string]string{"idNumber": p.id, "name": p.name}}, 202)
	code, _ := e.codes.Load(p.id)
	res := e.must("anon", req{method: "POST", path: "/api/v1/holder/login",
		json: map[string]string{"idNumber": p.id, "name": p.name, "code": code.(string)}}, 200)
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == api.SessionCookie {
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				e.t.Fatalf("session cookie not HttpOnly + SameSite=Strict: %+v", c)
			}
			e.keys[who] = c.Value
		}
	}
	if e.keys[who] == "" {
		e.t.Fatal("no session cookie")
	}
}

func (e *apiEnv) issue(dept, typ string, values map[string]string) string {
	e.t.Helper()
	res := e.must(dept, req{method: "POST", path: "/api/v1/licenses", json: map[string]any{"type": typ, "values": values}}, 201)
	var out struct{ Identifier string }
	res.json(e.t, &out)
	return out.Identifier
}

func esc(id string) string { return url.PathEscape(id) }

// waitBatch polls the batch as who until it has finished and returns its
// status.
func (e *apiEnv) waitBatch(who, id string) api.BatchStatus {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var st api.BatchStatus
		e.must(who, req{method: "GET", path: "/api/v1/batches/" + id}, 200).json(e.t, &st)
		if st.Finished {
			return st
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("batch %s not finished after 60 s: %+v", id, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var callers = []string{"anon", "holderA", "holderB", "deptX", "deptY", "unit", "clerk", "admin"}

// TestAPIAuthorizationMatrix sends every endpoint as every kind of caller and
// checks the status, that nobody reaches another holder's or department's
// licenses, and that anonymous answers never carry unmasked personal data.
func TestAPIAuthorizationMatrix(t *testing.T) {
	e := newAPIEnv(t, api.Limits{KeyRate: 1000, KeyBurst: 1000, PublicRate: 1000, PublicBurst: 1000})
	e.login("holderA", holderA)
	e.login("holderB", holderB)
	la := e.issue("deptX", "special-operations", specialOps(holderA, "皖A042025000001"))
	lb := e.issue("deptX", "special-operations", specialOps(holderB, "皖A042025000002"))
	lu := e.issue("deptX", "special-operations", specialOps(holderA, "皖A042025000003"))
	lr := e.issue("deptX", "special-operations", specialOps(holderA, "皖A042025000004"))
	food, _ := os.ReadFile(sample("food-business.json"))
	var foodRow map[string]string
	json.Unmarshal(food, &foodRow)
	lf := e.issue("deptY", "food-business", foodRow)

	pdfA := e.must("deptX", req{method: "GET", path: "/api/v1/licenses/" + esc(la) + "/pdf"}, 200).body
	qrFor := func() string {
		var q struct{ Text string }
		e.must("holderA", req{method: "POST", path: "/api/v1/holder/licenses/" + esc(la) + "/qr"}, 200).json(t, &q)
		return q.Text
	}
	var extraKey struct{ ID string }
	e.must("admin", req{method: "POST", path: "/api/v1/keys", json: map[string]any{"name": "临时", "role": "clerk"}}, 201).json(t, &extraKey)
	batchCSV := "holder_name,holder_code,gender,birth_date,category,license_no,first_issue,valid_from,valid_until\n" +
		strings.Join([]string{holderB.name, holderB.id, holderB.gender, holderB.birth, "建筑电工", "皖A042025000099", "2018-06-20", "2025-06-20", "2031-06-19"}, ",") + "\n"
	var batchID string

	const P = "?purpose=" + "%E6%8B%9B%E8%81%98%E6%A0%B8%E9%AA%8C" // 招聘核验
	typeBody := map[string]any{"key": "test-ops", "code": "11100000MB0341032Y099", "name": "测试作业证", "holder": "natural",
		"issuingDepts": []string{"wuhu-hurd"}, "template": "special-operations",
		"items": []map[string]any{{"key": "holder_name", "label": "姓名", "type": "text", "required": true, "face": true},
			{"key": "holder_code", "label": "身份证号", "type": "id-number", "required": true, "sensitive": true},
			{"key": "license_no", "label": "证号", "type": "text", "required": true, "face": true}}}
	var so struct{ Code string }
	e.must("anon", req{method: "GET", path: "/api/v1/types/special-operations"}, 200).json(t, &so)
	claim := map[string]any{"typeCode": so.Code, "holderCode": holderA.id, "number": "皖A042025000001", "purpose": "入职核验"}

	type row struct {
		name string
		r    func(who string) req
		want [8]int // anon, holderA, holderB, deptX, deptY, unit, clerk, admin
		// check inspects a 2xx body.
		check func(t *testing.T, who string, body []byte)
	}
	fixed := func(r req) func(string) req { return func(string) req { return r } }
	notContains := func(ids ...string) func(*testing.T, string, []byte) {
		return func(t *testing.T, who string, body []byte) {
			for _, id := range ids {
				if bytes.Contains(body, []byte(id)) {
					t.Errorf("%s sees %s", who, id)
				}
			}
		}
	}
	rows := []row{
		{name: "healthz", r: fixed(req{method: "GET", path: "/healthz"}), want: [8]int{200, 200, 200, 200, 200, 200, 200, 200}},
		{name: "readyz", r: fixed(req{method: "GET", path: "/readyz"}), want: [8]int{200, 200, 200, 200, 200, 200, 200, 200}},
		{name: "openapi", r: fixed(req{method: "GET", path: "/api/v1/openapi.json"}), want: [8]int{200, 200, 200, 200, 200, 200, 200, 200}},
		{name: "list types", r: fixed(req{method: "GET", path: "/api/v1/types"}), want: [8]int{200, 200, 200, 200, 200, 200, 200, 200},
			check: func(t *testing.T, who string, body []byte) {
				var tl struct {
					Types []struct{ Items []struct{ Face bool } }
				}
				json.Unmarshal(body, &tl)
				for _, ty := range tl.Types {
					for _, it := range ty.Items {
						if who == "anon" && !it.Face {
							t.Errorf("anonymous caller sees non-face items: %.200s", body)
						}
					}
				}
			}},
		{name: "get type", r: fixed(req{method: "GET", path: "/api/v1/types/special-operations"}), want: [8]int{200, 200, 200, 200, 200, 200, 200, 200}},
		{name: "create type", r: fixed(req{method: "POST", path: "/api/v1/types", json: typeBody}), want: [8]int{401, 403, 403, 403, 403, 403, 403, 201}},
		{name: "update type", r: fixed(req{method: "PUT", path: "/api/v1/types/test-ops", json: typeBody}), want: [8]int{401, 403, 403, 403, 403, 403, 403, 200}},
		{name: "batch template of a draft type", r: fixed(req{method: "GET", path: "/api/v1/types/test-ops/batch-template"}), want: [8]int{404, 404, 404, 404, 404, 404, 404, 200}},
		{name: "publish type", r: fixed(req{method: "POST", path: "/api/v1/types/test-ops/publish"}), want: [8]int{401, 403, 403, 403, 403, 403, 403, 200}},
		{name: "backup", r: fixed(req{method: "GET", path: "/api/v1/backup"}), want: [8]int{401, 403, 403, 403, 403, 403, 403, 200}},
		{name: "list keys", r: fixed(req{method: "GET", path: "/api/v1/keys"}), want: [8]int{401, 403, 403, 403, 403, 403, 403, 200},
			check: notContains(e.keys["deptX"])},
		{name: "create key", r: fixed(req{method: "POST", path: "/api/v1/keys", json: map[string]any{"name": "某医院", "role": "verifier", "types": []string{"no-criminal-record"}}}),
			want: [8]int{401, 403, 403, 403, 403, 403, 403, 201}},
		{name: "revoke key", r: func(string) req { return req{method: "DELETE", path: "/api/v1/keys/" + extraKey.ID} }, want: [8]int{401, 403, 403, 403, 403, 403, 403, 200}},
		{name: "issue", r: fixed(req{method: "POST", path: "/api/v1/licenses", json: map[string]any{"type": "special-operations", "values": specialOps(holderB, "皖A042025000010")}}),
			want: [8]int{401, 403, 403, 201, 403, 403, 403, 403}},
		{name: "get license", r: fixed(req{method: "GET", path: "/api/v1/licenses/" + esc(la) + P}), want: [8]int{401, 403, 403, 200, 403, 200, 200, 200}},
		{name: "get other dept license", r: fixed(req{method: "GET", path: "/api/v1/licenses/" + esc(lf) + P}), want: [8]int{401, 403, 403, 403, 200, 403, 200, 200}},
		{name: "download", r: fixed(req{method: "GET", path: "/api/v1/licenses/" + esc(la) + "/pdf" + P}), want: [8]int{401, 403, 403, 200, 403, 200, 200, 200}},
		{name: "list by holder", r: fixed(req{method: "GET", path: "/api/v1/licenses" + P + "&holder=" + holderA.id}), want: [8]int{401, 403, 403, 200, 200, 200, 200, 200},
			check: func(t *testing.T, who string, body []byte) {
				has := bytes.Contains(body, []byte(la))
				if who == "deptY" && has || who != "deptY" && !has {
					t.Errorf("%s: list by holder A contains A's license: %v", who, has)
				}
				notContains(lb)(t, who, body)
			}},
		{name: "update", r: fixed(req{method: "PUT", path: "/api/v1/licenses/" + esc(lu), json: map[string]any{"values": specialOps(holderA, "皖A042025000003"), "reason": "类别变更"}}),
			want: [8]int{401, 403, 403, 200, 403, 403, 403, 403}},
		{name: "suspend", r: fixed(req{method: "POST", path: "/api/v1/licenses/" + esc(la) + "/suspend", json: map[string]string{"reason": "违规作业"}}),
			want: [8]int{401, 403, 403, 200, 403, 403, 403, 403}},
		{name: "resume", r: fixed(req{method: "POST", path: "/api/v1/licenses/" + esc(la) + "/resume", json: map[string]string{"reason": "整改完成"}}),
			want: [8]int{401, 403, 403, 200, 403, 403, 403, 403}},
		{name: "revoke", r: fixed(req{method: "POST", path: "/api/v1/licenses/" + esc(lr) + "/revoke", json: map[string]string{"reason": "持证人申请注销"}}),
			want: [8]int{401, 403, 403, 200, 403, 403, 403, 403}},
		{name: "revoke other dept", r: fixed(req{method: "POST", path: "/api/v1/licenses/" + esc(lf) + "/revoke", json: map[string]string{"reason": "x"}}),
			want: [8]int{401, 403, 403, 403, 200, 403, 403, 403}},
		{name: "dept uses", r: func(who string) req {
			p := "/api/v1/uses"
			if who == "admin" {
				p += "?issuer=11340200MB1A23465H"
			}
			return req{method: "GET", path: p}
		}, want: [8]int{401, 403, 403, 200, 200, 403, 403, 200},
			check: func(t *testing.T, who string, body []byte) {
				if who == "deptY" {
					notContains(la, lb)(t, who, body)
				}
			}},
		{name: "verify identifier", r: fixed(req{method: "POST", path: "/api/v1/verify/identifier", json: map[string]string{"identifier": la, "purpose": "入职核验"}}),
			want: [8]int{401, 403, 403, 403, 403, 200, 200, 403}},
		{name: "verify claims", r: func(string) req {
			return req{method: "POST", path: "/api/v1/verify/claims", json: claim}
		}, want: [8]int{401, 403, 403, 403, 403, 200, 200, 403}},
		{name: "verify qr", r: func(string) req {
			return req{method: "POST", path: "/api/v1/verify/qr", json: map[string]string{"text": qrFor(), "purpose": "现场亮证"}}
		}, want: [8]int{401, 403, 403, 403, 403, 200, 200, 403}},
		{name: "verify file", r: fixed(req{method: "POST", path: "/api/v1/verify/file", form: map[string]string{"file": string(pdfA), "purpose": "入职核验"}}),
			want: [8]int{401, 403, 403, 403, 403, 200, 200, 403}},
		{name: "public verify file", r: fixed(req{method: "POST", path: "/api/v1/public/verify/file", form: map[string]string{"file": string(pdfA)}}),
			want: [8]int{200, 200, 200, 200, 200, 200, 200, 200}},
		{name: "public verify qr", r: func(string) req {
			return req{method: "POST", path: "/api/v1/public/verify/qr", json: map[string]string{"text": qrFor()}}
		}, want: [8]int{200, 200, 200, 200, 200, 200, 200, 200}},
		{name: "batch template", r: fixed(req{method: "GET", path: "/api/v1/types/special-operations/batch-template?format=csv"}),
			want: [8]int{200, 200, 200, 200, 200, 200, 200, 200},
			check: func(t *testing.T, who string, body []byte) {
				if !bytes.HasPrefix(body, []byte("\uFEFF*姓名,")) {
					t.Errorf("template: %q", body)
				}
			}},
		{name: "key list", r: fixed(req{method: "GET", path: "/api/v1/qr/keys"}), want: [8]int{200, 200, 200, 200, 200, 200, 200, 200}},
		{name: "status list", r: fixed(req{method: "GET", path: "/api/v1/qr/status"}), want: [8]int{200, 200, 200, 200, 200, 200, 200, 200}},
		{name: "holder licenses", r: fixed(req{method: "GET", path: "/api/v1/holder/licenses"}), want: [8]int{401, 200, 200, 403, 403, 403, 403, 403},
			check: func(t *testing.T, who string, body []byte) {
				if who == "holderB" {
					notContains(la, lu, lr, lf)(t, who, body)
				} else {
					notContains(lb, lf)(t, who, body)
				}
			}},
		{name: "holder license", r: fixed(req{method: "GET", path: "/api/v1/holder/licenses/" + esc(la)}), want: [8]int{401, 200, 404, 403, 403, 403, 403, 403}},
		{name: "holder download", r: fixed(req{method: "GET", path: "/api/v1/holder/licenses/" + esc(la) + "/pdf"}), want: [8]int{401, 200, 404, 403, 403, 403, 403, 403}},
		{name: "holder qr", r: fixed(req{method: "POST", path: "/api/v1/holder/licenses/" + esc(la) + "/qr"}), want: [8]int{401, 200, 404, 403, 403, 403, 403, 403}},
		{name: "holder uses", r: fixed(req{method: "GET", path: "/api/v1/holder/uses"}), want: [8]int{401, 200, 200, 403, 403, 403, 403, 403},
			check: func(t *testing.T, who string, body []byte) {
				if who == "holderB" {
					notContains(la)(t, who, body)
				}
				if who == "holderA" && !bytes.Contains(body, []byte("入职核验")) {
					t.Errorf("holder A's use records lack the verification: %s", body)
				}
			}},
		{name: "start batch", r: fixed(req{method: "POST", path: "/api/v1/batches", form: map[string]string{"file": batchCSV, "type": "special-operations", "name": "rows.csv"}}),
			want: [8]int{401, 403, 403, 202, 403, 403, 403, 403},
			check: func(t *testing.T, who string, body []byte) {
				var st api.BatchStatus
				json.Unmarshal(body, &st)
				batchID = st.ID
			}},
		{name: "check batch", r: fixed(req{method: "POST", path: "/api/v1/batches/check", form: map[string]string{"file": batchCSV, "type": "special-operations", "name": "rows.csv"}}),
			want: [8]int{401, 403, 403, 200, 403, 403, 403, 403}},
		{name: "get batch", r: func(string) req { return req{method: "GET", path: "/api/v1/batches/" + batchID} }, want: [8]int{401, 403, 403, 200, 403, 403, 403, 403}},
		{name: "batch report", r: func(string) req {
			e.waitBatch("deptX", batchID)
			return req{method: "GET", path: "/api/v1/batches/" + batchID + "/report"}
		}, want: [8]int{401, 403, 403, 200, 403, 403, 403, 403},
			check: func(t *testing.T, who string, body []byte) {
				if !bytes.Contains(body, []byte("row,source_key,outcome")) || !bytes.Contains(body, []byte("皖A042025000099")) {
					t.Errorf("report: %s", body)
				}
			}},
		{name: "batch manifest", r: func(string) req { return req{method: "GET", path: "/api/v1/batches/" + batchID + "/manifest"} },
			want: [8]int{401, 403, 403, 200, 403, 403, 403, 403},
			check: func(t *testing.T, who string, body []byte) {
				if !bytes.Contains(body, []byte(`"SM2-SM3"`)) {
					t.Errorf("manifest: %s", body)
				}
			}},
		{name: "metrics", r: fixed(req{method: "GET", path: "/metrics"}), want: [8]int{200, 200, 200, 200, 200, 200, 200, 200}},
		{name: "logout", r: fixed(req{method: "POST", path: "/api/v1/holder/logout"}), want: [8]int{204, 204, 204, 204, 204, 204, 204, 204}},
		{name: "after logout", r: fixed(req{method: "GET", path: "/api/v1/holder/licenses"}), want: [8]int{401, 401, 401, 403, 403, 403, 403, 403}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			for i, who := range callers {
				res := e.do(who, r.r(who))
				if res.code != r.want[i] {
					t.Errorf("%s: %d, want %d: %.300s", who, res.code, r.want[i], res.body)
					continue
				}
				if res.code >= 400 {
					var eb struct {
						Error struct{ Code, Message, RequestID string }
					}
					if json.Unmarshal(res.body, &eb) != nil || eb.Error.Code == "" || eb.Error.RequestID == "" {
						t.Errorf("%s: error body without code or requestId: %s", who, res.body)
					}
				} else if r.check != nil {
					r.check(t, who, res.body)
				}
			}
		})
	}
	t.Run("anonymous bodies masked", func(t *testing.T) {
		for _, b := range e.anon {
			for _, p := range []person{holderA, holderB} {
				if strings.Contains(b, p.id) || strings.Contains(b, p.name) {
					t.Errorf("anonymous response carries %s's personal data: %.400s", p.name, b)
				}
			}
		}
		if !strings.Contains(strings.Join(e.anon, ""), "李*斌") {
			t.Error("no masked holder name in anonymous QR verification")
		}
	})
	t.Run("metrics", func(t *testing.T) {
		body := string(e.must("anon", req{method: "GET", path: "/metrics"}, 200).body)
		for _, m := range []string{"elicense_http_requests_total", "elicense_http_request_duration_seconds", "elicense_licenses_issued_total", `elicense_verifications_total{kind="file",result="ok"}`} {
			if !strings.Contains(body, m) {
				t.Errorf("metrics lack %s", m)
			}
		}
	})
	t.Run("every operation exercised", func(t *testing.T) {
		doc, _ := openapi3.NewLoader().LoadFromData(api.OpenAPI())
		for _, item := range doc.Paths.Map() {
			for _, op := range item.Operations() {
				if !e.valid.seen[op.OperationID] {
					t.Errorf("operation %s not exercised by the API tests", op.OperationID)
				}
			}
		}
	})
}

// TestAPIBehaviour covers what the matrix does not: validation per field,
// the purpose rule, 核验 result codes, status-list caching, limits.
func TestAPIBehaviour(t *testing.T) {
	e := newAPIEnv(t, api.Limits{KeyRate: 1000, KeyBurst: 1000, PublicRate: 1000, PublicBurst: 1000, MaxUpload: 1 << 20})
	bad := specialOps(holderA, "皖A042025000020")
	bad["holder_code"] = "340202199003071239"
	res := e.must("deptX", req{method: "POST", path: "/api/v1/licenses", json: map[string]any{"type": "special-operations", "values": bad}}, 422)
	if !bytes.Contains(res.body, []byte(`"item":"holder_code"`)) {
		t.Errorf("no field error for holder_code: %s", res.body)
	}
	id := e.issue("deptX", "special-operations", specialOps(holderA, "皖A042025000021"))
	e.must("unit", req{method: "GET", path: "/api/v1/licenses/" + esc(id)}, 400)
	e.must("deptX", req{method: "POST", path: "/api/v1/licenses/" + esc(id) + "/revoke", json: map[string]string{}}, 422)
	e.must("deptX", req{method: "POST", path: "/api/v1/licenses", json: map[string]any{"type": "special-operations", "bogus": 1},
		header: map[string]string{"X-Test-Invalid": "1"}}, 400)

	claims := func(c map[string]any) int {
		c["purpose"] = "核验"
		var out struct{ Code int }
		e.must("unit", req{method: "POST", path: "/api/v1/verify/claims", json: c}, 200).json(t, &out)
		return out.Code
	}
	var so struct{ Code string }
	e.must("anon", req{method: "GET", path: "/api/v1/types/special-operations"}, 200).json(t, &so)
	tc := so.Code
	for _, c := range []struct {
		name string
		in   map[string]any
		want int
	}{
		{"valid", map[string]any{"typeCode": tc, "holderCode": holderA.id, "number": "皖A042025000021", "holderName": holderA.name}, 0},
		{"no fields", map[string]any{"typeCode": tc}, 6},
		{"too little", map[string]any{"typeCode": tc, "holderCode": holderA.id}, 4},
		{"no such license", map[string]any{"typeCode": tc, "holderCode": holderA.id, "number": "皖A000000000000"}, 5},
		{"mismatch", map[string]any{"typeCode": tc, "holderCode": holderA.id, "number": "皖A042025000021", "fields": map[string]string{"category": "焊工"}}, 7},
	} {
		if got := claims(c.in); got != c.want {
			t.Errorf("claims %s = %d, want %d", c.name, got, c.want)
		}
	}

	// Status list: cached with an ETag, rebuilt after a status change.
	st := e.must("anon", req{method: "GET", path: "/api/v1/qr/status"}, 200)
	tag := st.header.Get("ETag")
	if tag == "" || !strings.Contains(st.header.Get("Cache-Control"), "max-age") {
		t.Fatalf("status list headers: %v", st.header)
	}
	e.must("anon", req{method: "GET", path: "/api/v1/qr/status", header: map[string]string{"If-None-Match": tag}}, 304)
	e.must("deptX", req{method: "POST", path: "/api/v1/licenses/" + esc(id) + "/suspend", json: map[string]string{"reason": "调查"}}, 200)
	if got := claims(map[string]any{"typeCode": tc, "holderCode": holderA.id, "number": "皖A042025000021"}); got != 2 {
		t.Errorf("claims after suspend = %d, want 2", got)
	}
	st2 := e.must("anon", req{method: "GET", path: "/api/v1/qr/status", header: map[string]string{"If-None-Match": tag}}, 200)
	if st2.header.Get("ETag") == tag {
		t.Error("status list not rebuilt after a suspension")
	}
	kl := e.must("anon", req{method: "GET", path: "/api/v1/qr/keys"}, 200)
	e.must("anon", req{method: "GET", path: "/api/v1/qr/keys", header: map[string]string{"If-None-Match": kl.header.Get("ETag")}}, 304)

	// Upload limit.
	big := strings.Repeat("x", 1<<20+10)
	res = e.must("unit", req{method: "POST", path: "/api/v1/verify/file", form: map[string]string{"file": big, "purpose": "核验"}}, 413)
	if !bytes.Contains(res.body, []byte("too_large")) {
		t.Errorf("413 body: %s", res.body)
	}
	// Unknown and revoked keys.
	e.keys["bogus"] = "elk_000000000000_" + strings.Repeat("0", 64)
	e.must("bogus", req{method: "GET", path: "/api/v1/types"}, 401)
	// A wrong development login code.
	e.must("anon", req{method: "POST", path: "/api/v1/holder/login/code", json: map[string]string{"idNumber": holderB.id, "name": holderB.name}}, 202)
	e.must("anon", req{method: "POST", path: "/api/v1/holder/login", json: map[string]string{"idNumber": holderB.id, "name": holderB.name, "code": "x"}}, 401)
}

func TestAPIRateLimits(t *testing.T) {
	e := newAPIEnv(t, api.Limits{KeyRate: 0.001, KeyBurst: 2, PublicRate: 0.001, PublicBurst: 1})
	e.must("anon", req{method: "POST", path: "/api/v1/public/verify/qr", json: map[string]string{"text": "HTTP://X/V/000"}}, 200)
	res := e.must("anon", req{method: "POST", path: "/api/v1/public/verify/qr", json: map[string]string{"text": "HTTP://X/V/000"}}, 429)
	if res.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	e.must("admin", req{method: "GET", path: "/api/v1/keys"}, 200)
	e.must("admin", req{method: "GET", path: "/api/v1/keys"}, 200)
	e.must("admin", req{method: "GET", path: "/api/v1/keys"}, 429)
	e.must("deptX", req{method: "GET", path: "/api/v1/uses"}, 200) // another key, its own bucket
}

// TestAPISmokeScript runs scripts/api-smoke.sh with bash and curl against the
// real `elicense serve` on a random port.
func TestAPISmokeScript(t *testing.T) {
	needTool(t, "bash")
	needTool(t, "curl")
	needTool(t, "jq")
	dir := demoData(t)
	base, logs, stop := startServe(t, dir)
	defer stop()
	keyFile := filepath.Join(dir, "secrets", "demo-admin-key")
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("demo admin key: %v %v\n%s", fi, err, logs)
	}
	cmd := execCommand("bash", filepath.Join("..", "..", "scripts", "api-smoke.sh"), base)
	cmd.Env = append(os.Environ(), "ELICENSE_ADMIN_KEY_FILE="+keyFile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("api-smoke.sh: %v\n%s\nserver log:\n%s", err, out, logs)
	}
	if !strings.Contains(string(out), "smoke: OK") {
		t.Fatalf("api-smoke.sh output:\n%s", out)
	}
	if key, _ := os.ReadFile(keyFile); strings.Contains(logs.String(), strings.TrimSpace(string(key))) {
		t.Error("the admin key appears in the server log")
	}
}

var execCommand = exec.Command

// TestTypeReachesQRKeyList: a license type created and published over the
// API is in the QR key list the server hands out at once (re-signed as the
// next version), not only after a restart.
func TestTypeReachesQRKeyList(t *testing.T) {
	e := newAPIEnv(t, api.Limits{KeyRate: 1000, KeyBurst: 1000, PublicRate: 1000, PublicBurst: 1000})
	p, err := e.app.PKI(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	hurd, _ := p.Department("wuhu-hurd")
	const code = "11100000MB0341032Y077"
	list := func() *qrtoken.KeyList {
		t.Helper()
		kl, err := qrtoken.ParseKeyList(e.must("anon", req{method: "GET", path: "/api/v1/qr/keys"}, 200).body, p.Root.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		return kl
	}
	allows := func(kl *qrtoken.KeyList) bool {
		for _, k := range kl.Keys() {
			if k.DeptUSCC == hurd.USCC {
				return k.Allows(code)
			}
		}
		t.Fatal("no key of the department")
		return false
	}
	before := list()
	if allows(before) {
		t.Fatal("the new type is allowed before it exists")
	}
	e.must("admin", req{method: "POST", path: "/api/v1/types", json: map[string]any{"key": "qr-ops", "code": code, "name": "测试作业证二",
		"holder": "natural", "issuingDepts": []string{"wuhu-hurd"}, "template": "special-operations",
		"items": []map[string]any{{"key": "holder_name", "label": "姓名", "type": "text", "required": true, "face": true},
			{"key": "holder_code", "label": "身份证号", "type": "id-number", "required": true, "sensitive": true},
			{"key": "license_no", "label": "证号", "type": "text", "required": true, "face": true}}}}, 201)
	e.must("admin", req{method: "POST", path: "/api/v1/types/qr-ops/publish"}, 200)
	after := list()
	if !allows(after) || after.Version() <= before.Version() {
		t.Fatalf("after publishing: allowed %v, version %d → %d", allows(after), before.Version(), after.Version())
	}
}

// TestDynamicQRAcrossRestart: the server keeps used tickets in memory, so a
// dynamic code issued before it started (by an earlier run, whose uses it
// cannot know) is refused at the ticket check; a fresh code passes once.
func TestDynamicQRAcrossRestart(t *testing.T) {
	e := newAPIEnv(t, api.Limits{KeyRate: 1000, KeyBurst: 1000})
	e.login("holderA", holderA)
	id := e.issue("deptX", "special-operations", specialOps(holderA, "皖A042025000501"))
	ctx := context.Background()
	l, err := e.app.store.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	qa, err := e.app.QR(ctx)
	if err != nil {
		t.Fatal(err)
	}
	old, _, err := qa.DynamicText(l, time.Now().Add(-30*time.Second), 120*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(text string) (res struct {
		Valid     bool
		Authentic bool
		Reason    string
	}) {
		e.must("clerk", req{method: "POST", path: "/api/v1/verify/qr", json: map[string]string{"text": text, "purpose": "现场亮证"}}, 200).json(t, &res)
		return res
	}
	if r := verify(old); r.Valid || r.Reason != "ticket" || !r.Authentic {
		t.Fatalf("a code issued before the server started: %+v", r)
	}
	var q struct{ Text string }
	e.must("holderA", req{method: "POST", path: "/api/v1/holder/licenses/" + esc(id) + "/qr"}, 200).json(t, &q)
	if r := verify(q.Text); !r.Valid {
		t.Fatalf("a fresh code: %+v", r)
	}
	if r := verify(q.Text); r.Valid || r.Reason != "ticket" {
		t.Fatalf("the fresh code again: %+v", r)
	}
}
