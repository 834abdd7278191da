package batchio

import (
	"encoding/csv"
	"io"
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
