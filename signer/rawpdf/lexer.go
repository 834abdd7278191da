package rawpdf

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strconv"
)

func isWS(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

// lexer reads objects from data starting at pos.
type lexer struct {
	data  []byte
	pos   int
	depth int
}

func (l *lexer) errf(format string, a ...any) error {
	return fmt.Errorf("%w at offset %d: %s", ErrSyntax, l.pos, fmt.Sprintf(format, a...))
}

func (l *lexer) skipWS() {
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		if isWS(c) {
			l.pos++
		} else if c == '%' {
			for l.pos < len(l.data) && l.data[l.pos] != '\n' && l.data[l.pos] != '\r' {
				l.pos++
			}
		} else {
			return
		}
	}
}

// skipSpace skips white space only (not comments).
func (l *lexer) skipSpace() {
	for l.pos < len(l.data) && isWS(l.data[l.pos]) {
		l.pos++
	}
}

// keyword reads a regular-character token.
func (l *lexer) keyword() []byte {
	l.skipWS()
	s := l.pos
	for l.pos < len(l.data) && !isWS(l.data[l.pos]) && !isDelim(l.data[l.pos]) {
		l.pos++
	}
	return l.data[s:l.pos]
}

func (l *lexer) expect(kw string) error {
	if k := l.keyword(); string(k) != kw {
		return l.errf("want %q, got %q", kw, trunc(k))
	}
	return nil
}

func trunc(b []byte) string {
	if len(b) > 20 {
		b = b[:20]
	}
	return string(b)
}

// readInt reads an unsigned integer token.
func (l *lexer) readInt() (int, error) {
	k := l.keyword()
	if len(k) == 0 || len(k) > 18 {
		return 0, l.errf("want integer, got %q", trunc(k))
	}
	n := 0
	for _, c := range k {
		if c < '0' || c > '9' {
			return 0, l.errf("want integer, got %q", trunc(k))
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

const maxDepth = 64

// object reads one direct object (refs "n g R" included).
func (l *lexer) object() (Object, error) {
	l.skipWS()
	if l.pos >= len(l.data) {
		return nil, l.errf("unexpected end of data")
	}
	c := l.data[l.pos]
	switch {
	case c == '/':
		return l.name()
	case c == '(':
		return l.literal()
	case c == '<' && l.pos+1 < len(l.data) && l.data[l.pos+1] == '<':
		return l.dict()
	case c == '<':
		return l.hex()
	case c == '[':
		l.depth++
		if l.depth > maxDepth {
			return nil, l.errf("nesting too deep")
		}
		l.pos++
		var a Array
		for {
			l.skipWS()
			if l.pos >= len(l.data) {
				return nil, l.errf("unterminated array")
			}
			if l.data[l.pos] == ']' {
				l.pos++
				l.depth--
				return a, nil
			}
			o, err := l.object()
			if err != nil {
				return nil, err
			}
			a = append(a, o)
		}
	case c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9'):
		return l.number()
	}
	start := l.pos
	k := l.keyword()
	switch string(k) {
	case "true":
		return Bool(true), nil
	case "false":
		return Bool(false), nil
	case "null":
		return Null{}, nil
	}
	l.pos = start
	return nil, l.errf("unexpected token %q", trunc(k))
}

func (l *lexer) number() (Object, error) {
	k := l.keyword()
	if bytes.ContainsAny(k, ".") {
		f, err := strconv.ParseFloat(string(k), 64)
		if err != nil {
			return nil, l.errf("bad number %q", trunc(k))
		}
		return Real(f), nil
	}
	n, err := strconv.ParseInt(string(k), 10, 64)
	if err != nil {
		return nil, l.errf("bad number %q", trunc(k))
	}
	// "n g R"?
	if n >= 0 && k[0] != '+' && k[0] != '-' {
		save := l.pos
		g := l.keyword()
		if len(g) > 0 && len(g) <= 5 && allDigits(g) {
			r := l.keyword()
			if string(r) == "R" {
				gen, _ := strconv.Atoi(string(g))
				if n > 1<<31 {
					return nil, l.errf("object number too large")
				}
				return Ref{Num: int(n), Gen: gen}, nil
			}
		}
		l.pos = save
	}
	return Int(n), nil
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (l *lexer) name() (Object, error) {
	l.pos++ // '/'
	s := l.pos
	for l.pos < len(l.data) && !isWS(l.data[l.pos]) && !isDelim(l.data[l.pos]) {
		l.pos++
	}
	raw := l.data[s:l.pos]
	if bytes.IndexByte(raw, '#') < 0 {
		return Name(raw), nil
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] == '#' && i+2 < len(raw)+0 && i+2 <= len(raw)-1 {
			h, ok1 := unhex(raw[i+1])
			lo, ok2 := unhex(raw[i+2])
			if ok1 && ok2 {
				out = append(out, h<<4|lo)
				i += 2
				continue
			}
		}
		out = append(out, raw[i])
	}
	return Name(out), nil
}

func (l *lexer) hex() (Object, error) {
	start := l.pos
	l.pos++
	end := bytes.IndexByte(l.data[l.pos:], '>')
	if end < 0 {
		return nil, l.errf("unterminated hex string")
	}
	body := l.data[l.pos : l.pos+end]
	l.pos += end + 1
	if len(body)%2 == 0 {
		// Fast path: no white space, an even number of digits (the usual
		// form, and that of signature /Contents).
		out := make([]byte, len(body)/2)
		if _, err := hex.Decode(out, body); err == nil {
			return String{Value: out, Hex: true, Start: start, End: l.pos}, nil
		}
	}
	out := make([]byte, 0, len(body)/2+1)
	var hi byte
	half := false
	for _, c := range body {
		if isWS(c) {
			continue
		}
		v, ok := unhex(c)
		if !ok {
			return nil, l.errf("bad hex digit")
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	return String{Value: out, Hex: true, Start: start, End: l.pos}, nil
}

func (l *lexer) literal() (Object, error) {
	start := l.pos
	l.pos++
	var out []byte
	depth := 1
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		l.pos++
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return String{Value: out, Start: start, End: l.pos}, nil
			}
		case '\\':
			if l.pos >= len(l.data) {
				return nil, l.errf("unterminated string")
			}
			e := l.data[l.pos]
			l.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if l.pos < len(l.data) && l.data[l.pos] == '\n' {
					l.pos++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for i := 0; i < 2 && l.pos < len(l.data) && l.data[l.pos] >= '0' && l.data[l.pos] <= '7'; i++ {
						v = v*8 + int(l.data[l.pos]-'0')
						l.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		out = append(out, c)
	}
	return nil, l.errf("unterminated string")
}

func (l *lexer) dict() (Object, error) {
	l.depth++
	if l.depth > maxDepth {
		return nil, l.errf("nesting too deep")
	}
	l.pos += 2
	d := Dict{}
	for {
		l.skipWS()
		if l.pos+1 < len(l.data) && l.data[l.pos] == '>' && l.data[l.pos+1] == '>' {
			l.pos += 2
			l.depth--
			return d, nil
		}
		if l.pos >= len(l.data) || l.data[l.pos] != '/' {
			return nil, l.errf("want name key in dictionary")
		}
		k, _ := l.name()
		v, err := l.object()
		if err != nil {
			return nil, err
		}
		if _, isNull := v.(Null); !isNull {
			d[k.(Name)] = v
		}
	}
}
