package templates_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	e := engine(t)
	tests := []struct {
		name   string
		typ    string
		sample string
		edit   map[string]string
		want   []string // "item:code", sorted
	}{
		{name: "valid food-business", typ: "food-business", sample: "food-business"},
		{name: "valid special-operations", typ: "special-operations", sample: "special-operations"},
		{name: "valid no-criminal-record", typ: "no-criminal-record", sample: "no-criminal-record"},
		{name: "invalid food-business sample", typ: "food-business", sample: "invalid-food-business",
			want: []string{"business_items:overflow", "holder_code:bad_check", "holder_name:uncovered_char", "legal_rep:required"}},
		{name: "invalid special-operations sample", typ: "special-operations", sample: "invalid-special-operations",
			want: []string{"category:overflow", "holder_code:bad_check"}},
		{name: "gender disagrees with the ID number", typ: "special-operations", sample: "special-operations",
			edit: map[string]string{"gender": "女"}, want: []string{"gender:mismatch"}},
		{name: "missing required and unknown item", typ: "food-business", sample: "food-business",
			edit: map[string]string{"license_no": "", "colour": "红"}, want: []string{"colour:unknown_item", "license_no:required"}},
		{name: "too long is not also an overflow", typ: "food-business", sample: "food-business",
			edit: map[string]string{"business_items": strings.Repeat("食", 201)}, want: []string{"business_items:too_long"}},
		{name: "uncovered in a one-line field", typ: "no-criminal-record", sample: "no-criminal-record",
			edit: map[string]string{"holder_name": "陈𠮷"}, want: []string{"holder_name:uncovered_char"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			typ, ok := e.Type(tc.typ)
			if !ok {
				t.Fatalf("no type %s", tc.typ)
			}
			row := sampleRow(t, tc.sample)
			for k, v := range tc.edit {
				row[k] = v
			}
			ve := e.Check(&typ, row, clock)
			var got []string
			if ve != nil {
				for _, p := range ve.Problems {
					got = append(got, p.Item+":"+p.Code)
					if p.Message == "" {
						t.Errorf("%s: empty message", p.Item)
					}
				}
			}
			sort.Strings(got)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("problems = %v, want %v (%v)", got, tc.want, ve)
			}
			for _, p := range problems(ve) {
				if p.Code == "uncovered_char" && !strings.Contains(p.Message, "U+20BB7") {
					t.Errorf("message %q does not name the character", p.Message)
				}
			}
		})
	}
}
