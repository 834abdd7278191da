package catalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
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
	if _, _, issue := s.screenRow(ctx, t, row, &res, nil); !issue {
		return res
	}
	// As in a batch: a number that an earlier row of the file would issue.
	if first, dup := numbers[res.SourceKey]; dup {
		res.Outcome, res.Problems = OutcomeRejected, []FieldError{{Item: t.NumberKey(), Code: CodeDuplicate, Message: fmt.Sprintf("证照编号与第%d行重复", first)}}
		return res
	}
	numbers[strings.Clone(res.SourceKey)] = row.Num
	res.Outcome = OutcomeValid
	return res
}

// screenRow does for one row what issuing it in a batch and checking it
// share: a row the reader could not make is rejected; its values (empty
// cells left out) are checked and normalised; a license in force with its
// number makes it existing. resumed, when set, is asked first, with
// res.SourceKey as written in the row, and ends the screening when it
// fills res. It returns the normalised values and the time of the check
// when the row would be issued; otherwise res holds the verdict.
func (s *Service) screenRow(ctx context.Context, t *LicenseType, row BatchRow, res *BatchResult, resumed func(*BatchResult) bool) (map[string]string, time.Time, bool) {
	reject := func(p ...FieldError) (map[string]string, time.Time, bool) {
		res.Outcome, res.Problems = OutcomeRejected, p
		return nil, time.Time{}, false
	}
	if row.Err != nil {
		return reject(FieldError{Code: CodeBadRow, Message: row.Err.Error()})
	}
	values := copyValues(row.Values)
	for k, v := range values { // empty cells are absent items
		if v == "" {
			delete(values, k)
		}
	}
	res.SourceKey = values[t.NumberKey()]
	if resumed != nil && resumed(res) {
		return nil, time.Time{}, false
	}
	now := s.Now()
	if err := s.check(t, values, now); err != nil {
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
		return nil, time.Time{}, false
	case err != nil && !errors.Is(err, ErrNotFound):
		return reject(FieldError{Code: CodeFailed, Message: err.Error()})
	}
	return values, now, true
}
