package batchio

import (
	"cmp"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"elicense/catalog"
)

// TemplateColumns are the column names of a batch template for t, one per
// item in the type's order: the item's label, after "*" when it is
// required, or its key where the label would not lead back to it
// (catalog.MatchColumns reads them back as the item keys).
func TemplateColumns(t *catalog.LicenseType) []string {
	cols := make([]string, len(t.Items))
	for i, it := range t.Items {
		cols[i] = it.Label
		if it.Required {
			cols[i] = "*" + it.Label
		}
		if k, ok := catalog.ColumnKey(t, cols[i]); strings.TrimSpace(it.Label) == "" || !ok || k != it.Key {
			cols[i] = it.Key
		}
	}
	return cols
}

// WriteCSVTemplate writes the header row of a CSV batch file for t, UTF-8
// with a byte-order mark so that Excel opens it as UTF-8.
func WriteCSVTemplate(w io.Writer, t *catalog.LicenseType) error {
	cols := TemplateColumns(t)
	for i, c := range cols {
		if strings.ContainsAny(c, ",\"\r\n") {
			cols[i] = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
		}
	}
	_, err := io.WriteString(w, "\uFEFF"+strings.Join(cols, ",")+"\r\n")
	return err
}

// templateSheet is the first sheet of an XLSX template, the one a batch
// reads.
const templateSheet = "证照数据"

// WriteXLSXTemplate writes an XLSX batch template for t: on the first sheet
// the header row, every column formatted as text (so an 18-digit ID number
// or a date stays as typed instead of becoming a number) with a drop-down
// list for items with options; on a second sheet, the notes: each column's
// item key, whether it is required, its format and its options.
func WriteXLSXTemplate(w io.Writer, t *catalog.LicenseType) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", templateSheet); err != nil {
		return err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": text
	if err != nil {
		return err
	}
	head, err := f.NewStyle(&excelize.Style{NumFmt: 49, Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"#E8EEF7"}}})
	if err != nil {
		return err
	}
	cols := TemplateColumns(t)
	for i, c := range cols {
		col, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			return err
		}
		if err := f.SetColStyle(templateSheet, col, text); err != nil {
			return err
		}
		width := float64(len([]rune(c)))*2.2 + 4
		if it := t.Items[i]; it.Type == catalog.TypeIDNumber || it.Type == catalog.TypeUSCC {
			width = max(width, 22)
		}
		if err := f.SetColWidth(templateSheet, col, col, min(max(width, 12), 60)); err != nil {
			return err
		}
		if err := f.SetCellValue(templateSheet, col+"1", c); err != nil {
			return err
		}
		if err := f.SetCellStyle(templateSheet, col+"1", col+"1", head); err != nil {
			return err
		}
		if opts := t.Items[i].Options; len(opts) > 0 && len(strings.Join(opts, ",")) <= 255 {
			dv := excelize.NewDataValidation(true)
			dv.Sqref = col + "2:" + col + "1048576"
			if err := dv.SetDropList(opts); err == nil {
				if err := f.AddDataValidation(templateSheet, dv); err != nil {
					return err
				}
			}
		}
	}
	if err := f.SetPanes(templateSheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	const notes = "填写说明"
	if _, err := f.NewSheet(notes); err != nil {
		return err
	}
	rows := [][]any{
		{t.Name + "（" + t.Key + "）批量签发模板：在“" + templateSheet + "”表第 1 行之下每行填写一张证照；列名可以是数据项名称或代码，带 * 的为必填项；不要增加其他列。"},
		{"列名", "数据项代码", "必填", "格式", "可选值", "最长（字）"},
	}
	for i, it := range t.Items {
		req := ""
		if it.Required {
			req = "是"
		}
		maxLen := ""
		if it.Type != catalog.TypeImage {
			maxLen = strconv.Itoa(cmp.Or(it.MaxLength, catalog.DefaultMaxLength))
		}
		rows = append(rows, []any{cols[i], it.Key, req, formatHint(it.Type), strings.Join(it.Options, "、"), maxLen})
	}
	for i, r := range rows {
		if err := f.SetSheetRow(notes, "A"+strconv.Itoa(i+1), &r); err != nil {
			return err
		}
	}
	for col, w := range map[string]float64{"A": 24, "B": 18, "C": 6, "D": 40, "E": 30, "F": 10} {
		if err := f.SetColWidth(notes, col, col, w); err != nil {
			return err
		}
	}
	f.SetActiveSheet(0)
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("batchio: template: %w", err)
	}
	return nil
}

// formatHint says in Chinese how a value of dt is written.
func formatHint(dt catalog.DataType) string {
	switch dt {
	case catalog.TypeDate:
		return "日期 YYYY-MM-DD，如 2026-01-31"
	case catalog.TypeDateLong:
		return "日期 YYYY-MM-DD，或“长期”"
	case catalog.TypeIDNumber:
		return "18 位公民身份号码"
	case catalog.TypeUSCC:
		return "18 位统一社会信用代码"
	case catalog.TypeEnum:
		return "从可选值中选一项"
	case catalog.TypePhone:
		return "电话号码（数字、空格和-）"
	case catalog.TypeImage:
		return "照片：PNG 或 JPEG 的 base64（仅 CSV/JSON Lines 适用）"
	}
	return "文字"
}
