package catalog_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"elicense/catalog"
)

var foodT = &catalog.LicenseType{
	Key: "food-business", Holder: catalog.LegalPerson,
	Items: []catalog.Item{
		{Key: "holder_name", Label: "经营者名称", Type: catalog.TypeText, Required: true, MaxLength: 50},
		{Key: "holder_code", Label: "统一社会信用代码", Type: catalog.TypeUSCC, Required: true},
		{Key: "business_kind", Label: "主体业态", Type: catalog.TypeEnum, Options: []string{"食品销售经营者", "餐饮服务经营者"}},
		{Key: "license_no", Label: "许可证编号", Type: catalog.TypeText, Required: true, MaxLength: 16},
		{Key: "phone", Label: "投诉举报电话", Type: catalog.TypePhone},
		{Key: "valid_from", Label: "发证日期", Type: catalog.TypeDate, Required: true},
		{Key: "valid_until", Label: "有效期至", Type: catalog.TypeDateLong, Required: true},
		{Key: "photo", Label: "照片", Type: catalog.TypeImage},
	},
}

func foodRow() map[string]string {
	return map[string]string{"holder_name": "芜湖市鸠江区好味道餐饮店", "holder_code": "91350100M000100Y43",
		"business_kind": "餐饮服务经营者", "license_no": "JY13402020012345", "phone": "0553-12345",
		"valid_from": "2026-01-01", "valid_until": "2030-12-31"}
}

func TestValidateRow(t *testing.T) {
	png := base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\n0000"))
	cases := []struct {
		name string
		mut  func(r map[string]string)
		want string // "item:code", "" for valid
	}{
		{"Valid", func(r map[string]string) {}, ""},
		{"ValidLongTerm", func(r map[string]string) { r["valid_until"] = "长期" }, ""},
		{"ValidPhoto", func(r map[string]string) { r["photo"] = png }, ""},
		{"TrimmedSpaces", func(r map[string]string) { r["holder_code"] = "  91350100M000100Y43 " }, ""},
		{"MissingRequired", func(r map[string]string) { delete(r, "holder_name") }, "holder_name:required"},
		{"BlankRequired", func(r map[string]string) { r["license_no"] = "   " }, "license_no:required"},
		{"TooLong", func(r map[string]string) { r["license_no"] = strings.Repeat("号", 17) }, "license_no:too_long"},
		{"BadUSCC", func(r map[string]string) { r["holder_code"] = "91350100M000100Y44" }, "holder_code:bad_check"},
		{"BadDate", func(r map[string]string) { r["valid_from"] = "2026-02-30" }, "valid_from:bad_date"},
		{"CodeAsNumberCell", func(r map[string]string) { r["holder_code"] = "9.13501E+17" }, "holder_code:number_cell"},
		{"CodeAsNumberCellLong", func(r map[string]string) { r["holder_code"] = "9.13501000001E+17" }, "holder_code:number_cell"},
		{"FullWidthCode", func(r map[string]string) { r["holder_code"] = "９１３５０１００Ｍ０００１００Ｙ４３" }, ""},
		{"FullWidthDate", func(r map[string]string) { r["valid_from"] = "２０２６年１月１日" }, ""},
		{"SpreadsheetDate", func(r map[string]string) { r["valid_from"] = "2026/1/1" }, ""},
		{"ChineseDate", func(r map[string]string) { r["valid_from"] = "2026年1月1日" }, ""},
		{"MixedSeparators", func(r map[string]string) { r["valid_from"] = "2026/01-01" }, "valid_from:bad_date"},
		{"TwoDigitYear", func(r map[string]string) { r["valid_from"] = "01-01-26" }, "valid_from:bad_date"},
		{"ImpossibleSpreadsheetDate", func(r map[string]string) { r["valid_from"] = "2026/2/30" }, "valid_from:bad_date"},
		{"LongTermNotAllowed", func(r map[string]string) { r["valid_from"] = "长期" }, "valid_from:bad_date"},
		{"BadLongDate", func(r map[string]string) { r["valid_until"] = "永久" }, "valid_until:bad_date"},
		{"UntilBeforeFrom", func(r map[string]string) { r["valid_until"] = "2025-12-31" }, "valid_until:bad_date"},
		{"BadEnum", func(r map[string]string) { r["business_kind"] = "网吧" }, "business_kind:bad_option"},
		{"BadPhone", func(r map[string]string) { r["phone"] = "call me" }, "phone:bad_value"},
		{"ControlChar", func(r map[string]string) { r["holder_name"] = "好\x07味道" }, "holder_name:bad_character"},
		{"InvalidUTF8", func(r map[string]string) { r["holder_name"] = "好\xff味道" }, "holder_name:bad_character"},
		{"UnknownItem", func(r map[string]string) { r["colour"] = "red" }, "colour:unknown_item"},
		{"PhotoNotImage", func(r map[string]string) { r["photo"] = base64.StdEncoding.EncodeToString([]byte("GIF89a")) }, "photo:bad_value"},
		{"PhotoNotBase64", func(r map[string]string) { r["photo"] = "%%%" }, "photo:bad_value"},
		{"PhotoTooBig", func(r map[string]string) {
			r["photo"] = base64.StdEncoding.EncodeToString(append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, catalog.MaxImageBytes)...))
		}, "photo:bad_value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := foodRow()
			tc.mut(r)
			ve := catalog.ValidateRow(foodT, r, today)
			if tc.want == "" {
				if ve != nil {
					t.Fatalf("unexpected problems: %v", ve)
				}
				return
			}
			if ve == nil || len(ve.Problems) != 1 {
				t.Fatalf("problems = %v, want exactly %s", ve, tc.want)
			}
			p := ve.Problems[0]
			if p.Item+":"+p.Code != tc.want || p.Message == "" {
				t.Fatalf("problem %+v, want %s", p, tc.want)
			}
		})
	}
	// Normalisation happens in place.
	r := foodRow()
	r["holder_code"] = " 91350100M000100Y43 "
	catalog.ValidateRow(foodT, r, today)
	if r["holder_code"] != "91350100M000100Y43" {
		t.Fatalf("not trimmed: %q", r["holder_code"])
	}
}

func TestNormalizeDate(t *testing.T) {
	for in, want := range map[string]string{
		"2026-01-31":          "2026-01-31",
		"2026-1-31":           "2026-01-31",
		"2026/1/31":           "2026-01-31",
		"2026/01/31":          "2026-01-31",
		"2026.1.31":           "2026-01-31",
		"2026年1月31日":          "2026-01-31",
		"2026年01月31日":         "2026-01-31",
		"20260131":            "2026-01-31",
		"2026-01-31 00:00":    "2026-01-31",
		"2026/1/31 0:00":      "2026-01-31",
		"2026/1/31 00:00:00":  "2026-01-31",
		"2024/2/29":           "2024-02-29",
		"2026/1/31 12:30":     "2026/1/31 12:30", // not midnight: left alone
		"2026/2/29":           "2026/2/29",       // no such day
		"2026/13/1":           "2026/13/1",
		"2026/0/1":            "2026/0/1",
		"2026/1-31":           "2026/1-31",
		"01-31-26":            "01-31-26",
		"1/31/2026":           "1/31/2026",
		"2026年1月":             "2026年1月",
		"1月31日":               "1月31日",
		"20261331":            "20261331",
		"2026-001-31":         "2026-001-31",
		"长期":                  "长期",
		"":                    "",
		"２０２６/1/31":           "２０２６/1/31",
		"2026/1/31/1":         "2026/1/31/1",
		"2026 /1/31":          "2026 /1/31",
		"46053":               "46053",
		"2026-01-31T00:00:00": "2026-01-31T00:00:00",
	} {
		if got := catalog.NormalizeDate(in); got != want {
			t.Errorf("NormalizeDate(%q) = %q, want %q", in, got, want)
		}
	}
	// ValidateRow stores the normalised form.
	r := foodRow()
	r["valid_from"], r["valid_until"] = "2026/1/1", "２０３０年１２月３１日"
	r["holder_code"], r["phone"] = "９１３５０１００Ｍ０００１００Ｙ４３", "０５５３－１２３４５"
	if err := catalog.ValidateRow(foodT, r, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if r["valid_from"] != "2026-01-01" || r["valid_until"] != "2030-12-31" || r["holder_code"] != "91350100M000100Y43" || r["phone"] != "0553-12345" {
		t.Fatalf("normalised %q %q %q %q", r["valid_from"], r["valid_until"], r["holder_code"], r["phone"])
	}
}

// FuzzNormalizeDate: the result is the input or a valid YYYY-MM-DD that
// names the same day when written back the way it came (idempotent).
func FuzzNormalizeDate(f *testing.F) {
	for _, s := range []string{"2026/1/31", "2026年1月31日", "20260131", "2026-01-31 00:00", "2026/2/30", "01-31-26", "长期"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := catalog.NormalizeDate(s)
		if got == s {
			return
		}
		d, err := time.Parse(catalog.DateLayout, got)
		if err != nil || d.Format(catalog.DateLayout) != got {
			t.Fatalf("NormalizeDate(%q) = %q, not a date", s, got)
		}
		if again := catalog.NormalizeDate(got); again != got {
			t.Fatalf("not idempotent: %q → %q → %q", s, got, again)
		}
		if !strings.HasPrefix(s, got[:4]) {
			t.Fatalf("NormalizeDate(%q) = %q: another year", s, got)
		}
	})
}

// FuzzValidateRow: any values give problems or none, never a panic, and
// the normalised row of a valid one is valid and normalises to itself.
func FuzzValidateRow(f *testing.F) {
	r := foodRow()
	f.Add(r["holder_code"], r["valid_from"], r["valid_until"], r["phone"], r["business_kind"])
	f.Add("９１３５０１００Ｍ０００１００Ｙ４３", "2026/1/1", "２０３０年１２月３１日", "０５５３－１２３４５", "餐饮服务经营者")
	f.Add("9.13501E+17", "20260101", "长期", "", "x")
	today := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, code, from, until, phone, kind string) {
		row := foodRow()
		row["holder_code"], row["valid_from"], row["valid_until"], row["phone"], row["business_kind"] = code, from, until, phone, kind
		if err := catalog.ValidateRow(foodT, row, today); err != nil {
			if len(err.Problems) == 0 {
				t.Fatal("a validation error without problems")
			}
			return
		}
		again := make(map[string]string, len(row))
		for k, v := range row {
			again[k] = v
		}
		if err := catalog.ValidateRow(foodT, again, today); err != nil {
			t.Fatalf("the normalised row %v fails: %v", row, err)
		}
		for k, v := range row {
			if again[k] != v {
				t.Fatalf("%s normalised twice: %q → %q", k, v, again[k])
			}
		}
	})
}
