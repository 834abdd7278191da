package boltstore

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"elicense/catalog"
)

func sampleLicense() *catalog.License {
	at := time.Date(2026, 11, 27, 14, 39, 13, 345938900, time.UTC)
	return &catalog.License{
		ID: "1.2.156.3005.2.11100000MB0341032Y002.11340200MB1A23457N.202600100000.001.D", Number: "JY13402000100000",
		TypeKey: "food-business", TypeCode: "11100000MB0341032Y002", TypeName: "食品经营许可证",
		IssuerUSCC: "11340200MB1A23457N", IssuerName: "芜湖市市场监督管理局", Serial: "202600100000",
		Holder: catalog.Holder{Name: "芜湖市鸠江区陶辛藕粉勇红商贸有限公司", Code: "91340207MA05YKKM7G", CodeType: "001"},
		Values: map[string]string{"address": "安徽省芜湖市鸠江区赤铸山东路243号", "business_items": "冷食类食品制售；糕点类食品制售（含裱花类糕点）",
			"business_kind": "单位食堂（学校食堂）", "holder_code": "91340207MA05YKKM7G", "holder_name": "芜湖市鸠江区陶辛藕粉勇红商贸有限公司",
			"legal_rep": "雷燕琳", "license_no": "JY13402000100000", "phone": "12315", "premises": "安徽省芜湖市鸠江区赤铸山东路243号9幢116室",
			"supervisor": "芜湖市鸠江区市场监督管理局", "valid_from": "2022-02-27", "valid_until": "2027-02-26"},
		ValidFrom: "2022-02-27", ValidUntil: "2027-02-26", IssuedAt: at, Version: 1, Status: catalog.StatusIssued,
		History: []catalog.Transition{{To: catalog.StatusIssued, Actor: "cli", Reason: "批量签发", At: at}},
		Digest:  "77330bb7bc6204d90cd1b3f3ade89fd42b7bbfda3e474c4c3f106176bfbd176c", BatchID: "B7f81f88daeb01a5d390ac338",
		SourceKey: "JY13402000100000", StatusIndex: 169521,
	}
}

// TestLicenseRecord: every license reads back equal from schema 2, schema-1
// records are still read, a newer schema is refused, and the sample record
// is small enough for three to a page.
func TestLicenseRecord(t *testing.T) {
	variants := map[string]func(*catalog.License){
		"as issued":          func(*catalog.License) {},
		"nil values":         func(l *catalog.License) { l.Values = nil },
		"empty values":       func(l *catalog.License) { l.Values = map[string]string{} },
		"only shared values": func(l *catalog.License) { l.Values = map[string]string{"holder_name": l.Holder.Name} },
		"value differs":      func(l *catalog.License) { l.Values["holder_name"] = "别的名称" },
		"empty shared value": func(l *catalog.License) { l.Holder.Name, l.Values["holder_name"] = "", "" },
		"no history":         func(l *catalog.License) { l.History = nil },
		"superseded": func(l *catalog.License) {
			l.Status, l.SupersededBy, l.Supersedes = catalog.StatusSuperseded, "x.002.A", "x.000.B"
		},
		"no status index":    func(l *catalog.License) { l.StatusIndex = -1 },
		"status index zero":  func(l *catalog.License) { l.StatusIndex = 0 },
		"zero time, version": func(l *catalog.License) { l.IssuedAt, l.Version = time.Time{}, 0 },
		"time zone":          func(l *catalog.License) { l.IssuedAt = l.IssuedAt.In(time.FixedZone("CST", 8*3600)) },
	}
	for name, change := range variants {
		t.Run(name, func(t *testing.T) {
			l := sampleLicense()
			change(l)
			want := *l
			want.Values = nil
			if l.Values != nil {
				want.Values = map[string]string{}
				for k, v := range l.Values {
					want.Values[k] = v
				}
			}
			data, err := encodeLicense(l)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(l.Values, want.Values) {
				t.Fatal("encoding changed the license's values")
			}
			got, err := decodeLicense(data)
			if err != nil {
				t.Fatal(err)
			}
			if !got.IssuedAt.Equal(want.IssuedAt) {
				t.Fatalf("issued at %v, want %v", got.IssuedAt, want.IssuedAt)
			}
			got.IssuedAt = want.IssuedAt // equal instants; the location pointers differ
			for i := range got.History {
				got.History[i].At = want.History[i].At
			}
			if !reflect.DeepEqual(*got, want) {
				t.Fatalf("read back\n%+v\nwant\n%+v", *got, want)
			}

			v1, err := json.Marshal(struct {
				SchemaVersion int             `json:"schemaVersion"`
				License       catalog.License `json:"license"`
			}{1, *l})
			if err != nil {
				t.Fatal(err)
			}
			old, err := decodeLicense(v1)
			if err != nil || old.ID != l.ID || !reflect.DeepEqual(old.Values, want.Values) || old.StatusIndex != l.StatusIndex {
				t.Fatalf("schema 1: %+v %v", old, err)
			}
		})
	}

	data, _ := encodeLicense(sampleLicense())
	v1, _ := json.Marshal(struct {
		SchemaVersion int             `json:"schemaVersion"`
		License       catalog.License `json:"license"`
	}{1, *sampleLicense()})
	t.Logf("sample record: schema 1 %d bytes, schema 2 %d bytes", len(v1), len(data))
	if len(data) > 1150 || len(data) > len(v1)*4/5 {
		t.Fatalf("schema-2 record of %d bytes (schema 1: %d)", len(data), len(v1))
	}

	for _, bad := range []string{
		`{"schemaVersion":3,"id":"x"}`,
		`{"schemaVersion":2}`,
		`{"schemaVersion":1}`,
		`{"schemaVersion":2,"id":"x","va":[]}`,
		`not json`,
	} {
		if _, err := decodeLicense([]byte(bad)); err == nil || !strings.Contains(err.Error(), "boltstore:") {
			t.Errorf("%s: %v, want an error", bad, err)
		}
	}
}

// TestSchema1RecordInFile: a schema-1 record stored in a real file reads
// back through Get; rewriting it (a status change) stores schema 2.
func TestSchema1RecordInFile(t *testing.T) {
	s, err := Open(t.TempDir()+"/elicense.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := sampleLicense()
	v1, _ := json.Marshal(struct {
		SchemaVersion int             `json:"schemaVersion"`
		License       catalog.License `json:"license"`
	}{1, *l})
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bLic).Put([]byte(l.ID), v1) }); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got, err := s.Get(ctx, l.ID)
	if err != nil || got.Holder.Name != l.Holder.Name || got.Values["holder_name"] != l.Holder.Name {
		t.Fatalf("schema 1 in a file: %+v %v", got, err)
	}
	tr := catalog.Transition{From: catalog.StatusIssued, To: catalog.StatusSuspended, Actor: "t", Reason: "r", At: l.IssuedAt}
	if _, err := s.SetStatus(ctx, l.ID, tr); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	s.db.View(func(tx *bolt.Tx) error { raw = append(raw, tx.Bucket(bLic).Get([]byte(l.ID))...); return nil })
	if !strings.HasPrefix(string(raw), `{"schemaVersion":2,`) {
		t.Fatalf("rewritten record: %.60s", raw)
	}
	got, err = s.Get(ctx, l.ID)
	if err != nil || got.Status != catalog.StatusSuspended || len(got.History) != 2 || got.Values["valid_until"] != l.ValidUntil {
		t.Fatalf("after the status change: %+v %v", got, err)
	}
}
