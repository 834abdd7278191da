package rawpdf

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
)

// Sentinel errors.
var (
	// ErrSyntax reports bytes that are not valid PDF syntax where an object,
	// an xref section or a trailer is expected.
	ErrSyntax = errors.New("rawpdf: syntax error")
	// ErrXref reports a broken cross-reference chain (bad offset, loop, an
	// object missing from the xref); the reader never repairs.
	ErrXref = errors.New("rawpdf: bad cross-reference")
	// ErrLimit reports an input above a Limits bound.
	ErrLimit = errors.New("rawpdf: limit exceeded")
	// ErrUnsupported reports a valid but unsupported feature (encryption,
	// a stream filter other than FlateDecode).
	ErrUnsupported = errors.New("rawpdf: unsupported")
)

// Object is a PDF object: Null, Bool, Int, Real, String, Name, Array, Dict,
// Ref or *Stream.
type Object any

// Null is the PDF null object.
type Null struct{}

// Bool is a PDF boolean.
type Bool bool

// Int is a PDF integer.
type Int int64

// Real is a PDF real number.
type Real float64

// Name is a PDF name without the leading slash, #xx escapes decoded.
type Name string

// String is a PDF string with its decoded value and the byte span of its
// token in the file ([Start, End), delimiters included).
type String struct {
	Value      []byte
	Hex        bool
	Start, End int
}

// Array is a PDF array.
type Array []Object

// Dict is a PDF dictionary.
type Dict map[Name]Object

// Ref is an indirect reference "Num Gen R".
type Ref struct {
	Num, Gen int
}

// Stream is a stream object: its dictionary and the span of its raw
// (still encoded) data in the file.
type Stream struct {
	Dict               Dict
	DataStart, DataEnd int
}

func (r Ref) String() string { return fmt.Sprintf("%d %d R", r.Num, r.Gen) }

// Get returns d[k] (nil when absent).
func (d Dict) Get(k Name) Object { return d[k] }

// Name returns d[k] as a Name.
func (d Dict) Name(k Name) (Name, bool) {
	n, ok := d[k].(Name)
	return n, ok
}

// Int returns d[k] as an int.
func (d Dict) Int(k Name) (int, bool) {
	n, ok := d[k].(Int)
	return int(n), ok
}

// AppendObject appends the PDF serialisation of o to b. Dictionaries are
// written with sorted keys; strings as hex when they were hex. Streams
// cannot be serialised (their data lives in the file).
func AppendObject(b []byte, o Object) []byte {
	switch v := o.(type) {
	case nil, Null:
		return append(b, "null"...)
	case Bool:
		if v {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case Int:
		return strconv.AppendInt(b, int64(v), 10)
	case Real:
		return strconv.AppendFloat(b, float64(v), 'f', -1, 64)
	case Name:
		return AppendName(b, v)
	case String:
		if v.Hex {
			return AppendHexString(b, v.Value)
		}
		return AppendLiteralString(b, v.Value)
	case Ref:
		b = strconv.AppendInt(b, int64(v.Num), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(v.Gen), 10)
		return append(b, " R"...)
	case Array:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ' ')
			}
			b = AppendObject(b, e)
		}
		return append(b, ']')
	case Dict:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, string(k))
		}
		sort.Strings(keys)
		b = append(b, "<<"...)
		for _, k := range keys {
			b = AppendName(b, Name(k))
			b = append(b, ' ')
			b = AppendObject(b, v[Name(k)])
		}
		return append(b, ">>"...)
	}
	panic(fmt.Sprintf("rawpdf: cannot serialise %T", o))
}

// AppendName appends /name with #xx escapes where needed.
func AppendName(b []byte, n Name) []byte {
	b = append(b, '/')
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c < 0x21 || c > 0x7e || c == '#' || isDelim(c) {
			b = append(b, '#', hexDigits[c>>4], hexDigits[c&15])
		} else {
			b = append(b, c)
		}
	}
	return b
}

const hexDigits = "0123456789ABCDEF"

// AppendHexString appends <hex>.
func AppendHexString(b, s []byte) []byte {
	b = append(b, '<')
	for _, c := range s {
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	return append(b, '>')
}

// AppendLiteralString appends (literal) with escapes.
func AppendLiteralString(b, s []byte) []byte {
	b = append(b, '(')
	for _, c := range s {
		switch c {
		case '(', ')', '\\':
			b = append(b, '\\', c)
		case '\r':
			b = append(b, '\\', 'r')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return append(b, ')')
}
