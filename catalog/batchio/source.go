package batchio

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"elicense/catalog"
)

// Source is a catalog.RowSource over a file that must be closed.
type Source interface {
	catalog.RowSource
	io.Closer
}

// Open opens path as a row source chosen by its extension: .csv, .xlsx or
// .jsonl (also .ndjson). Errors wrap ErrFormat, ErrHeader or the os error.
func Open(path string) (Source, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		src, err := NewCSV(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return csvFile{src, f}, nil
	case ".jsonl", ".ndjson":
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		return closer{NewJSONL(f), f}, nil
	case ".xlsx":
		return OpenXLSX(path)
	}
	return nil, fmt.Errorf("%s: %w: use .csv, .xlsx or .jsonl", path, ErrFormat)
}

type closer struct {
	catalog.RowSource
	c io.Closer
}

func (c closer) Close() error { return c.c.Close() }

// csvFile keeps the CSV's column methods (catalog.ColumnSource).
type csvFile struct {
	*CSV
	f *os.File
}

func (c csvFile) Close() error { return c.f.Close() }

// --- CSV ---

// CSV reads rows from CSV with a header row of column names (item keys, or
// labels that catalog.MatchColumns turns into keys).
type CSV struct {
	r      *csv.Reader
	header []string
	num    int
}

// NewCSV reads the header of r (UTF-8 with or without BOM, or GB18030).
// Errors wrap ErrHeader or catalog.ErrBatchSource.
func NewCSV(r io.Reader) (*CSV, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	peek, err := br.Peek(64 << 10)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("batchio: csv: %w: %w", catalog.ErrBatchSource, err)
	}
	var in io.Reader = br
	peek = bytes.TrimPrefix(peek, []byte("\xEF\xBB\xBF"))
	if !validUTF8Prefix(peek, len(peek) == 64<<10) {
		in = transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder())
	} else if bytes.HasPrefix(peekBOM(br), []byte("\xEF\xBB\xBF")) {
		br.Discard(3)
	}
	c := &CSV{r: csv.NewReader(in)}
	c.r.FieldsPerRecord = -1
	c.r.ReuseRecord = true
	for {
		rec, err := c.r.Read()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: no header row", ErrHeader)
		}
		c.num++
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrHeader, err)
		}
		if blank(rec) {
			continue
		}
		if c.header, err = header(rec); err != nil {
			return nil, err
		}
		return c, nil
	}
}

func peekBOM(br *bufio.Reader) []byte { b, _ := br.Peek(3); return b }

// validUTF8Prefix is utf8.Valid, forgiving a rune cut at the end of a
// truncated buffer.
func validUTF8Prefix(b []byte, truncated bool) bool {
	if truncated {
		for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
			if utf8.Valid(b) {
				return true
			}
			b = b[:len(b)-1]
		}
	}
	return utf8.Valid(b)
}

func header(rec []string) ([]string, error) {
	h := make([]string, len(rec))
	seen := map[string]bool{}
	for i, k := range rec {
		k = strings.TrimSpace(k)
		if i == 0 {
			k = strings.TrimPrefix(k, "\uFEFF")
		}
		if k == "" {
			return nil, fmt.Errorf("%w: column %d has no item key", ErrHeader, i+1)
		}
		if seen[k] {
			return nil, fmt.Errorf("%w: item key %q appears twice", ErrHeader, k)
		}
		seen[k] = true
		h[i] = k
	}
	return h, nil
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// Columns returns the column names of the header row (catalog.ColumnSource).
func (c *CSV) Columns() []string { return c.header }

// SetColumns implements catalog.ColumnSource.
func (c *CSV) SetColumns(keys []string) { c.header = setColumns(c.header, keys) }

// setColumns returns keys when it fits the header, else the header.
func setColumns(header, keys []string) []string {
	if len(keys) != len(header) {
		return header
	}
	return append([]string(nil), keys...)
}

// Next implements catalog.RowSource.
func (c *CSV) Next() (catalog.BatchRow, error) {
	for {
		rec, err := c.r.Read()
		if err == io.EOF {
			return catalog.BatchRow{}, io.EOF
		}
		c.num++
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			c.num = max(c.num, pe.StartLine)
			return catalog.BatchRow{Num: c.num, Err: fmt.Errorf("row %d (line %d, column %d): %w", c.num, pe.Line, pe.Column, pe.Err)}, nil
		}
		if err == nil {
			line, _ := c.r.FieldPos(0)
			c.num = max(c.num, line) // the line the record starts on: blank lines count, as in a spreadsheet
		}
		if err != nil {
			return catalog.BatchRow{}, fmt.Errorf("batchio: csv row %d: %w: %w", c.num, catalog.ErrBatchSource, err)
		}
		if blank(rec) {
			continue
		}
		return rowOf(c.header, rec, c.num), nil
	}
}

func rowOf(h, rec []string, num int) catalog.BatchRow {
	if len(rec) > len(h) && !blank(rec[len(h):]) {
		return catalog.BatchRow{Num: num, Err: fmt.Errorf("row %d has %d fields, the header %d", num, len(rec), len(h))}
	}
	vals := make(map[string]string, len(h))
	for i, k := range h {
		if i < len(rec) && rec[i] != "" {
			vals[k] = rec[i]
		}
	}
	return catalog.BatchRow{Num: num, Values: vals}
}

// --- JSON Lines ---

// MaxLine bounds one JSON Lines record (an image item is at most 512 KB,
// about 700 KB in base64).
const MaxLine = 4 << 20

// JSONL reads one JSON object of item values per line.
type JSONL struct {
	r   *bufio.Reader
	num int
}

// NewJSONL reads from r.
func NewJSONL(r io.Reader) *JSONL { return &JSONL{r: bufio.NewReaderSize(r, 64<<10)} }

// Next implements catalog.RowSource. null values are absent items; any other
// non-string value makes the row bad.
func (j *JSONL) Next() (catalog.BatchRow, error) {
	for {
		line, err := j.readLine()
		if err == io.EOF && line == nil {
			return catalog.BatchRow{}, io.EOF
		}
		j.num++
		if err != nil && err != io.EOF {
			if errors.Is(err, errLong) {
				return catalog.BatchRow{Num: j.num, Err: fmt.Errorf("line %d: longer than %d bytes", j.num, MaxLine)}, nil
			}
			return catalog.BatchRow{}, fmt.Errorf("batchio: jsonl line %d: %w: %w", j.num, catalog.ErrBatchSource, err)
		}
		if j.num == 1 {
			line = bytes.TrimPrefix(line, []byte("\xEF\xBB\xBF"))
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		return jsonRow(line, j.num), nil
	}
}

var errLong = errors.New("line too long")

// readLine returns the next line without its end; nil, io.EOF at the end.
func (j *JSONL) readLine() ([]byte, error) {
	var buf []byte
	for {
		part, err := j.r.ReadSlice('\n')
		if len(buf)+len(part) > MaxLine {
			for errors.Is(err, bufio.ErrBufferFull) { // skip the rest of the line
				_, err = j.r.ReadSlice('\n')
			}
			return []byte{}, errLong
		}
		buf = append(buf, part...)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF:
			if len(buf) == 0 {
				return nil, io.EOF
			}
			return buf, nil
		case err != nil:
			return buf, err
		}
		return bytes.TrimRight(buf, "\r\n"), nil
	}
}

func jsonRow(line []byte, num int) catalog.BatchRow {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		return catalog.BatchRow{Num: num, Err: fmt.Errorf("line %d: not a JSON object: %w", num, err)}
	}
	vals := make(map[string]string, len(raw))
	for k, v := range raw {
		if string(v) == "null" {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return catalog.BatchRow{Num: num, Err: fmt.Errorf("line %d: item %q is not a string", num, k)}
		}
		if s != "" {
			vals[k] = s
		}
	}
	return catalog.BatchRow{Num: num, Values: vals}
}

// --- XLSX ---

// XLSX streams the rows of the first sheet of a workbook.
type XLSX struct {
	f      *excelize.File
	rows   *excelize.Rows
	header []string
	num    int
}

// OpenXLSX opens the workbook and reads its header row. Cells are read as
// the sheet shows them, with the Chinese locale's date formats and the
// system short date as YYYY-MM-DD, so a date cell comes as a form
// catalog.NormalizeDate reads (Excel's default date format would
// otherwise come as 01-31-26 and the Chinese built-in ones as serial
// numbers).
func OpenXLSX(path string) (*XLSX, error) {
	f, err := excelize.OpenFile(path, excelize.Options{ShortDatePattern: "yyyy-mm-dd", CultureInfo: excelize.CultureNameZhCN})
	if err != nil {
		return nil, fmt.Errorf("batchio: %s: %w: %w", path, ErrFormat, err)
	}
	x := &XLSX{f: f}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, fmt.Errorf("batchio: %s: %w: no sheet", path, ErrFormat)
	}
	if x.rows, err = f.Rows(sheets[0]); err != nil {
		f.Close()
		return nil, fmt.Errorf("batchio: %s: %w: %w", path, ErrFormat, err)
	}
	for {
		rec, err := x.next()
		if err == io.EOF {
			x.Close()
			return nil, fmt.Errorf("%w: no header row", ErrHeader)
		}
		if err != nil {
			x.Close()
			return nil, err
		}
		if blank(rec) {
			continue
		}
		if x.header, err = header(rec); err != nil {
			x.Close()
			return nil, err
		}
		return x, nil
	}
}

func (x *XLSX) next() ([]string, error) {
	if !x.rows.Next() {
		if err := x.rows.Error(); err != nil {
			return nil, fmt.Errorf("batchio: xlsx row %d: %w: %w", x.num+1, catalog.ErrBatchSource, err)
		}
		return nil, io.EOF
	}
	x.num++
	rec, err := x.rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("batchio: xlsx row %d: %w: %w", x.num, catalog.ErrBatchSource, err)
	}
	return rec, nil
}

// Next implements catalog.RowSource.
func (x *XLSX) Next() (catalog.BatchRow, error) {
	for {
		rec, err := x.next()
		if err != nil {
			return catalog.BatchRow{}, err
		}
		if blank(rec) {
			continue
		}
		return rowOf(x.header, rec, x.num), nil
	}
}

// Columns returns the column names of the header row (catalog.ColumnSource).
func (x *XLSX) Columns() []string { return x.header }

// SetColumns implements catalog.ColumnSource.
func (x *XLSX) SetColumns(keys []string) { x.header = setColumns(x.header, keys) }

// Close releases the workbook.
func (x *XLSX) Close() error {
	if x.rows != nil {
		x.rows.Close()
	}
	return x.f.Close()
}
