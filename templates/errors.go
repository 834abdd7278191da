package templates

import "errors"

// Sentinel errors of the package. Returned errors wrap them; test with errors.Is.
var (
	// ErrNoFont: none of the configured font paths holds a usable TrueType font.
	ErrNoFont = errors.New("templates: no usable CJK font found")
	// ErrBadTemplate: a template file is malformed, out of bounds or refers to
	// unknown items.
	ErrBadTemplate = errors.New("templates: bad template")
	// ErrUnknownType: no template for the license type key.
	ErrUnknownType = errors.New("templates: unknown license type")
	// ErrRender: the license could not be drawn (uncovered character, overflow,
	// bad image, library failure). Data problems also come as a
	// *catalog.ValidationError in the chain.
	ErrRender = errors.New("templates: render failed")
)

// Problem codes used in catalog.FieldError.Code besides those of catalog.
const (
	// CodeUncoveredChar: the font has no glyph for a character of the value.
	CodeUncoveredChar = "uncovered_char"
	// CodeOverflow: the value does not fit its field box (width × maximum lines).
	CodeOverflow = "overflow"
	// CodeNoTemplate: the license type has no template.
	CodeNoTemplate = "no_template"
)
