package batchio_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"elicense/catalog"
	"elicense/catalog/batchio"
)

func readAll(t *testing.T, src catalog.RowSource) []catalog.BatchRow {
	t.Helper()
	var out []catalog.BatchRow
	for {
		r, err := src.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
}

func gb18030(s string) string {
	b, err := simplifiedchinese.GB18030.NewEncoder().String(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestCSV(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []catalog.BatchRow // Err compared by presence
		wantErr error
	}{
		{name: "utf8", in: "a,b\n1,甲\n2,乙\n", want: []catalog.BatchRow{{Num: 2, Values: map[string]string{"a": "1", "b": "甲"}}, {Num: 3, Values: map[string]string{"a": "2", "b": "乙"}}}},
		{name: "bom and crlf", in: "\uFEFFa,b\r\n1,甲\r\n", want: []catalog.BatchRow{{Num: 2, Values: map[string]string{"a": "1", "b": "甲"}}}},
		{name: "gb18030", in: gb18030("a,b\n1,芜湖市\n"), want: []catalog.BatchRow{{Num: 2, Values: map[string]string{"a": "1", "b": "芜湖市"}}}},
		{name: "empty cells and blank rows", in: "a,b\n1,\n,\n\n3,x\n", want: []catalog.BatchRow{{Num: 2, Values: map[string]string{"a": "1"}}, {Num: 5, Values: map[string]string{"a": "3", "b": "x"}}}},
		{name: "short row", in: "a,b\n1\n", want: []catalog.BatchRow{{Num: 2, Values: map[string]string{"a": "1"}}}},
		{name: "long row", in: "a,b\n1,2,3\n4,5\n", want: []catalog.BatchRow{{Num: 2, Err: errors.New("x")}, {Num: 3, Values: map[string]string{"a": "4", "b": "5"}}}},
		{name: "bad quote", in: "a,b\n1,\"x\"y\n4,5\n", want: []catalog.BatchRow{{Num: 2, Err: errors.New("x")}, {Num: 3, Values: map[string]string{"a": "4", "b": "5"}}}},
		{name: "quoted newline", in: "a,b\n\"1\n2\",x\n", want: []catalog.BatchRow{{Num: 2, Values: map[string]string{"a": "1\n2", "b": "x"}}}},
		{name: "no header", in: "", wantErr: batchio.ErrHeader},
		{name: "duplicate key", in: "a,a\n1,2\n", wantErr: batchio.ErrHeader},
		{name: "empty key", in: "a,,b\n", wantErr: batchio.ErrHeader},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := batchio.NewCSV(strings.NewReader(tc.in))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, src)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d rows %+v, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				if got[i].Num != tc.want[i].Num || (got[i].Err != nil) != (tc.want[i].Err != nil) ||
					tc.want[i].Err == nil && !reflect.DeepEqual(got[i].Values, tc.want[i].Values) {
					t.Errorf("row %d: got %+v, want %+v", i, got[i], tc.want[i])
				}
				if got[i].Err != nil && !strings.Contains(got[i].Err.Error(), "row ") {
					t.Errorf("row error without row number: %v", got[i].Err)
				}
			}
		})
	}
}

func TestJSONL(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []catalog.BatchRow
	}{
		{name: "rows", in: "{\"a\":\"1\"}\n\n{\"a\":\"2\",\"b\":null}", want: []catalog.BatchRow{{Num: 1, Values: map[string]string{"a": "1"}}, {Num: 3, Values: map[string]string{"a": "2"}}}},
		{name: "bom crlf", in: "\uFEFF{\"a\":\"甲\"}\r\n", want: []catalog.BatchRow{{Num: 1, Values: map[string]string{"a": "甲"}}}},
		{name: "not object", in: "[1]\n{\"a\":\"1\"}\n", want: []catalog.BatchRow{{Num: 1, Err: errors.New("x")}, {Num: 2, Values: map[string]string{"a": "1"}}}},
		{name: "number value", in: "{\"a\":1}\n", want: []catalog.BatchRow{{Num: 1, Err: errors.New("x")}}},
		{name: "too long", in: "{\"a\":\"" + strings.Repeat("x", batchio.MaxLine) + "\"}\n{\"a\":\"1\"}\n", want: []catalog.BatchRow{{Num: 1, Err: errors.New("x")}, {Num: 2, Values: map[string]string{"a": "1"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, batchio.NewJSONL(strings.NewReader(tc.in)))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d rows %+v, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				if got[i].Num != tc.want[i].Num || (got[i].Err != nil) != (tc.want[i].Err != nil) ||
					tc.want[i].Err == nil && !reflect.DeepEqual(got[i].Values, tc.want[i].Values) {
					t.Errorf("row %d: got %+v, want %+v", i, got[i], tc.want[i])
				}
				if got[i].Err != nil && !strings.Contains(got[i].Err.Error(), "line ") {
					t.Errorf("row error without line number: %v", got[i].Err)
				}
			}
		})
	}
}

func TestReport(t *testing.T) {
	var b bytes.Buffer
	r, err := batchio.NewReport(&b)
	if err != nil {
		t.Fatal(err)
	}
	r.Write(catalog.BatchResult{Row: 2, SourceKey: "JY1", Outcome: catalog.OutcomeIssued, ID: "1.2"})
	r.Write(catalog.BatchResult{Row: 3, SourceKey: "JY2", Outcome: catalog.OutcomeRejected, Problems: []catalog.FieldError{
		{Item: "holder_code", Code: "bad_check", Message: "校验位错误"}, {Item: "valid_from", Code: "bad_date", Message: "日期,错误"}}})
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "\uFEFFrow,source_key,outcome,identifier,item,code,message\n2,JY1,issued,1.2,,,\n3,JY2,rejected,,holder_code,bad_check,校验位错误\n3,JY2,rejected,,valid_from,bad_date,\"日期,错误\"\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// FuzzReadCSV: any input either fails to open with a header error or yields
// rows, each with a row number above the header's and, when bad, an error
// naming the row.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "\uFEFFa,b\r\n\"x\ny\",2\n", "a\n\"\n", gb18030("名,b\n甲,乙\n"), "a,b\n1,2,3\n", "a,b\n1,\"x\"y\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := batchio.NewCSV(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, batchio.ErrHeader) && !errors.Is(err, catalog.ErrBatchSource) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		// The column names of any header either match the type or are
		// refused with a problem per column or missing item.
		fuzzType := &catalog.LicenseType{Key: "x", Name: "测试证", Items: []catalog.Item{
			{Key: "a", Label: "名", Required: true}, {Key: "b", Label: "（乙）"}}}
		if keys, err := catalog.MatchColumns(fuzzType, src.Columns()); err == nil {
			if len(keys) != len(src.Columns()) {
				t.Fatalf("%d keys for %d columns", len(keys), len(src.Columns()))
			}
			src.SetColumns(keys)
		} else if ve, ok := err.(*catalog.ValidationError); !ok || len(ve.Problems) == 0 {
			t.Fatalf("column error %v", err)
		}
		last := 1
		for n := 0; ; n++ {
			r, err := src.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				if !errors.Is(err, catalog.ErrBatchSource) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			if r.Num <= last {
				t.Fatalf("row number %d after %d", r.Num, last)
			}
			last = r.Num
			if r.Err != nil && !strings.Contains(r.Err.Error(), "row ") {
				t.Fatalf("error without row number: %v", r.Err)
			}
			if r.Err == nil && len(r.Values) > len(src.Columns()) {
				t.Fatalf("%d values for %d columns", len(r.Values), len(src.Columns()))
			}
			if n > len(data)+1 {
				t.Fatal("more rows than bytes")
			}
		}
	})
}

// FuzzReadJSONL: no panics; rows are numbered by line; a bad line names it.
func FuzzReadJSONL(f *testing.F) {
	for _, s := range []string{"{\"a\":\"1\"}\n", "{\"a\":1}\n\n[]\n", "\uFEFF{}\r\n{", "null\n\"x\"\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src := batchio.NewJSONL(bytes.NewReader(data))
		last := 0
		for {
			r, err := src.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("in-memory input gave a source error: %v", err)
			}
			if r.Num <= last || r.Num > bytes.Count(data, []byte("\n"))+1 {
				t.Fatalf("line number %d after %d", r.Num, last)
			}
			last = r.Num
			if r.Err != nil && !strings.Contains(r.Err.Error(), "line ") {
				t.Fatalf("error without line number: %v", r.Err)
			}
		}
	})
}

// TestColumns: CSV and XLSX files opened by Open name their columns and key
// later rows by the names SetColumns gives; JSON Lines has no columns.
func TestColumns(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "rows.csv")
	if err := os.WriteFile(csvPath, []byte("经营者名称,许可证编号\n甲,JY1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	xlsxPath := filepath.Join(dir, "rows.xlsx")
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]string{"经营者名称", "许可证编号"})
	f.SetSheetRow("Sheet1", "A2", &[]string{"甲", "JY1"})
	if err := f.SaveAs(xlsxPath); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, path := range []string{csvPath, xlsxPath} {
		src, err := batchio.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		cs, ok := src.(catalog.ColumnSource)
		if !ok {
			t.Fatalf("%s: %T is no catalog.ColumnSource", filepath.Ext(path), src)
		}
		if got := cs.Columns(); !reflect.DeepEqual(got, []string{"经营者名称", "许可证编号"}) {
			t.Fatalf("%s: columns %v", filepath.Ext(path), got)
		}
		cs.SetColumns([]string{"only one"}) // wrong length: ignored
		cs.SetColumns([]string{"holder_name", "license_no"})
		rows := readAll(t, src)
		if len(rows) != 1 || !reflect.DeepEqual(rows[0].Values, map[string]string{"holder_name": "甲", "license_no": "JY1"}) {
			t.Fatalf("%s: rows %+v", filepath.Ext(path), rows)
		}
		src.Close()
	}
	jsonl := filepath.Join(dir, "rows.jsonl")
	os.WriteFile(jsonl, []byte(`{"holder_name":"甲"}`+"\n"), 0o600)
	src, err := batchio.Open(jsonl)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, ok := src.(catalog.ColumnSource); ok {
		t.Fatal("JSON Lines rows have no columns")
	}
}

// TestTemplateColumns: the template's column names lead back to the type's
// items; a label that would not (empty, or equal to another item's key or
// an earlier label) falls back to the key.
func TestTemplateColumns(t *testing.T) {
	ty := &catalog.LicenseType{Key: "x", Name: "测试证", Items: []catalog.Item{
		{Key: "holder_name", Label: "姓名", Required: true},
		{Key: "nick", Label: "姓名"},            // the same label as an earlier item
		{Key: "code", Label: "holder_name"},   // a label equal to another key
		{Key: "blank", Label: " "},            // no label
		{Key: "addr", Label: "住址,（详细）\"门牌\""}, // needs CSV quoting
	}}
	cols := batchio.TemplateColumns(ty)
	want := []string{"*姓名", "nick", "code", "blank", "住址,（详细）\"门牌\""}
	if !reflect.DeepEqual(cols, want) {
		t.Fatalf("columns %q, want %q", cols, want)
	}
	keys, err := catalog.MatchColumns(ty, cols)
	if err != nil || !reflect.DeepEqual(keys, []string{"holder_name", "nick", "code", "blank", "addr"}) {
		t.Fatalf("read back: %v %v", keys, err)
	}
	var buf bytes.Buffer
	if err := batchio.WriteCSVTemplate(&buf, ty); err != nil {
		t.Fatal(err)
	}
	src, err := batchio.NewCSV(&buf)
	if err != nil || !reflect.DeepEqual(src.Columns(), want) {
		t.Fatalf("CSV template read back: %q %v", src.Columns(), err)
	}
}

// TestXLSXDateCells: date cells, in Excel's default date format, the
// Chinese built-in ones and custom ones, come as forms that
// catalog.NormalizeDate turns into the date.
func TestXLSXDateCells(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dates.xlsx")
	f := excelize.NewFile()
	day := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	var header []string
	styles := []excelize.Style{{NumFmt: 14}, {NumFmt: 22}, {NumFmt: 30}, {NumFmt: 31}}
	for _, c := range []string{"yyyy/m/d", "yyyy-mm-dd", `yyyy"年"m"月"d"日"`, "yyyy.mm.dd", `[$-804]yyyy"年"m"月"d"日";@`} {
		styles = append(styles, excelize.Style{CustomNumFmt: &c})
	}
	for i, st := range styles {
		col, _ := excelize.ColumnNumberToName(i + 1)
		header = append(header, "d"+col)
		id, err := f.NewStyle(&st)
		if err != nil {
			t.Fatal(err)
		}
		f.SetCellValue("Sheet1", col+"2", day)
		f.SetCellStyle("Sheet1", col+"2", col+"2", id)
	}
	f.SetSheetRow("Sheet1", "A1", &header)
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	f.Close()
	x, err := batchio.OpenXLSX(path)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows := readAll(t, x)
	if len(rows) != 1 || len(rows[0].Values) != len(styles) {
		t.Fatalf("rows %+v", rows)
	}
	for k, v := range rows[0].Values {
		if got := catalog.NormalizeDate(v); got != "2026-01-31" {
			t.Errorf("%s: cell reads %q (%q)", k, v, got)
		}
	}
}
