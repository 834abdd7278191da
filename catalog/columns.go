package catalog

import (
	"fmt"
	"strings"
)

// ColumnSource is a RowSource whose values come from named columns: the
// header row of a CSV file or a sheet. StartBatch matches the names to the
// type's items with MatchColumns before the first row and gives the item
// keys back with SetColumns, so a department's own sheet with Chinese
// column names can be issued as it is.
type ColumnSource interface {
	RowSource
	Columns() []string
	// SetColumns renames the columns (same length as Columns); the values
	// of later rows are keyed by the new names.
	SetColumns(keys []string)
}

// MatchColumns maps each column name to an item of t: its key (any case)
// or its label, ignoring spaces, the width of brackets and a required
// marker "*" (so "*法定代表人(负责人)" finds 法定代表人（负责人）). It
// returns the keys in column order, or a *ValidationError naming every
// column that matches no item or the same item as another column, and
// every required item without a column.
func MatchColumns(t *LicenseType, cols []string) ([]string, error) {
	idx := columnIndex(t)
	var probs []FieldError
	keys := make([]string, len(cols))
	first := map[string]int{}
	for i, c := range cols {
		k, ok := idx.key(c)
		switch {
		case !ok:
			probs = append(probs, FieldError{Item: c, Code: CodeUnknownItem,
				Message: fmt.Sprintf("第 %d 列“%s”不是“%s”的数据项：列名应为数据项代码或名称，多余的列请删除", i+1, c, t.Name)})
		case first[k] > 0:
			probs = append(probs, FieldError{Item: c, Code: CodeDuplicate,
				Message: fmt.Sprintf("第 %d 列“%s”与第 %d 列是同一数据项（%s）", i+1, c, first[k], k)})
		default:
			first[k] = i + 1
		}
		keys[i] = k
	}
	for _, it := range t.Items {
		if it.Required && first[it.Key] == 0 {
			probs = append(probs, FieldError{Item: it.Key, Code: CodeRequired,
				Message: fmt.Sprintf("缺少必填数据项“%s”（%s）的列", it.Label, it.Key)})
		}
	}
	if probs != nil {
		return nil, &ValidationError{Problems: probs}
	}
	return keys, nil
}

// ColumnKey returns the key of the item of t that a column named name
// stands for, as MatchColumns matches it.
func ColumnKey(t *LicenseType, name string) (string, bool) { return columnIndex(t).key(name) }

// columnIndex maps item keys (lower case) and labels (as columnName) to
// item keys; a label equal to an earlier key or label is left out.
type columnIndexMap map[string]string

func columnIndex(t *LicenseType) columnIndexMap {
	byName := make(columnIndexMap, 2*len(t.Items))
	for _, it := range t.Items {
		byName[strings.ToLower(it.Key)] = it.Key
	}
	for _, it := range t.Items {
		if n := columnName(it.Label); n != "" {
			if _, taken := byName[n]; !taken {
				byName[n] = it.Key
			}
		}
	}
	return byName
}

func (m columnIndexMap) key(col string) (string, bool) {
	k, ok := m[strings.ToLower(strings.TrimSpace(col))]
	if !ok {
		k, ok = m[columnName(col)]
	}
	return k, ok
}

// columnName is the form in which a column name is compared with a label.
func columnName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\u3000', '\u00a0', '\n', '\r':
			return -1
		case '（':
			return '('
		case '）':
			return ')'
		}
		return r
	}, s)
	return strings.Trim(s, "*＊")
}
