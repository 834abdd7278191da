package catalog

import (
	"strconv"
	"strings"
	"time"
)

// IdentifierRoot is the constant root code of every GB/T 36904 identifier.
const IdentifierRoot = "1.2.156.3005.2"

const mod3736Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// IdentifierCheck computes the ISO/IEC 7064 MOD 37,36 check character over the
// concatenation of the identifier parts (type code, issuer code, serial, version),
// dots and root removed. It reports false when a character is outside 0-9A-Z.
func IdentifierCheck(body string) (byte, bool) {
	p := 36
	for i := 0; i < len(body); i++ {
		v := strings.IndexByte(mod3736Alphabet, body[i])
		if v < 0 {
			return 0, false
		}
		p = (p + v) % 36
		if p == 0 {
			p = 36
		}
		p = (2 * p) % 37
	}
	return mod3736Alphabet[(37-p)%36], true
}

// IdentifierParts are the parts of a GB/T 36904 identifier.
type IdentifierParts struct {
	TypeCode   string
	IssuerCode string
	Serial     string
	Version    string
	Check      byte
}

// FormatIdentifier builds an identifier with its correct check character.
// The parts must already be valid (see ParseIdentifier for the rules).
func FormatIdentifier(typeCode, issuerCode, serial string, version int) string {
	v := threeDigits(version)
	body := typeCode + issuerCode + serial + v
	c, _ := IdentifierCheck(body)
	return IdentifierRoot + "." + typeCode + "." + issuerCode + "." + serial + "." + v + "." + string(c)
}

func threeDigits(n int) string {
	if n < 0 {
		n = 0
	}
	b := []byte{'0' + byte(n/100%10), '0' + byte(n/10%10), '0' + byte(n%10)}
	return string(b)
}

// ParseIdentifier splits a GB/T 36904 identifier and checks its structure.
// A structural problem is returned as an error wrapping ErrInvalid. A wrong
// check character is not an error: checkOK is false, and callers treat it as a
// warning for identifiers made by other issuers.
func ParseIdentifier(id string) (parts IdentifierParts, checkOK bool, err error) {
	if !strings.HasPrefix(id, IdentifierRoot+".") {
		return parts, false, invalid("identifier", "root code is not "+IdentifierRoot)
	}
	f := strings.Split(id[len(IdentifierRoot)+1:], ".")
	if len(f) != 5 {
		return parts, false, invalid("identifier", "want five parts after the root")
	}
	parts = IdentifierParts{TypeCode: f[0], IssuerCode: f[1], Serial: f[2], Version: f[3]}
	switch {
	case len(f[0]) != 21 || !isUpperAlnum(f[0]):
		return parts, false, invalid("identifier", "type code must be 21 characters 0-9A-Z")
	case len(f[1]) != 18 && len(f[1]) != 6 || !isUpperAlnum(f[1]):
		return parts, false, invalid("identifier", "issuer code must be 18 characters 0-9A-Z")
	case len(f[2]) < 1 || len(f[2]) > 32 || !isUpperAlnum(f[2]):
		return parts, false, invalid("identifier", "serial must be 1 to 32 characters 0-9A-Z")
	case len(f[3]) != 3 || !isDigits(f[3]):
		return parts, false, invalid("identifier", "version must be 3 digits")
	case len(f[4]) != 1 || !isUpperAlnum(f[4]):
		return parts, false, invalid("identifier", "check must be one character 0-9A-Z")
	}
	parts.Check = f[4][0]
	want, _ := IdentifierCheck(f[0] + f[1] + f[2] + f[3])
	return parts, want == parts.Check, nil
}

func isUpperAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// Problem codes of the code validators; they appear in FieldError.Code.
const (
	CodeBadLength   = "bad_length"
	CodeBadChar     = "bad_character"
	CodeBadDate     = "bad_date"
	CodeBadCheck    = "bad_check"
	CodeRequired    = "required"
	CodeTooLong     = "too_long"
	CodeBadOption   = "bad_option"
	CodeMismatch    = "mismatch"
	CodeUnknownItem = "unknown_item"
	CodeBadValue    = "bad_value"
	// CodeNumberCell: a code a spreadsheet turned into a number (shown in
	// scientific notation; its last digits are lost).
	CodeNumberCell = "number_cell"
)

// CheckIDNumber validates a GB 11643 resident ID number: 18 characters, a
// real birth date not after today, and the ISO 7064 MOD 11-2 check character.
// A lower-case x is accepted only after upper-casing by the caller: pass
// NormalizeIDNumber(s). It returns the problem code and a Chinese message, or
// empty strings when the number is valid.
func CheckIDNumber(s string, today time.Time) (code, msg string) {
	if len(s) != 18 {
		return CodeBadLength, "身份证号应为18位"
	}
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return CodeBadChar, "身份证号前17位应为数字"
		}
	}
	if c := s[17]; !(c >= '0' && c <= '9' || c == 'X') {
		return CodeBadChar, "身份证号校验位应为数字或X"
	}
	birth, err := time.Parse("20060102", s[6:14])
	if err != nil || birth.Year() < 1900 {
		return CodeBadDate, "身份证号中的出生日期无效"
	}
	if !today.IsZero() {
		y, m, d := today.Date()
		if birth.After(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)) {
			return CodeBadDate, "身份证号中的出生日期晚于今天"
		}
	}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(s[i]-'0') * idWeights[i]
	}
	if "10X98765432"[sum%11] != s[17] {
		return CodeBadCheck, "身份证号校验位错误"
	}
	return "", ""
}

// NormalizeIDNumber upper-cases a trailing x and trims spaces.
func NormalizeIDNumber(s string) string {
	return strings.ToUpper(strings.TrimSpace(s))
}

// IDBirthDate returns the birth date (YYYY-MM-DD) in a valid ID number.
func IDBirthDate(id string) string {
	if len(id) != 18 {
		return ""
	}
	return id[6:10] + "-" + id[10:12] + "-" + id[12:14]
}

// IDGender returns 男 or 女 from the sequence digit of a valid ID number.
func IDGender(id string) string {
	if len(id) != 18 || id[16] < '0' || id[16] > '9' {
		return ""
	}
	if (id[16]-'0')%2 == 1 {
		return "男"
	}
	return "女"
}

const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// CheckUSCC validates a GB 32100 unified social credit code: 18 characters of
// the 31-character alphabet and the mod 31 check character. The inner GB 11714
// check of the organisation code is reported separately by USCCInnerCheck,
// as a warning only.
func CheckUSCC(s string) (code, msg string) {
	if len(s) != 18 {
		return CodeBadLength, "统一社会信用代码应为18位"
	}
	sum := 0
	for i := 0; i < 18; i++ {
		v := strings.IndexByte(usccAlphabet, s[i])
		if v < 0 {
			return CodeBadChar, "统一社会信用代码含有无效字符"
		}
		if i < 17 {
			sum += v * usccWeights[i]
		}
	}
	if usccAlphabet[(31-sum%31)%31] != s[17] {
		return CodeBadCheck, "统一社会信用代码校验位错误"
	}
	return "", ""
}

// USCCCheckChar computes the check character for the first 17 characters of a
// unified social credit code.
func USCCCheckChar(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(usccAlphabet, first17[i])
		if v < 0 {
			return 0, false
		}
		sum += v * usccWeights[i]
	}
	return usccAlphabet[(31-sum%31)%31], true
}

// IDCheckChar computes the check character for the first 17 digits of an ID number.
func IDCheckChar(first17 string) (byte, bool) {
	if len(first17) != 17 || !isDigits(first17) {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * idWeights[i]
	}
	return "10X98765432"[sum%11], true
}

var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// USCCInnerCheck reports whether the GB 11714 organisation code inside a
// well-formed USCC (characters 9 to 17) carries its correct check character.
// Many real codes issued before 2015 do not; treat false as a warning.
func USCCInnerCheck(s string) bool {
	if len(s) != 18 {
		return false
	}
	org := s[8:17]
	sum := 0
	for i := 0; i < 8; i++ {
		c := org[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			return false
		}
		sum += v * orgWeights[i]
	}
	var want byte
	switch r := 11 - sum%11; r {
	case 10:
		want = 'X'
	case 11:
		want = '0'
	default:
		want = byte('0' + r)
	}
	return org[8] == want
}

// NormalizeDate returns the YYYY-MM-DD form of a date written as Chinese
// spreadsheets and their CSV exports show it: 2026/1/31, 2026-1-31,
// 2026.1.31 (one separator throughout), 2026年1月31日, 20260131, any of the
// separated forms followed by a midnight time (2026/1/31 0:00, 00:00:00).
// Anything else, and a form that is no calendar date, comes back unchanged
// (and fails the date check as before).
func NormalizeDate(s string) string {
	if len(s) == 10 && s[4] == '-' && s[7] == '-' {
		return s // the canonical form (checked by the caller)
	}
	y, m, d, ok := splitDate(s)
	if !ok {
		return s
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return s // 2026/2/30
	}
	return t.Format(DateLayout)
}

// splitDate reads the numbers of the forms NormalizeDate accepts.
func splitDate(s string) (y, m, d int, ok bool) {
	num := func(p string, min, max int) (int, bool) {
		if len(p) < min || len(p) > max || !isDigits(p) {
			return 0, false
		}
		v, err := strconv.Atoi(p)
		return v, err == nil
	}
	if len(s) == 8 && isDigits(s) {
		y, _ = num(s[:4], 4, 4)
		m, _ = num(s[4:6], 2, 2)
		d, _ = num(s[6:], 2, 2)
		return y, m, d, true
	}
	if rest, found := strings.CutSuffix(s, "日"); found {
		ys, rest, ok1 := strings.Cut(rest, "年")
		ms, ds, ok2 := strings.Cut(rest, "月")
		if !ok1 || !ok2 {
			return 0, 0, 0, false
		}
		var ok3, ok4, ok5 bool
		y, ok3 = num(ys, 4, 4)
		m, ok4 = num(ms, 1, 2)
		d, ok5 = num(ds, 1, 2)
		return y, m, d, ok3 && ok4 && ok5
	}
	date, clock, hasClock := strings.Cut(s, " ")
	if hasClock && clock != "0:00" && clock != "00:00" && clock != "0:00:00" && clock != "00:00:00" {
		return 0, 0, 0, false
	}
	for _, sep := range []string{"-", "/", "."} {
		parts := strings.Split(date, sep)
		if len(parts) != 3 {
			continue
		}
		var ok1, ok2, ok3 bool
		y, ok1 = num(parts[0], 4, 4)
		m, ok2 = num(parts[1], 1, 2)
		d, ok3 = num(parts[2], 1, 2)
		return y, m, d, ok1 && ok2 && ok3
	}
	return 0, 0, 0, false
}
