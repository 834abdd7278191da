package catalog_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"elicense/catalog"
)

func TestMatchColumns(t *testing.T) {
	ft := *foodT
	ft.Name = "食品经营许可证"
	ft.Items = append(append([]catalog.Item(nil), foodT.Items...),
		catalog.Item{Key: "legal_rep", Label: "法定代表人（负责人）", Type: catalog.TypeText})
	required := []string{"holder_name", "holder_code", "license_no", "valid_from", "valid_until"}
	cases := []struct {
		name string
		cols []string
		want []string // keys, or nil when refused
		errs []string // "column:code" of the problems when refused
	}{
		{"keys", required, required, nil},
		{"labels", []string{"经营者名称", "统一社会信用代码", "许可证编号", "发证日期", "有效期至"}, required, nil},
		{"mixed, spaced, marked, any case, half-width brackets",
			[]string{" HOLDER_NAME ", "*统一社会信用代码", "许可证 编号", "valid_from", "有效期至＊", "法定代表人(负责人)", "照片"},
			append(append([]string(nil), required...), "legal_rep", "photo"), nil},
		{"unknown column", append([]string{"序号"}, required...), nil, []string{"序号:unknown_item"}},
		{"same item twice", append(append([]string(nil), required...), "经营者名称"), nil, []string{"经营者名称:duplicate"}},
		{"required item missing", required[1:], nil, []string{"holder_name:required"}},
		{"every problem at once", []string{"名称", "holder_code", "统一社会信用代码", "license_no", "valid_from", "valid_until"}, nil,
			[]string{"名称:unknown_item", "统一社会信用代码:duplicate", "holder_name:required"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := catalog.MatchColumns(&ft, tc.cols)
			if tc.errs == nil {
				if err != nil || !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("got %v, %v; want %v", got, err, tc.want)
				}
				return
			}
			var ve *catalog.ValidationError
			if !errors.As(err, &ve) || got != nil {
				t.Fatalf("got %v, %v; want a validation error", got, err)
			}
			var codes []string
			for _, p := range ve.Problems {
				codes = append(codes, p.Item+":"+p.Code)
				if !strings.ContainsAny(p.Message, "列") {
					t.Errorf("message names no column: %q", p.Message)
				}
			}
			if !reflect.DeepEqual(codes, tc.errs) {
				t.Fatalf("problems %v, want %v", codes, tc.errs)
			}
		})
	}
}
