package batchio

import "errors"

// Sentinels of batchio. Errors that stop a source also wrap
// catalog.ErrBatchSource.
var (
	// ErrHeader: the header row is missing, empty, or repeats an item key.
	ErrHeader = errors.New("batchio: bad header")
	// ErrFormat: the file is not in the format its name says.
	ErrFormat = errors.New("batchio: unsupported or malformed file")
)
