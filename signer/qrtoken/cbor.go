package qrtoken

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds a minimal CBOR (RFC 8949) writer and a strict reader for
// the subset the package uses: unsigned integers (major type 0), byte strings
// (2), text strings (3), arrays (4) and maps (5) with unsigned integer keys.
// The writer always produces the core deterministic encoding (RFC 8949
// §4.2.1); the reader accepts nothing else.

const (
	majorUint  = 0
	majorBytes = 2
	majorText  = 3
	majorArray = 4
	majorMap   = 5
)

// appendHead appends a CBOR head with the shortest argument encoding.
func appendHead(b []byte, major byte, arg uint64) []byte {
	m := major << 5
	switch {
	case arg < 24:
		return append(b, m|byte(arg))
	case arg <= 0xff:
		return append(b, m|24, byte(arg))
	case arg <= 0xffff:
		return append(b, m|25, byte(arg>>8), byte(arg))
	case arg <= 0xffffffff:
		return append(b, m|26, byte(arg>>24), byte(arg>>16), byte(arg>>8), byte(arg))
	default:
		b = append(b, m|27)
		return binary.BigEndian.AppendUint64(b, arg)
	}
}

func appendUint(b []byte, v uint64) []byte { return appendHead(b, majorUint, v) }

func appendBytes(b, v []byte) []byte {
	return append(appendHead(b, majorBytes, uint64(len(v))), v...)
}

func appendText(b []byte, v string) []byte {
	return append(appendHead(b, majorText, uint64(len(v))), v...)
}

// appendCompactText writes s (valid UTF-8) as a text string, or as a byte
// string holding its UTF-16BE form when that is strictly shorter: a Han
// character takes 2 bytes in UTF-16 and 3 in UTF-8, an ASCII one 2 and 1.
func appendCompactText(b []byte, s string) []byte {
	u := utf16.Encode([]rune(s))
	if 2*len(u) >= len(s) {
		return appendText(b, s)
	}
	b = appendHead(b, majorBytes, uint64(2*len(u)))
	for _, v := range u {
		b = append(b, byte(v>>8), byte(v))
	}
	return b
}

// reader decodes the strict subset. The first error sticks; later calls
// return zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) failf(format string, args ...any) {
	r.fail(fmt.Errorf(format, args...))
}

// head reads one head and enforces the shortest argument encoding.
func (r *reader) head() (major byte, arg uint64) {
	if r.err != nil {
		return 0, 0
	}
	if len(r.b) == 0 {
		r.failf("%w: unexpected end of data", ErrMalformed)
		return 0, 0
	}
	ib := r.b[0]
	major, ai := ib>>5, ib&0x1f
	r.b = r.b[1:]
	var n int
	switch {
	case ai < 24:
		return major, uint64(ai)
	case ai == 24:
		n = 1
	case ai == 25:
		n = 2
	case ai == 26:
		n = 4
	case ai == 27:
		n = 8
	case ai == 31:
		r.failf("%w: %w: indefinite length", ErrMalformed, ErrNonCanonical)
		return 0, 0
	default:
		r.failf("%w: reserved additional information %d", ErrMalformed, ai)
		return 0, 0
	}
	if len(r.b) < n {
		r.failf("%w: unexpected end of data", ErrMalformed)
		return 0, 0
	}
	for i := 0; i < n; i++ {
		arg = arg<<8 | uint64(r.b[i])
	}
	r.b = r.b[n:]
	var min uint64
	switch n {
	case 1:
		min = 24
	case 2:
		min = 0x100
	case 4:
		min = 0x10000
	case 8:
		min = 0x100000000
	}
	if arg < min {
		r.failf("%w: %w: argument not in shortest form", ErrMalformed, ErrNonCanonical)
		return 0, 0
	}
	return major, arg
}

func (r *reader) expect(want, got byte, what string) bool {
	if r.err != nil {
		return false
	}
	if got != want {
		r.failf("%w: %w: %s: major type %d, want %d", ErrMalformed, ErrWrongType, what, got, want)
		return false
	}
	return true
}

// uint reads an unsigned integer no larger than max.
func (r *reader) uint(what string, max uint64) uint64 {
	m, v := r.head()
	if !r.expect(majorUint, m, what) {
		return 0
	}
	if v > max {
		r.failf("%w: %w: %s = %d, maximum %d", ErrMalformed, ErrTooLarge, what, v, max)
		return 0
	}
	return v
}

// bytes reads a byte string of length min..max. The result aliases the input.
func (r *reader) bytes(what string, min, max int) []byte {
	m, n := r.head()
	if !r.expect(majorBytes, m, what) {
		return nil
	}
	return r.take(what, n, min, max)
}

// text reads a UTF-8 text string of length min..max bytes.
func (r *reader) text(what string, min, max int) string {
	m, n := r.head()
	if !r.expect(majorText, m, what) {
		return ""
	}
	b := r.take(what, n, min, max)
	if r.err != nil {
		return ""
	}
	if !utf8.Valid(b) {
		r.failf("%w: %s: invalid UTF-8", ErrMalformed, what)
		return ""
	}
	return string(b)
}

// compactText reads what appendCompactText writes: a text string, or a
// byte string of well-formed UTF-16BE, of at most max bytes once in UTF-8.
// Each string has one form: the byte string exactly when it is shorter
// than the UTF-8 form.
func (r *reader) compactText(what string, max int) string {
	if r.err != nil {
		return ""
	}
	if len(r.b) == 0 || r.b[0]>>5 != majorBytes {
		s := r.text(what, 1, max)
		if r.err == nil && 2*utf16Len(s) < len(s) {
			r.failf("%w: %w: %s must be written in UTF-16", ErrMalformed, ErrNonCanonical, what)
			return ""
		}
		return s
	}
	b := r.bytes(what, 2, max)
	if r.err != nil {
		return ""
	}
	if len(b)%2 != 0 {
		r.failf("%w: %s: UTF-16 of odd length %d", ErrMalformed, what, len(b))
		return ""
	}
	rs := make([]rune, 0, len(b)/2)
	for i := 0; i < len(b); i += 2 {
		v := rune(b[i])<<8 | rune(b[i+1])
		switch {
		case utf16.IsSurrogate(v):
			if v >= 0xdc00 || i+3 >= len(b) {
				r.failf("%w: %s: unpaired UTF-16 surrogate", ErrMalformed, what)
				return ""
			}
			w := rune(b[i+2])<<8 | rune(b[i+3])
			v = utf16.DecodeRune(v, w)
			if v == utf8.RuneError {
				r.failf("%w: %s: unpaired UTF-16 surrogate", ErrMalformed, what)
				return ""
			}
			i += 2
		}
		rs = append(rs, v)
	}
	s := string(rs)
	switch {
	case len(s) > max:
		r.failf("%w: %w: %s is %d bytes in UTF-8, maximum %d", ErrMalformed, ErrTooLarge, what, len(s), max)
		return ""
	case len(b) >= len(s):
		r.failf("%w: %w: %s must be written in UTF-8", ErrMalformed, ErrNonCanonical, what)
		return ""
	}
	return s
}

// utf16Len returns the number of UTF-16 code units of valid UTF-8 s.
func utf16Len(s string) int {
	n := 0
	for _, c := range s {
		n += utf16.RuneLen(c)
	}
	return n
}

func (r *reader) take(what string, n uint64, min, max int) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(max) {
		r.failf("%w: %w: %s is %d bytes, maximum %d", ErrMalformed, ErrTooLarge, what, n, max)
		return nil
	}
	if n < uint64(min) {
		r.failf("%w: %s is %d bytes, minimum %d", ErrMalformed, what, n, min)
		return nil
	}
	if uint64(len(r.b)) < n {
		r.failf("%w: unexpected end of data", ErrMalformed)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// array reads an array head and returns its length, min..max.
func (r *reader) array(what string, min, max int) int {
	m, n := r.head()
	if !r.expect(majorArray, m, what) {
		return 0
	}
	if n > uint64(max) || n < uint64(min) {
		r.failf("%w: %s has %d elements, want %d..%d", ErrMalformed, what, n, min, max)
		return 0
	}
	return int(n)
}

// mapHead reads a map head and returns its number of pairs, at most max.
func (r *reader) mapHead(what string, max int) int {
	m, n := r.head()
	if !r.expect(majorMap, m, what) {
		return 0
	}
	if n > uint64(max) {
		r.failf("%w: %w: %s has %d keys, maximum %d", ErrMalformed, ErrUnknownKey, what, n, max)
		return 0
	}
	return int(n)
}

// keys iterates over the unsigned integer keys of a map with n pairs; fn
// reads the value and reports false for a key it does not know. Keys must be
// strictly increasing (the deterministic order for unsigned keys), which also
// excludes duplicates. seen receives one bit per key below 64.
func (r *reader) keys(what string, n int, fn func(key uint64) bool) (seen uint64) {
	var prev uint64
	for i := 0; i < n && r.err == nil; i++ {
		k := r.uint(what+" key", 63)
		if r.err != nil {
			return seen
		}
		if i > 0 && k == prev {
			r.failf("%w: %w: %s key %d", ErrMalformed, ErrDuplicateKey, what, k)
			return seen
		}
		if i > 0 && k < prev {
			if seen&(1<<k) != 0 {
				r.failf("%w: %w: %s key %d", ErrMalformed, ErrDuplicateKey, what, k)
			} else {
				r.failf("%w: %w: %s keys out of order", ErrMalformed, ErrNonCanonical, what)
			}
			return seen
		}
		prev = k
		seen |= 1 << k
		if !fn(k) {
			r.failf("%w: %w: %s key %d", ErrMalformed, ErrUnknownKey, what, k)
			return seen
		}
	}
	return seen
}

// requireKeys fails unless every bit of want is in seen.
func (r *reader) requireKeys(what string, seen, want uint64) {
	if r.err != nil {
		return
	}
	if missing := want &^ seen; missing != 0 {
		for k := 0; k < 64; k++ {
			if missing&(1<<k) != 0 {
				r.failf("%w: %w: %s key %d", ErrMalformed, ErrMissingKey, what, k)
				return
			}
		}
	}
}

// end fails when bytes remain.
func (r *reader) end(what string) {
	if r.err == nil && len(r.b) != 0 {
		r.failf("%w: %w: %d bytes after %s", ErrMalformed, ErrTrailingData, len(r.b), what)
	}
}

func keyBits(keys ...int) uint64 {
	var b uint64
	for _, k := range keys {
		b |= 1 << k
	}
	return b
}
