package catalog_test

import (
	"errors"
	"testing"
	"time"

	"elicense/catalog"
)

func TestCompareClaim(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	base := func(st catalog.Status, from, until string) *catalog.License {
		return &catalog.License{ID: "x", Status: st, ValidFrom: from, ValidUntil: until,
			Holder: catalog.Holder{Name: "李文斌", Code: "340202199003071238"},
			Values: map[string]string{"category": "建筑电工", "license_no": "N1"}}
	}
	ok := catalog.Claim{HolderCode: "340202199003071238", Number: "N1", HolderName: "李文斌", Fields: map[string]string{"category": "建筑电工"}}
	for _, tc := range []struct {
		name  string
		l     *catalog.License
		c     catalog.Claim
		want  catalog.ClaimCode
		wrong []string
	}{
		{"valid", base(catalog.StatusIssued, "2025-01-01", "2030-01-01"), ok, catalog.ClaimValid, nil},
		{"not active", base(catalog.StatusIssued, "2026-03-02", "2030-01-01"), ok, catalog.ClaimNotActive, nil},
		{"suspended", base(catalog.StatusSuspended, "2025-01-01", "2030-01-01"), ok, catalog.ClaimSuspended, nil},
		{"revoked", base(catalog.StatusRevoked, "2025-01-01", "2030-01-01"), ok, catalog.ClaimInvalid, nil},
		{"expired", base(catalog.StatusIssued, "2020-01-01", "2026-02-28"), ok, catalog.ClaimInvalid, nil},
		{"superseded", base(catalog.StatusSuperseded, "2025-01-01", "长期"), ok, catalog.ClaimInvalid, nil},
		{"long term", base(catalog.StatusIssued, "2025-01-01", "长期"), ok, catalog.ClaimValid, nil},
		{"wrong name and field", base(catalog.StatusIssued, "2025-01-01", "长期"),
			catalog.Claim{HolderCode: "340202199003071238", Number: "N1", HolderName: "李文", Fields: map[string]string{"category": "焊工", "nope": "1"}},
			catalog.ClaimMismatch, []string{"category", "holder_name", "nope"}},
		{"no fields", base(catalog.StatusIssued, "2025-01-01", "长期"), catalog.Claim{}, catalog.ClaimNoFields, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := catalog.CompareClaim(tc.l, tc.c, now)
			if got.Code != tc.want || len(got.Mismatched) != len(tc.wrong) {
				t.Fatalf("got %v %v, want %v %v", got.Code, got.Mismatched, tc.want, tc.wrong)
			}
			for i := range tc.wrong {
				if got.Mismatched[i] != tc.wrong[i] {
					t.Fatalf("mismatched %v, want %v", got.Mismatched, tc.wrong)
				}
			}
			if got.Code.String() == "" || got.Code.Meaning() == "" {
				t.Fatal("code without name or meaning")
			}
		})
	}
}

func TestCheckType(t *testing.T) {
	good := catalog.LicenseType{Key: "t-1", Code: "11100000MB0341032Y099", Name: "n", Holder: catalog.NaturalPerson,
		IssuingDepts: []string{"d"}, Items: []catalog.Item{{Key: "license_no", Label: "证号", Type: catalog.TypeText}}}
	if err := catalog.CheckType(&good); err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.Key, bad.Code, bad.Items = "T 1", "short", []catalog.Item{{Key: "a", Label: "", Type: "blob"}, {Key: "a", Label: "x", Type: catalog.TypeEnum}}
	err := catalog.CheckType(&bad)
	var ve *catalog.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) < 6 {
		t.Fatalf("%v", err)
	}
}
