package catalog

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of the catalog. Wrapped errors keep them reachable with errors.Is.
var (
	// ErrNotFound: no record with that key.
	ErrNotFound = errors.New("catalog: not found")
	// ErrExists: a record with that key (identifier, license number) already exists.
	ErrExists = errors.New("catalog: already exists")
	// ErrInvalid: input that breaks a rule; see ValidationError for the fields.
	ErrInvalid = errors.New("catalog: invalid input")
	// ErrConflict: the record changed since it was read (lost update).
	ErrConflict = errors.New("catalog: conflicting change")
	// ErrLocked: the store is held by another process.
	ErrLocked = errors.New("catalog: store locked by another elicense process")
	// ErrForbidden: the actor may not act on this record (e.g. another department's license).
	ErrForbidden = errors.New("catalog: forbidden")
	// ErrUnpublished: the license type is not published.
	ErrUnpublished = errors.New("catalog: license type not published")
)

// FieldError is one problem with one item of a data row.
type FieldError struct {
	Item    string // item key, e.g. "holder_code"; "" for the row as a whole
	Code    string // stable problem code, e.g. CodeBadCheck
	Message string // human message in Chinese
}

func (f FieldError) String() string {
	if f.Item == "" {
		return f.Code + ": " + f.Message
	}
	return f.Item + ": " + f.Message
}

// ValidationError lists every problem of one input at once. It wraps ErrInvalid.
type ValidationError struct {
	Problems []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "catalog: invalid input: " + strings.Join(parts, "; ")
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

func invalid(item, msg string) error {
	return &ValidationError{Problems: []FieldError{{Item: item, Code: CodeBadValue, Message: msg}}}
}

// TransitionError is returned for a lifecycle change the state machine forbids.
// It wraps ErrInvalid.
type TransitionError struct {
	ID   string
	From Status
	To   Status
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("catalog: license %s: cannot go from %s to %s", e.ID, e.From, e.To)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *TransitionError) Unwrap() error { return ErrInvalid }
