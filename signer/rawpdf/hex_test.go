package rawpdf

import (
	"bytes"
	"testing"
)

// TestLexHexString covers both decoding paths of hex strings: the fast one
// (an even number of digits, no white space) and the general one.
func TestLexHexString(t *testing.T) {
	tests := []struct {
		name, in string
		want     []byte
		bad      bool
	}{
		{name: "empty", in: "<>", want: []byte{}},
		{name: "even", in: "<00ff10A0b1c2d3e4f5>", want: []byte{0x00, 0xff, 0x10, 0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5}},
		{name: "odd digit count pads with 0", in: "<abc>", want: []byte{0xab, 0xc0}},
		{name: "white space", in: "<0a 0b\n0c\r\n0d\t0e0f1011>", want: []byte{0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11}},
		{name: "white space, even length", in: "<0a 0b >", want: []byte{0x0a, 0x0b}},
		{name: "bad digit", in: "<0g>", bad: true},
		{name: "bad digit in a long string", in: "<00112233445566778899x0>", bad: true},
		{name: "unterminated", in: "<0011", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &lexer{data: []byte(tc.in)}
			o, err := l.hex()
			if tc.bad {
				if err == nil {
					t.Fatalf("accepted: %v", o)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := o.(String)
			if !bytes.Equal(s.Value, tc.want) || !s.Hex || s.Start != 0 || s.End != len(tc.in) {
				t.Fatalf("got %+v", s)
			}
		})
	}
}
