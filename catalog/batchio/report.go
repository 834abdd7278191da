package batchio

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"strconv"

	"elicense/catalog"
)

// ReportHeader is the first line of a batch report.
var ReportHeader = []string{"row", "source_key", "outcome", "identifier", "item", "code", "message"}

// Report writes the per-row report as CSV: UTF-8 with a byte-order mark so
// that Excel opens it as UTF-8, one line per row, or one line per problem
// for a rejected row with several problems (row, source key and outcome
// repeated on each). Write is not safe for concurrent use.
type Report struct {
	w *csv.Writer
}

// NewReport writes the BOM and the header to w.
func NewReport(w io.Writer) (*Report, error) {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return nil, err
	}
	r := &Report{w: csv.NewWriter(w)}
	if err := r.w.Write(ReportHeader); err != nil {
		return nil, err
	}
	return r, nil
}

// Write adds the lines of one row.
func (r *Report) Write(res catalog.BatchResult) error {
	base := []string{strconv.Itoa(res.Row), res.SourceKey, string(res.Outcome), res.ID}
	if len(res.Problems) == 0 {
		return r.w.Write(append(base, "", "", ""))
	}
	for _, p := range res.Problems {
		if err := r.w.Write(append(base[:4:4], p.Item, p.Code, p.Message)); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes buffered lines and returns the first write error.
func (r *Report) Flush() error {
	r.w.Flush()
	return r.w.Error()
}

// ReportFile is a Report written to a file through a buffer.
type ReportFile struct {
	*Report
	f *os.File
	w *bufio.Writer
}

// CreateReport creates (or truncates) the file at path and writes the
// report's BOM and header.
func CreateReport(path string) (*ReportFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	r, err := NewReport(w)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &ReportFile{Report: r, f: f, w: w}, nil
}

// Name is the file's path.
func (r *ReportFile) Name() string { return r.f.Name() }

// Sync writes what is buffered and makes it durable.
func (r *ReportFile) Sync() error { return errors.Join(r.Report.Flush(), r.w.Flush(), r.f.Sync()) }

// Close writes what is buffered and closes the file (without a sync).
func (r *ReportFile) Close() error { return errors.Join(r.Report.Flush(), r.w.Flush(), r.f.Close()) }
