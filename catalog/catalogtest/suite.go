// Package catalogtest holds the conformance suite every catalog.Store must
// pass, and MemStore, an in-memory Store for tests of other packages.
package catalogtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"elicense/catalog"
)

// Fixed sample codes with correct check characters.
const (
	TypeCode   = "11100000000013338W032" // 住建部 + 032
	IssuerUSCC = "11430000006122244L"
	OtherUSCC  = "11220000013544541J"
)

// SampleLicense returns a license with a valid identifier built from serial
// and version; holder and number are derived from serial.
func SampleLicense(serial string, version int) *catalog.License {
	return &catalog.License{
		ID:          catalog.FormatIdentifier(TypeCode, IssuerUSCC, serial, version),
		Number:      "NO-" + serial,
		TypeKey:     "special-operations",
		TypeCode:    TypeCode,
		TypeName:    "建筑施工特种作业操作资格证书",
		IssuerUSCC:  IssuerUSCC,
		IssuerName:  "测试颁发机构",
		Serial:      serial,
		Holder:      catalog.Holder{Name: "张三", Code: "11010519491231002X", CodeType: catalog.HolderCodeIDNumber},
		Values:      map[string]string{"holder_name": "张三", "license_no": "NO-" + serial},
		ValidFrom:   "2026-01-01",
		ValidUntil:  "2030-12-31",
		IssuedAt:    time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC),
		Version:     version,
		Status:      catalog.StatusIssued,
		Digest:      fmt.Sprintf("%064x", len(serial)*1000+version) + serial,
		StatusIndex: -1,
		History:     []catalog.Transition{{To: catalog.StatusIssued, Actor: "t", At: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}},
	}
}

// Run runs the conformance suite against stores made by newStore; each
// subtest gets a fresh, empty store.
func Run(t *testing.T, newStore func(t *testing.T) catalog.Store) {
	ctx := context.Background()
	t.Run("TypesAndDepartments", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.GetType(ctx, "nope"); !errors.Is(err, catalog.ErrNotFound) {
			t.Fatalf("GetType missing: %v, want ErrNotFound", err)
		}
		if _, err := s.GetDepartment(ctx, "nope"); !errors.Is(err, catalog.ErrNotFound) {
			t.Fatalf("GetDepartment missing: %v, want ErrNotFound", err)
		}
		for _, k := range []string{"b-type", "a-type"} {
			lt := &catalog.LicenseType{Key: k, Code: TypeCode, Name: "名" + k, Status: catalog.TypePublished,
				Items: []catalog.Item{{Key: "holder_name", Label: "姓名", Required: true}}}
			if err := s.PutType(ctx, lt); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.GetType(ctx, "a-type")
		if err != nil || got.Name != "名a-type" || len(got.Items) != 1 || !got.Items[0].Required {
			t.Fatalf("GetType = %+v, %v", got, err)
		}
		all, _ := s.ListTypes(ctx)
		if len(all) != 2 || all[0].Key != "a-type" {
			t.Fatalf("ListTypes order: %+v", all)
		}
		if err := s.PutDepartment(ctx, &catalog.Department{Key: "d", Name: "部门", USCC: IssuerUSCC, Region: "340200"}); err != nil {
			t.Fatal(err)
		}
		d, err := s.GetDepartment(ctx, "d")
		if err != nil || d.USCC != IssuerUSCC || d.Region != "340200" {
			t.Fatalf("GetDepartment = %+v, %v", d, err)
		}
		ds, _ := s.ListDepartments(ctx)
		if len(ds) != 1 {
			t.Fatalf("ListDepartments = %d", len(ds))
		}
	})
	t.Run("CreateGetIndexes", func(t *testing.T) {
		s := newStore(t)
		l := SampleLicense("2026000001", 1)
		l.BatchID = "b1"
		l.StatusIndex = 42
		if err := s.Create(ctx, l); err != nil {
			t.Fatal(err)
		}
		l.Values["holder_name"] = "changed after create"
		got, err := s.Get(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Values["holder_name"] != "张三" || got.Holder.Code != "11010519491231002X" || !got.IssuedAt.Equal(l.IssuedAt) || got.StatusIndex != 42 {
			t.Fatalf("Get returned %+v", got)
		}
		if g, err := s.GetByNumber(ctx, l.TypeKey, l.Number); err != nil || g.ID != l.ID {
			t.Fatalf("GetByNumber: %v %v", g, err)
		}
		if g, err := s.GetByDigest(ctx, l.Digest); err != nil || g.ID != l.ID {
			t.Fatalf("GetByDigest: %v %v", g, err)
		}
		for name, fn := range map[string]func() error{
			"Get":         func() error { _, err := s.Get(ctx, "1.2.156.3005.2.x"); return err },
			"GetByNumber": func() error { _, err := s.GetByNumber(ctx, l.TypeKey, "nope"); return err },
			"GetByDigest": func() error { _, err := s.GetByDigest(ctx, "00"); return err },
		} {
			if err := fn(); !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("%s missing: %v, want ErrNotFound", name, err)
			}
		}
		if used, n, err := s.StatusIndexUsed(ctx, 42); err != nil || !used || n != 1 {
			t.Fatalf("StatusIndexUsed(42) = %v %d %v", used, n, err)
		}
		if used, _, _ := s.StatusIndexUsed(ctx, 43); used {
			t.Fatal("index 43 should be free")
		}
		if lister, ok := s.(catalog.StatusIndexLister); ok {
			var got []int
			if err := lister.StatusIndexes(ctx, func(i int) error { got = append(got, i); return nil }); err != nil || len(got) != 1 || got[0] != 42 {
				t.Fatalf("StatusIndexes = %v %v, want [42]", got, err)
			}
		}
	})
	t.Run("CreateConflicts", func(t *testing.T) {
		s := newStore(t)
		l := SampleLicense("2026000002", 1)
		l.StatusIndex = 7
		if err := s.Create(ctx, l); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			mut  func(c *catalog.License)
		}{
			{"SameID", func(c *catalog.License) { c.Digest = "other1"; c.Number = "other1"; c.StatusIndex = -1 }},
			{"SameNumberInForce", func(c *catalog.License) {
				c.ID = catalog.FormatIdentifier(TypeCode, IssuerUSCC, "2026000099", 1)
				c.Digest, c.StatusIndex = "other2", -1
			}},
			{"SameDigest", func(c *catalog.License) {
				c.ID = catalog.FormatIdentifier(TypeCode, IssuerUSCC, "2026000098", 1)
				c.Number, c.StatusIndex = "other3", -1
			}},
			{"SameStatusIndex", func(c *catalog.License) {
				c.ID = catalog.FormatIdentifier(TypeCode, IssuerUSCC, "2026000097", 1)
				c.Number, c.Digest = "other4", "other4"
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := SampleLicense("2026000002", 1)
				c.StatusIndex = 7
				tc.mut(c)
				if err := s.Create(ctx, c); !errors.Is(err, catalog.ErrExists) {
					t.Fatalf("Create: %v, want ErrExists", err)
				}
				// Nothing half-written: the rejected license is not there.
				if c.ID != l.ID {
					if _, err := s.Get(ctx, c.ID); !errors.Is(err, catalog.ErrNotFound) {
						t.Fatalf("rejected license stored: %v", err)
					}
				}
			})
		}
		if _, n, _ := s.StatusIndexUsed(ctx, 0); n != 1 {
			t.Fatalf("status index count = %d after rejections, want 1", n)
		}
		// A revoked license's number may be issued again.
		if _, err := s.SetStatus(ctx, l.ID, catalog.Transition{From: catalog.StatusIssued, To: catalog.StatusRevoked, Actor: "t", Reason: "r"}); err != nil {
			t.Fatal(err)
		}
		re := SampleLicense("2026000002", 1)
		re.ID = catalog.FormatIdentifier(TypeCode, IssuerUSCC, "2026000003", 1)
		re.Digest = "re"
		if err := s.Create(ctx, re); err != nil {
			t.Fatalf("reissue after revoke: %v", err)
		}
		if g, _ := s.GetByNumber(ctx, re.TypeKey, re.Number); g == nil || g.ID != re.ID {
			t.Fatalf("GetByNumber after reissue = %v", g)
		}
	})
	t.Run("SetStatus", func(t *testing.T) {
		s := newStore(t)
		l := SampleLicense("2026000004", 1)
		if err := s.Create(ctx, l); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
		got, err := s.SetStatus(ctx, l.ID, catalog.Transition{From: catalog.StatusIssued, To: catalog.StatusSuspended, Actor: "clerk", Reason: "核查", At: at})
		if err != nil || got.Status != catalog.StatusSuspended {
			t.Fatalf("SetStatus: %+v %v", got, err)
		}
		if _, err := s.SetStatus(ctx, l.ID, catalog.Transition{From: catalog.StatusIssued, To: catalog.StatusRevoked}); !errors.Is(err, catalog.ErrConflict) {
			t.Fatalf("stale SetStatus: %v, want ErrConflict", err)
		}
		if _, err := s.SetStatus(ctx, "1.2.156.3005.2.nope", catalog.Transition{}); !errors.Is(err, catalog.ErrNotFound) {
			t.Fatalf("SetStatus missing: %v", err)
		}
		got, _ = s.Get(ctx, l.ID)
		if len(got.History) != 2 || got.History[1].Reason != "核查" || !got.History[1].At.Equal(at) || got.History[1].Actor != "clerk" {
			t.Fatalf("history = %+v", got.History)
		}
		p, _ := s.List(ctx, catalog.Filter{Status: catalog.StatusSuspended}, "", 10)
		if len(p.Licenses) != 1 {
			t.Fatalf("list suspended = %d", len(p.Licenses))
		}
		p, _ = s.List(ctx, catalog.Filter{Status: catalog.StatusIssued}, "", 10)
		if len(p.Licenses) != 0 {
			t.Fatalf("list issued = %d, want 0", len(p.Licenses))
		}
	})
	t.Run("SupersedeAndVersions", func(t *testing.T) {
		s := newStore(t)
		v1 := SampleLicense("2026000005", 1)
		if err := s.Create(ctx, v1); err != nil {
			t.Fatal(err)
		}
		v2 := SampleLicense("2026000005", 2)
		v2.Supersedes = v1.ID
		tr := catalog.Transition{From: catalog.StatusIssued, Actor: "a", Reason: "更新"}
		if err := s.Supersede(ctx, v1.ID, tr, v2); err != nil {
			t.Fatal(err)
		}
		old, _ := s.Get(ctx, v1.ID)
		if old.Status != catalog.StatusSuperseded || old.SupersededBy != v2.ID {
			t.Fatalf("old = %+v", old)
		}
		if g, _ := s.GetByNumber(ctx, v1.TypeKey, v1.Number); g == nil || g.ID != v2.ID {
			t.Fatalf("GetByNumber after supersede = %v", g)
		}
		vs, err := s.Versions(ctx, v2.ID)
		if err != nil || len(vs) != 2 || vs[0].Version != 1 || vs[1].Version != 2 {
			t.Fatalf("Versions = %v %v", vs, err)
		}
		// A stale supersede changes nothing.
		v3 := SampleLicense("2026000005", 3)
		if err := s.Supersede(ctx, v1.ID, tr, v3); !errors.Is(err, catalog.ErrConflict) {
			t.Fatalf("stale Supersede: %v, want ErrConflict", err)
		}
		if _, err := s.Get(ctx, v3.ID); !errors.Is(err, catalog.ErrNotFound) {
			t.Fatalf("v3 half-written: %v", err)
		}
	})
	t.Run("ListPagination", func(t *testing.T) {
		s := newStore(t)
		const n = 25
		for i := 0; i < n; i++ {
			l := SampleLicense(fmt.Sprintf("20260001%02d", i), 1)
			if i%2 == 0 {
				l.Holder.Code = "340202199001011234"
				l.BatchID = "even"
			}
			if i%5 == 0 {
				l.TypeKey = "food-business"
			}
			if err := s.Create(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			name string
			f    catalog.Filter
			want int
		}{
			{"All", catalog.Filter{}, n},
			{"Holder", catalog.Filter{HolderCode: "340202199001011234"}, 13},
			{"Batch", catalog.Filter{Batch: "even"}, 13},
			{"Type", catalog.Filter{TypeKey: "food-business"}, 5},
			{"TypeAndBatch", catalog.Filter{TypeKey: "food-business", Batch: "even"}, 3},
			{"Issuer", catalog.Filter{IssuerUSCC: IssuerUSCC}, n},
			{"OtherIssuer", catalog.Filter{IssuerUSCC: OtherUSCC}, 0},
			{"Status", catalog.Filter{Status: catalog.StatusIssued}, n},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				seen := map[string]bool{}
				cursor, last := "", ""
				for pages := 0; ; pages++ {
					if pages > n {
						t.Fatal("pagination does not end")
					}
					p, err := s.List(ctx, tc.f, cursor, 4)
					if err != nil {
						t.Fatal(err)
					}
					if len(p.Licenses) > 4 {
						t.Fatalf("page of %d > limit", len(p.Licenses))
					}
					for _, l := range p.Licenses {
						if seen[l.ID] || l.ID <= last {
							t.Fatalf("duplicate or out of order %s", l.ID)
						}
						seen[l.ID], last = true, l.ID
					}
					if p.Next == "" {
						break
					}
					cursor = p.Next
				}
				if len(seen) != tc.want {
					t.Fatalf("listed %d, want %d", len(seen), tc.want)
				}
			})
		}
	})
	t.Run("ReserveSerialConcurrent", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[uint64]bool{}
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 20; i++ {
					n, err := s.ReserveSerial(ctx, "seq")
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if got[n] {
						t.Errorf("serial %d handed out twice", n)
					}
					got[n] = true
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(got) != 160 || !got[1] || !got[160] {
			t.Fatalf("serials = %d distinct", len(got))
		}
		if n, _ := s.ReserveSerial(ctx, "other"); n != 1 {
			t.Fatalf("separate sequence starts at %d", n)
		}
	})
}
