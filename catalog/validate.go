package catalog

import (
	"encoding/base64"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultMaxLength applies to items that set no MaxLength.
const DefaultMaxLength = 200

// ValidateRow checks a data row against its license type: unknown items,
// required items, lengths, dates, enums, holder codes (ID number or USCC), and
// the birth date and gender of a natural person against the ID number. It
// returns every problem at once, ordered as the type's items, or nil.
// today bounds birth dates; pass the service clock's date.
//
// Values are normalised in place: surrounding spaces trimmed, a trailing x of an
// ID number upper-cased, a date written as a spreadsheet shows it turned into
// YYYY-MM-DD (NormalizeDate), full-width digits and letters in codes, dates
// and phone numbers made half-width.
func ValidateRow(t *LicenseType, row map[string]string, today time.Time) *ValidationError {
	var probs []FieldError
	add := func(item, code, msg string) { probs = append(probs, FieldError{Item: item, Code: code, Message: msg}) }
	known := make(map[string]bool, len(t.Items))
	for _, it := range t.Items {
		known[it.Key] = true
	}
	var unknown []string
	for k := range row {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		add(k, CodeUnknownItem, "未知的数据项")
	}
	for _, it := range t.Items {
		v, ok := row[it.Key]
		if ok {
			v = strings.TrimSpace(v)
			switch it.Type {
			case TypeIDNumber, TypeUSCC, TypeDate, TypeDateLong, TypePhone:
				// Codes, dates and numbers typed with an input method's
				// full-width forms (３４０２…, ２０２６年１月): half-width.
				v = narrow(v)
			}
			switch it.Type {
			case TypeIDNumber:
				v = NormalizeIDNumber(v)
			case TypeDate, TypeDateLong:
				v = NormalizeDate(v)
			}
			row[it.Key] = v
		}
		if v == "" {
			if it.Required {
				add(it.Key, CodeRequired, it.Label+"不能为空")
			}
			continue
		}
		if !utf8.ValidString(v) {
			add(it.Key, CodeBadChar, it.Label+"含有无效的字符编码")
			continue
		}
		if it.Type != TypeImage {
			max := it.MaxLength
			if max <= 0 {
				max = DefaultMaxLength
			}
			if n := utf8.RuneCountInString(v); n > max {
				add(it.Key, CodeTooLong, it.Label+"超过最大长度"+itoa(max)+"个字符")
				continue
			}
			if hasControl(v) {
				add(it.Key, CodeBadChar, it.Label+"含有控制字符")
				continue
			}
		}
		switch it.Type {
		case TypeDate:
			if !validDate(v) {
				add(it.Key, CodeBadDate, it.Label+"不是有效日期(YYYY-MM-DD)")
			}
		case TypeDateLong:
			if v != LongTerm && !validDate(v) {
				add(it.Key, CodeBadDate, it.Label+"应为有效日期(YYYY-MM-DD)或“长期”")
			}
		case TypeIDNumber, TypeUSCC:
			if scientific(v) {
				add(it.Key, CodeNumberCell, it.Label+"被表格存成了数字（"+v+"），末几位已丢失：请把该列设为文本格式，重新录入后再上传")
				continue
			}
			check := CheckUSCC
			if it.Type == TypeIDNumber {
				check = func(s string) (string, string) { return CheckIDNumber(s, today) }
			}
			if code, msg := check(v); code != "" {
				add(it.Key, code, msg)
			}
		case TypeEnum:
			if !contains(it.Options, v) {
				add(it.Key, CodeBadOption, it.Label+"应为以下之一："+strings.Join(it.Options, "、"))
			}
		case TypePhone:
			if !validPhone(v) {
				add(it.Key, CodeBadValue, it.Label+"只能包含数字、空格和连字符")
			}
		case TypeImage:
			if !validImage(v) {
				add(it.Key, CodeBadValue, it.Label+"应为base64编码的PNG或JPEG图片(不超过512KB)")
			}
		}
	}
	probs = append(probs, crossChecks(t, row, probs)...)
	if len(probs) == 0 {
		return nil
	}
	return &ValidationError{Problems: probs}
}

// crossChecks compares items with each other once each is valid on its own.
func crossChecks(t *LicenseType, row map[string]string, found []FieldError) []FieldError {
	bad := make(map[string]bool, len(found))
	for _, p := range found {
		bad[p.Item] = true
	}
	var out []FieldError
	if t.Holder == NaturalPerson && !bad["holder_code"] && row["holder_code"] != "" {
		id := row["holder_code"]
		if it, ok := t.Item("birth_date"); ok && !bad["birth_date"] && row["birth_date"] != "" && row["birth_date"] != IDBirthDate(id) {
			out = append(out, FieldError{Item: "birth_date", Code: CodeMismatch, Message: it.Label + "与身份证号不一致"})
		}
		if it, ok := t.Item("gender"); ok && !bad["gender"] && row["gender"] != "" && row["gender"] != IDGender(id) {
			out = append(out, FieldError{Item: "gender", Code: CodeMismatch, Message: it.Label + "与身份证号不一致"})
		}
	}
	if !bad["valid_from"] && !bad["valid_until"] {
		from, until := row["valid_from"], row["valid_until"]
		if validDate(from) && validDate(until) && until < from {
			out = append(out, FieldError{Item: "valid_until", Code: CodeBadDate, Message: "有效期截止日期早于起始日期"})
		}
	}
	return out
}

func validDate(s string) bool {
	if len(s) != 10 {
		return false
	}
	d, err := time.Parse(DateLayout, s)
	return err == nil && d.Year() >= 1900 && d.Year() <= 2999
}

func validPhone(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '-' || r == ' ' || r == '+':
		default:
			return false
		}
	}
	return digits >= 3
}

// MaxImageBytes bounds a decoded image item.
const MaxImageBytes = 512 << 10

func validImage(s string) bool {
	if base64.StdEncoding.DecodedLen(len(s)) > MaxImageBytes+3 {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) > MaxImageBytes {
		return false
	}
	png := len(b) > 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n"
	jpeg := len(b) > 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF
	return png || jpeg
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\n' || r == 0x7F || r >= 0x80 && r < 0xA0 || r == 0xFFFD {
			return true
		}
	}
	return false
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// scientific reports a number in scientific notation, as a spreadsheet
// shows a long code stored as a number: 3.40202E+17, 3.40202199003071E+17.
func scientific(s string) bool {
	mant, exp, ok := strings.Cut(strings.ToUpper(s), "E+")
	if !ok || !isDigits(exp) || mant == "" {
		return false
	}
	whole, frac, dotted := strings.Cut(mant, ".")
	return len(whole) == 1 && isDigits(whole) && (!dotted || isDigits(frac))
}

// narrow turns the full-width forms of ASCII (U+FF01–U+FF5E) and the
// ideographic space into ASCII.
func narrow(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			return r - 0xFEE0
		case r == 0x3000:
			return ' '
		}
		return r
	}, s)
}
