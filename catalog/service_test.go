package catalog_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"elicense/catalog"
	"elicense/catalog/catalogtest"
)

// fakeRenderer writes the license's values as text; it rejects the character 𠮷.
type fakeRenderer struct{}

func (fakeRenderer) Check(t *catalog.LicenseType, row map[string]string) []catalog.FieldError {
	var out []catalog.FieldError
	for _, it := range t.Items {
		if strings.Contains(row[it.Key], "𠮷") {
			out = append(out, catalog.FieldError{Item: it.Key, Code: "uncovered_char", Message: "字体缺少字符“𠮷”"})
		}
	}
	return out
}

func (fakeRenderer) Render(w io.Writer, l *catalog.License, qr string) error {
	_, err := fmt.Fprintf(w, "%%PDF %s %s %v %s", l.ID, l.Number, l.Holder, qr)
	return err
}

type fakeSealer struct{}

func (fakeSealer) Seal(_ context.Context, d *catalog.Department, pdf []byte) ([]byte, string, error) {
	out := append(append([]byte{}, pdf...), " sealed by "+d.Name...)
	sum := sha256.Sum256(out)
	return out, hex.EncodeToString(sum[:]), nil
}

type memFiles struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (f *memFiles) Put(id string, b []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[id] = b
	return nil
}

func (f *memFiles) Get(id string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.m[id]
	if !ok {
		return nil, catalog.ErrNotFound
	}
	return b, nil
}

var (
	deptA = &catalog.Department{Key: "dept-a", Name: "甲局", USCC: catalogtest.IssuerUSCC, Region: "340200"}
	deptB = &catalog.Department{Key: "dept-b", Name: "乙局", USCC: catalogtest.OtherUSCC, Region: "340200"}
	opsT  = &catalog.LicenseType{
		Key: "special-operations", Code: catalogtest.TypeCode, Name: "建筑施工特种作业操作资格证书",
		Holder: catalog.NaturalPerson, IssuingDepts: []string{"dept-a"}, Status: catalog.TypePublished,
		Validity: catalog.Validity{Years: 2},
		Items: []catalog.Item{
			{Key: "holder_name", Label: "姓名", Type: catalog.TypeText, Required: true, MaxLength: 30},
			{Key: "holder_code", Label: "身份证号", Type: catalog.TypeIDNumber, Required: true, Sensitive: true},
			{Key: "gender", Label: "性别", Type: catalog.TypeEnum, Options: []string{"男", "女"}},
			{Key: "birth_date", Label: "出生日期", Type: catalog.TypeDate},
			{Key: "license_no", Label: "证书编号", Type: catalog.TypeText, Required: true, MaxLength: 20},
			{Key: "valid_from", Label: "有效期起", Type: catalog.TypeDate},
			{Key: "valid_until", Label: "有效期至", Type: catalog.TypeDateLong},
		},
	}
)

type fixture struct {
	svc   *catalog.Service
	files *memFiles
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st := catalogtest.NewMemStore()
	for _, d := range []*catalog.Department{deptA, deptB} {
		if err := st.PutDepartment(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutType(ctx, opsT); err != nil {
		t.Fatal(err)
	}
	f := &fixture{files: &memFiles{m: map[string][]byte{}}, now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	f.svc = &catalog.Service{Store: st, Renderer: fakeRenderer{}, Sealer: fakeSealer{}, Files: f.files,
		Now: func() time.Time { return f.now }, Rand: rand.New(rand.NewSource(1))}
	return f
}

func row(no string) map[string]string {
	return map[string]string{"holder_name": "张三", "holder_code": "11010519491231002x", "gender": "女",
		"birth_date": "1949-12-31", "license_no": no}
}

func TestIssue(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	l, err := f.svc.Issue(ctx, catalog.IssueRequest{TypeKey: "special-operations", Values: row("JZ001"), Actor: catalog.Actor{Name: "op"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := catalog.ParseIdentifier(l.ID); err != nil || !ok {
		t.Fatalf("identifier %s: %v %v", l.ID, ok, err)
	}
	if !strings.Contains(l.ID, "."+catalogtest.IssuerUSCC+".2026") || !strings.HasSuffix(l.ID[:len(l.ID)-2], ".001") {
		t.Fatalf("identifier %s lacks issuer, year serial or version", l.ID)
	}
	if l.Holder.Code != "11010519491231002X" || l.Holder.CodeType != "111" {
		t.Fatalf("holder %+v", l.Holder)
	}
	if l.ValidFrom != "2026-03-01" || l.ValidUntil != "2028-02-29" {
		t.Fatalf("validity %s..%s", l.ValidFrom, l.ValidUntil)
	}
	if l.StatusIndex < 0 || l.StatusIndex >= catalog.StatusListMin {
		t.Fatalf("status index %d", l.StatusIndex)
	}
	data, err := f.files.Get(l.ID)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != l.Digest {
		t.Fatal("digest does not match the stored file")
	}
	if g, err := f.svc.Store.GetByDigest(ctx, l.Digest); err != nil || g.ID != l.ID {
		t.Fatalf("by digest: %v", err)
	}
	// Same number again: ErrExists, and the existing license is returned.
	old, err := f.svc.Issue(ctx, catalog.IssueRequest{TypeKey: "special-operations", Values: row("JZ001")})
	if !errors.Is(err, catalog.ErrExists) || old == nil || old.ID != l.ID {
		t.Fatalf("duplicate issue: %v %v", old, err)
	}
	// Serials increase.
	l2, err := f.svc.Issue(ctx, catalog.IssueRequest{TypeKey: "special-operations", Values: row("JZ002")})
	if err != nil || l2.Serial <= l.Serial || l2.StatusIndex == l.StatusIndex {
		t.Fatalf("second issue: %+v %v", l2, err)
	}
}

func TestIssueRejects(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		req   catalog.IssueRequest
		is    error
		items []string
	}{
		{"UnknownType", catalog.IssueRequest{TypeKey: "nope", Values: row("X1")}, catalog.ErrNotFound, nil},
		{"WrongDept", catalog.IssueRequest{TypeKey: "special-operations", DeptKey: "dept-b", Values: row("X2")}, catalog.ErrForbidden, nil},
		{"ActorOtherDept", catalog.IssueRequest{TypeKey: "special-operations", DeptKey: "dept-a", Values: row("X3"), Actor: catalog.Actor{Dept: catalogtest.OtherUSCC}}, catalog.ErrForbidden, nil},
		{"AllProblemsAtOnce", catalog.IssueRequest{TypeKey: "special-operations", Values: map[string]string{
			"holder_code": "110105194912310021", "gender": "X", "license_no": strings.Repeat("9", 21), "extra": "1"}},
			catalog.ErrInvalid, []string{"extra", "holder_name", "holder_code", "gender", "license_no"}},
		{"BirthMismatch", catalog.IssueRequest{TypeKey: "special-operations", Values: func() map[string]string {
			r := row("X5")
			r["birth_date"], r["gender"] = "1949-12-30", "男"
			return r
		}()}, catalog.ErrInvalid, []string{"birth_date", "gender"}},
		{"UncoveredChar", catalog.IssueRequest{TypeKey: "special-operations", Values: func() map[string]string {
			r := row("X6")
			r["holder_name"] = "𠮷田"
			return r
		}()}, catalog.ErrInvalid, []string{"holder_name"}},
		{"UncoveredAndBadCheck", catalog.IssueRequest{TypeKey: "special-operations", Values: func() map[string]string {
			r := row("X8")
			r["holder_name"], r["holder_code"] = "𠮷田", "110105194912310021"
			return r
		}()}, catalog.ErrInvalid, []string{"holder_code", "holder_name"}},
		{"UntilBeforeFrom", catalog.IssueRequest{TypeKey: "special-operations", Values: func() map[string]string {
			r := row("X7")
			r["valid_from"], r["valid_until"] = "2026-05-01", "2026-04-30"
			return r
		}()}, catalog.ErrInvalid, []string{"valid_until"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.svc.Issue(ctx, tc.req)
			if !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
			if tc.items != nil {
				var ve *catalog.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("not a ValidationError: %v", err)
				}
				var got []string
				for _, p := range ve.Problems {
					got = append(got, p.Item)
					if p.Code == "" || p.Message == "" {
						t.Errorf("problem without code or message: %+v", p)
					}
				}
				if strings.Join(got, ",") != strings.Join(tc.items, ",") {
					t.Fatalf("problems on %v, want %v (%v)", got, tc.items, ve)
				}
			}
			if len(f.files.m) != 0 {
				t.Fatal("a file was written for a rejected row")
			}
			p, _ := f.svc.Store.List(ctx, catalog.Filter{}, "", 10)
			if len(p.Licenses) != 0 {
				t.Fatal("a record was written for a rejected row")
			}
		})
	}
}

func TestLifecycleThroughService(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	l, err := f.svc.Issue(ctx, catalog.IssueRequest{TypeKey: "special-operations", Values: row("L1")})
	if err != nil {
		t.Fatal(err)
	}
	me := catalog.Actor{Name: "clerk", Dept: catalogtest.IssuerUSCC}
	other := catalog.Actor{Name: "intruder", Dept: catalogtest.OtherUSCC}
	if _, err := f.svc.Suspend(ctx, l.ID, me, " "); !errors.Is(err, catalog.ErrInvalid) {
		t.Fatalf("suspend without reason: %v", err)
	}
	if _, err := f.svc.Suspend(ctx, l.ID, other, "x"); !errors.Is(err, catalog.ErrForbidden) {
		t.Fatalf("suspend by another department: %v", err)
	}
	if _, err := f.svc.Resume(ctx, l.ID, me, ""); err == nil {
		t.Fatal("resume of an issued license allowed")
	}
	f.now = f.now.Add(time.Hour)
	s, err := f.svc.Suspend(ctx, l.ID, me, "异议核查中")
	if err != nil || s.Status != catalog.StatusSuspended {
		t.Fatalf("suspend: %v", err)
	}
	last := s.History[len(s.History)-1]
	if last.Actor != "clerk" || last.Reason != "异议核查中" || !last.At.Equal(f.now) || last.From != catalog.StatusIssued {
		t.Fatalf("history entry %+v", last)
	}
	if _, err := f.svc.Resume(ctx, l.ID, me, ""); err != nil {
		t.Fatalf("resume: %v", err)
	}
	// Update: new version supersedes.
	r := row("L1")
	r["holder_name"] = "张三丰"
	next, err := f.svc.Update(ctx, l.ID, r, me, "姓名变更")
	if err != nil {
		t.Fatal(err)
	}
	if next.Version != 2 || next.Serial != l.Serial || next.Supersedes != l.ID || next.Holder.Name != "张三丰" || next.StatusIndex == l.StatusIndex {
		t.Fatalf("next = %+v", next)
	}
	old, _ := f.svc.Get(ctx, l.ID)
	if old.Status != catalog.StatusSuperseded || old.SupersededBy != next.ID {
		t.Fatalf("old = %s by %s", old.Status, old.SupersededBy)
	}
	if _, err := f.svc.Revoke(ctx, l.ID, me, "x"); !errors.Is(err, catalog.ErrInvalid) {
		t.Fatalf("revoke superseded: %v", err)
	}
	r["license_no"] = "L2"
	if _, err := f.svc.Update(ctx, next.ID, r, me, "x"); !errors.Is(err, catalog.ErrInvalid) {
		t.Fatalf("update changing number: %v", err)
	}
	if _, err := f.svc.Revoke(ctx, next.ID, me, "吊销"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Suspend(ctx, next.ID, me, "x"); !errors.Is(err, catalog.ErrInvalid) {
		t.Fatalf("suspend revoked: %v", err)
	}
}

func TestExpiryComputed(t *testing.T) {
	l := &catalog.License{Status: catalog.StatusIssued, ValidUntil: "2026-12-31"}
	cases := []struct {
		name string
		now  time.Time
		want catalog.Status
	}{
		{"LastDay", time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC), catalog.StatusIssued},
		{"DayAfter", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), catalog.StatusExpired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := l.StatusAt(tc.now); got != tc.want {
				t.Fatalf("StatusAt = %s, want %s", got, tc.want)
			}
		})
	}
	lt := &catalog.License{Status: catalog.StatusIssued, ValidUntil: catalog.LongTerm}
	if lt.Expired(time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatal("long-term license expired")
	}
	rv := &catalog.License{Status: catalog.StatusRevoked, ValidUntil: "2000-01-01"}
	if rv.StatusAt(time.Now()) != catalog.StatusRevoked {
		t.Fatal("revoked reported as expired")
	}
}

func ExampleService_Issue() {
	ctx := context.Background()
	st := catalogtest.NewMemStore()
	st.PutDepartment(ctx, deptA)
	st.PutType(ctx, opsT)
	svc := &catalog.Service{Store: st, Renderer: fakeRenderer{}, Sealer: fakeSealer{}, Files: &memFiles{m: map[string][]byte{}},
		Now: func() time.Time { return time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC) }, Rand: bytes.NewReader(make([]byte, 64))}
	l, err := svc.Issue(ctx, catalog.IssueRequest{TypeKey: "special-operations", Values: row("JZ-2026-1")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(l.ID)
	fmt.Println(l.Status, l.ValidUntil)
	// Output:
	// 1.2.156.3005.2.11100000000013338W032.11430000006122244L.202600000001.001.P
	// issued 2028-02-29
}
