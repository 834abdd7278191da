package qrtoken

import (
	"fmt"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// PathPrefix separates the public base URL from the token digits in the
// printed text: <base>/V/<digits>.
const PathPrefix = "/V/"

// MaxTextSize is the longest text ParseText accepts.
const MaxTextSize = 2048

// digitsFor[k] is the number of decimal digits that carry a group of k
// bytes: the fewest digits that hold every value below 256^k. Full groups
// are 7 bytes → 17 digits.
var digitsFor = [8]int{0, 3, 5, 8, 10, 13, 15, 17}

// groupFor maps a digit count back to a byte count (0 = not a valid length).
var groupFor = func() (m [18]int) {
	for k := 1; k <= 7; k++ {
		m[digitsFor[k]] = k
	}
	return m
}()

// Digits encodes b as decimal digits: each group of 7 bytes, read as a
// big-endian unsigned number, is written as exactly 17 digits with leading
// zeros; a last partial group of k = 1..6 bytes is written as exactly 3, 5,
// 8, 10, 13 or 15 digits (the fewest that hold 256^k − 1).
func Digits(b []byte) string {
	n := len(b) / 7 * 17
	if r := len(b) % 7; r > 0 {
		n += digitsFor[r]
	}
	out := make([]byte, n)
	pos := 0
	for len(b) > 0 {
		k := min(7, len(b))
		var v uint64
		for _, c := range b[:k] {
			v = v<<8 | uint64(c)
		}
		w := digitsFor[k]
		for i := w - 1; i >= 0; i-- {
			out[pos+i] = byte('0' + v%10)
			v /= 10
		}
		pos += w
		b = b[k:]
	}
	return string(out)
}

// DecodeDigits reverses Digits. It rejects any character other than 0-9, a
// length whose last group is not 3, 5, 8, 10, 13, 15 or 17 digits, and a
// group whose value does not fit its byte count (so every byte string has
// exactly one digit form). Errors wrap ErrMalformed.
func DecodeDigits(s string) ([]byte, error) {
	if len(s) > MaxTextSize {
		return nil, fmt.Errorf("%w: %w: text is %d characters", ErrMalformed, ErrTooLarge, len(s))
	}
	rem := len(s) % 17
	k := groupFor[rem]
	if rem != 0 && k == 0 || len(s) == 0 {
		return nil, fmt.Errorf("%w: %d digits is not a valid length", ErrMalformed, len(s))
	}
	out := make([]byte, 0, len(s)/17*7+k)
	for len(s) > 0 {
		w := min(17, len(s))
		k := groupFor[w]
		var v uint64
		for i := 0; i < w; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return nil, fmt.Errorf("%w: character %q is not a digit", ErrMalformed, c)
			}
			v = v*10 + uint64(c-'0')
		}
		if k < 8 && v>>(8*uint(k)) != 0 {
			return nil, fmt.Errorf("%w: %w: digit group %s exceeds %d bytes", ErrMalformed, ErrNonCanonical, s[:w], k)
		}
		for i := k - 1; i >= 0; i-- {
			out = append(out, byte(v>>(8*uint(i))))
		}
		s = s[w:]
	}
	return out, nil
}

// Text returns the printed form of a token: base (upper-cased, any trailing
// slash removed) + "/V/" + Digits(token). With base "" it returns the bare
// digits. An upper-case base keeps the whole text in the QR alphanumeric and
// numeric modes.
func Text(token []byte, base string) string {
	d := Digits(token)
	if base == "" {
		return d
	}
	return strings.ToUpper(strings.TrimRight(base, "/")) + PathPrefix + d
}

// tokenBytesFromText extracts the token bytes from a URL or bare digits.
func tokenBytesFromText(s string) ([]byte, error) {
	if len(s) > MaxTextSize {
		return nil, fmt.Errorf("%w: %w: text is %d characters", ErrMalformed, ErrTooLarge, len(s))
	}
	s = strings.Trim(s, " \t\r\n")
	if i := lastIndexFold(s, PathPrefix); i >= 0 {
		s = s[i+len(PathPrefix):]
	}
	return DecodeDigits(s)
}

// lastIndexFold is strings.LastIndex with ASCII case folding for sep "/V/".
func lastIndexFold(s, sep string) int {
	for i := len(s) - len(sep); i >= 0; i-- {
		if strings.EqualFold(s[i:i+len(sep)], sep) {
			return i
		}
	}
	return -1
}

// ParseText parses the printed form of a token: either a URL
// "<any base>/V/<digits>" (the "/V/" matched without regard to case, the last
// occurrence used) or bare digits; surrounding spaces and line breaks are
// ignored. The digits are decoded with DecodeDigits and the token with Parse.
func ParseText(s string) (*Token, error) {
	b, err := tokenBytesFromText(s)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// ECLevel is a QR error-correction level.
type ECLevel int

// QR error-correction levels (ISO/IEC 18004): L ≈ 7 %, M ≈ 15 %, Q ≈ 25 %,
// H ≈ 30 % of the code words can be restored.
const (
	LevelL ECLevel = iota
	LevelM
	LevelQ
	LevelH
)

// QRVersion returns the smallest QR version (1..40) that holds text at
// level, as chosen by github.com/skip2/go-qrcode (which splits the text into
// numeric, alphanumeric and byte segments), or 0 when it does not fit or the
// level is unknown.
func QRVersion(text string, level ECLevel) (v int) {
	defer func() {
		if recover() != nil {
			v = 0
		}
	}()
	var l qrcode.RecoveryLevel
	switch level {
	case LevelL:
		l = qrcode.Low
	case LevelM:
		l = qrcode.Medium
	case LevelQ:
		l = qrcode.High
	case LevelH:
		l = qrcode.Highest
	default:
		return 0
	}
	q, err := qrcode.New(text, l)
	if err != nil {
		return 0
	}
	return q.VersionNumber
}
