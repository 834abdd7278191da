package templates

import (
	"strconv"
	"strings"
	"unicode"
)

const ptPerMM = 72 / 25.4

// noLineStart are characters that must not begin a line (行首禁则).
const noLineStart = "，。、；：？！）》」』】〕,.;:?!)]}%"

// wordRune reports whether r belongs to a Latin word that should not be broken.
func wordRune(r rune) bool {
	return r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_./@:#+", r))
}

// textWidth returns the width of s in points at size.
func (f *sfnt) textWidth(s []rune, size float64) float64 {
	w := 0.0
	for _, r := range s {
		w += f.width(r)
	}
	return w * size / 1000
}

// wrap breaks s into lines no wider than width points: CJK characters break
// anywhere (except before closing punctuation), Latin words only at their
// edges unless a word alone is wider than the line; "\n" forces a break.
// It never clips: a caller compares len(lines) with the field's maximum.
func (f *sfnt) wrap(s string, size, width float64) [][]rune {
	var lines [][]rune
	for _, para := range strings.Split(s, "\n") {
		rs := []rune(strings.TrimRight(para, " "))
		// tokens: a Latin word, or a single other character
		var line []rune
		w := 0.0
		flush := func() {
			lines = append(lines, trimSpaces(line))
			line, w = nil, 0
		}
		for i := 0; i < len(rs); {
			j := i + 1
			if wordRune(rs[i]) {
				for j < len(rs) && wordRune(rs[j]) {
					j++
				}
			}
			tok := rs[i:j]
			tw := f.textWidth(tok, size)
			switch {
			case w+tw <= width+1e-6:
				line = append(line, tok...)
				w += tw
			case len(tok) == 1 && strings.ContainsRune(noLineStart, tok[0]) && len(line) > 1 && !wordRune(line[len(line)-1]):
				// carry the previous character down with the punctuation
				prev := line[len(line)-1]
				line = line[:len(line)-1]
				flush()
				line = []rune{prev, tok[0]}
				w = f.textWidth(line, size)
			case tw > width:
				// a word wider than the line: break it by characters
				for _, r := range tok {
					rw := f.width(r) * size / 1000
					if w+rw > width+1e-6 && len(line) > 0 {
						flush()
					}
					line = append(line, r)
					w += rw
				}
			default:
				if len(line) > 0 {
					flush()
				}
				if tok[0] == ' ' {
					break
				}
				line = append(line, tok...)
				w = tw
			}
			i = j
		}
		flush()
	}
	return lines
}

func trimSpaces(r []rune) []rune {
	for len(r) > 0 && r[0] == ' ' {
		r = r[1:]
	}
	for len(r) > 0 && r[len(r)-1] == ' ' {
		r = r[:len(r)-1]
	}
	return r
}

// num appends v with at most three decimals.
func num(b []byte, v float64) []byte {
	r := float64(int64(v*1000+copysignHalf(v))) / 1000
	if r == 0 {
		return append(b, '0')
	}
	return strconv.AppendFloat(b, r, 'f', -1, 64)
}

func copysignHalf(v float64) float64 {
	if v < 0 {
		return -0.5
	}
	return 0.5
}

// rgb appends a colour operator for #RRGGBB (black when empty).
func rgb(b []byte, hex string, op string) []byte {
	var c [3]float64
	if len(hex) == 7 {
		for i := 0; i < 3; i++ {
			v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
			c[i] = float64(v) / 255
		}
	}
	for i := 0; i < 3; i++ {
		b = num(b, c[i])
		b = append(b, ' ')
	}
	return append(b, op...)
}
