package catalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// BatchCheckCounts are the totals of CheckBatch.
type BatchCheckCounts struct {
	Rows, Valid, Existing, Rejected int
}

// CheckBatch reads every row of src as StartBatch would for the type and
// department and reports, in row order, what issuing it would do:
// OutcomeValid (a license would be issued), OutcomeExisting (its number is
// in force) or OutcomeRejected with every problem, including a number that
// an earlier row of the file would issue (CodeDuplicate). Nothing is rendered,
// sealed, stored or journalled: a department checks a file before it
// issues from it. Errors: those of the type and department lookup, a
// *ValidationError for columns that do not fit the type (MatchColumns),
// ErrBatchSource and report's error.
func (s *Service) CheckBatch(ctx context.Context, typeKey, deptKey, actor string, src RowSource, report func(BatchResult) error) (BatchCheckCounts, error) {
	var n BatchCheckCounts
	t, _, err := s.typeAndDept(ctx, typeKey, deptKey, Actor{Name: actor})
	if err != nil {
		return n, err
	}
	if cs, ok := src.(ColumnSource); ok {
		keys, err := MatchColumns(t, cs.Columns())
		if err != nil {
			return n, err
		}
		cs.SetColumns(keys)
	}
	numbers := map[string]int{} // license number → first row with it
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		row, err := src.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		res := s.checkRow(ctx, t, row, numbers)
		n.Rows++
		switch res.Outcome {
		case OutcomeValid:
			n.Valid++
		case OutcomeExisting:
			n.Existing++
		default:
			n.Rejected++
		}
		if err := report(res); err != nil {
			return n, err
		}
	}
}

// checkRow is CheckBatch's verdict on one row.
func (s *Service) checkRow(ctx context.Context, t *LicenseType, row BatchRow, numbers map[string]int) BatchResult {
	res := BatchResult{Row: row.Num}
	reject := func(p ...FieldError) BatchResult { res.Outcome, res.Problems = OutcomeRejected, p; return res }
	if row.Err != nil {
		return reject(FieldError{Code: CodeBadRow, Message: row.Err.Error()})
	}
	values := copyValues(row.Values)
	for k, v := range values {
		if v == "" {
			delete(values, k)
		}
	}
	res.SourceKey = strings.TrimSpace(values[t.NumberKey()])
	if err := s.check(t, values, s.Now()); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return reject(ve.Problems...)
		}
		return reject(FieldError{Code: CodeFailed, Message: err.Error()})
	}
	res.SourceKey = values[t.NumberKey()]
	old, err := s.Store.GetByNumber(ctx, t.Key, res.SourceKey)
	switch {
	case err == nil && old.Status != StatusRevoked:
		res.Outcome, res.ID, res.Digest = OutcomeExisting, old.ID, old.Digest
		return res
	case err != nil && !errors.Is(err, ErrNotFound):
		return reject(FieldError{Code: CodeFailed, Message: err.Error()})
	}
	// As in a batch: a number that an earlier row of the file would issue.
	if first, dup := numbers[res.SourceKey]; dup {
		return reject(FieldError{Item: t.NumberKey(), Code: CodeDuplicate, Message: fmt.Sprintf("证照编号与第%d行重复", first)})
	}
	numbers[strings.Clone(res.SourceKey)] = row.Num
	res.Outcome = OutcomeValid
	return res
}
