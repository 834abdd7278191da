package templates

import (
	"errors"
	"math/bits"
	"sync"
)

// This file is the QR code encoder (ISO/IEC 18004:2015, model 2) at error
// correction level Q. The text is split into numeric, alphanumeric and byte
// segments with the fewest bits (a printed token "HTTPS://HOST/V/<digits>"
// becomes one alphanumeric and one numeric segment), the smallest version
// that holds them is chosen, and of the 8 masks the one with the lowest
// penalty (rules N1–N4 of the standard, scored as in ZXing) is kept, the lower
// mask number on a tie. Rows and columns are held as bit sets, so a mask is
// applied and scored with word operations. Everything that depends only on
// the version (function patterns, module order, mask and format bits, the
// Reed–Solomon products) is built once per version and process.

// errQRTooLong is returned for a text that no QR version holds at level Q.
var errQRTooLong = errors.New("qrcode: text too long for a QR code at level Q")

// qrMaxText bounds the text length looked at (version 40-Q holds 3,993
// digits).
const qrMaxText = 4000

// qrLine is one row or column of a symbol: bit i is module i (1 = dark).
// Version 40 has 177 modules, so three words hold any line.
type qrLine [3]uint64

// Level Q parameters per version (index 0 unused): error correction
// codewords per block and number of blocks (ISO/IEC 18004 table 9).
var (
	qrECCPerBlock = [41]int{0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30, 28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30}
	qrNumBlocks   = [41]int{0, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20, 23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68}
)

// qrRawModules is the number of data and error correction modules of a
// version: the symbol less the function patterns, format and version info.
func qrRawModules(v int) int {
	n := (16*v+128)*v + 64
	if v >= 2 {
		a := v/7 + 2
		n -= (25*a-10)*a - 55
		if v >= 7 {
			n -= 36
		}
	}
	return n
}

// qrDataCodewords is the number of data codewords of a version at level Q.
func qrDataCodewords(v int) int {
	return qrRawModules(v)/8 - qrECCPerBlock[v]*qrNumBlocks[v]
}

// Segment modes.
const (
	qrNumeric = iota
	qrAlnum
	qrByte
)

// qrModeIndicator is the 4-bit mode indicator of each mode.
var qrModeIndicator = [3]uint32{1, 2, 4}

// qrCountBits is the width of the character count of each mode for versions
// 1–9, 10–26 and 27–40.
var qrCountBits = [3][3]int{{10, 12, 14}, {9, 11, 13}, {8, 16, 16}}

func qrGroup(v int) int {
	switch {
	case v <= 9:
		return 0
	case v <= 26:
		return 1
	}
	return 2
}

// qrAlnumValue maps a byte to its alphanumeric-mode value, or -1.
var qrAlnumValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i, c := range "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:" {
		t[c] = int8(i)
	}
	return t
}()

// qrSegment is text[start:end] in one mode.
type qrSegment struct {
	mode       int
	start, end int
}

// qrSegmentBits is the encoded length of a segment, header included.
func qrSegmentBits(s qrSegment, g int) int {
	n := s.end - s.start
	b := 4 + qrCountBits[s.mode][g]
	switch s.mode {
	case qrNumeric:
		b += n/3*10 + [3]int{0, 4, 7}[n%3]
	case qrAlnum:
		b += n/2*11 + n%2*6
	default:
		b += n * 8
	}
	return b
}

// qrSegments splits text into the segments with the fewest bits for the
// count widths of version group g, and returns them with their length in
// bits. It is the dynamic programme over (position, mode) of Nayuki's QR
// library: costs are in sixths of a bit (a digit costs 10/3 bits, an
// alphanumeric character 11/2), and a segment's cost is rounded up to whole
// bits where it ends.
func qrSegments(text string, g int) ([]qrSegment, int) {
	n := len(text)
	if n == 0 {
		return nil, 0
	}
	var head [3]int
	for m := range head {
		head[m] = (4 + qrCountBits[m][g]) * 6
	}
	// from[i][j]: the mode of byte i when the state after it is j (the mode
	// the next byte continues in); -1 when unreachable.
	from := make([][3]int8, n)
	const inf = 1 << 60
	pn, pa, pb := head[0], head[1], head[2] // cost of bytes 0..i-1 by state
	for i := 0; i < n; i++ {
		c := text[i]
		// Extend the segment of each mode by byte i where the mode holds it.
		cn, ca, cb := inf, inf, pb+48
		fm := [3]int8{-1, -1, qrByte}
		if c-'0' <= 9 {
			cn, fm[qrNumeric] = pn+20, qrNumeric
		}
		if qrAlnumValue[c] >= 0 {
			ca, fm[qrAlnum] = pa+33, qrAlnum
		}
		// Starting a segment in mode j after byte i costs the cheapest way
		// to end here, rounded up to whole bits, plus j's header.
		best, bk := (cn+5)/6*6, int8(qrNumeric) // the lower mode on a tie
		if e := (ca + 5) / 6 * 6; e < best {
			best, bk = e, qrAlnum
		}
		if e := (cb + 5) / 6 * 6; e < best {
			best, bk = e, qrByte
		}
		if e := best + head[0]; e < cn {
			cn, fm[0] = e, bk
		}
		if e := best + head[1]; e < ca {
			ca, fm[1] = e, bk
		}
		if e := best + head[2]; e < cb {
			cb, fm[2] = e, bk
		}
		from[i], pn, pa, pb = fm, cn, ca, cb
	}
	prev := [3]int{pn, pa, pb}
	best, cost := 0, -1
	for m := range 3 {
		if c := (prev[m] + 5) / 6; from[n-1][m] >= 0 && (cost < 0 || c < cost) {
			best, cost = m, c
		}
	}
	var segs []qrSegment
	for i := n - 1; i >= 0; i-- {
		m := int(from[i][best])
		if i == n-1 || m != segs[len(segs)-1].mode {
			if len(segs) > 0 {
				segs[len(segs)-1].start = i + 1
			}
			segs = append(segs, qrSegment{mode: m, end: i + 1})
		}
		best = m
	}
	segs[len(segs)-1].start = 0
	for i, j := 0, len(segs)-1; i < j; i, j = i+1, j-1 {
		segs[i], segs[j] = segs[j], segs[i]
	}
	total := 0
	for _, s := range segs {
		total += qrSegmentBits(s, g)
	}
	return segs, total
}

// qrPlan returns the smallest version that holds text at level Q and its
// segments, or version 0.
func qrPlan(text string) (int, []qrSegment) {
	if len(text) == 0 || len(text) > qrMaxText {
		return 0, nil
	}
	for g, lo := range [3]int{1, 10, 27} {
		hi := [3]int{9, 26, 40}[g]
		if len(text)*10 > qrDataCodewords(hi)*8*3 {
			continue // even all digits would not fit
		}
		segs, n := qrSegments(text, g)
		for v := lo; v <= hi; v++ {
			if n <= qrDataCodewords(v)*8 {
				return v, segs
			}
		}
	}
	return 0, nil
}

// QRVersion returns the QR version (1-40) used for text at error correction
// level Q, or 0 when text is empty or does not fit in a QR code.
func QRVersion(text string) int {
	v, _ := qrPlan(text)
	return v
}

// qrBits writes bits MSB first into a zeroed byte slice.
type qrBits struct {
	b []byte
	n int
}

func (w *qrBits) put(v uint32, k int) {
	for i := k - 1; i >= 0; i-- {
		if v>>uint(i)&1 != 0 {
			w.b[w.n>>3] |= 0x80 >> uint(w.n&7)
		}
		w.n++
	}
}

// qrDataBytes encodes the segments, terminator and padding into the data
// codewords of version v.
func qrDataBytes(text string, segs []qrSegment, v int) []byte {
	g := qrGroup(v)
	w := qrBits{b: make([]byte, qrDataCodewords(v))}
	for _, s := range segs {
		w.put(qrModeIndicator[s.mode], 4)
		w.put(uint32(s.end-s.start), qrCountBits[s.mode][g])
		t := text[s.start:s.end]
		switch s.mode {
		case qrNumeric:
			i := 0
			for ; i+3 <= len(t); i += 3 {
				w.put(uint32(t[i]-'0')*100+uint32(t[i+1]-'0')*10+uint32(t[i+2]-'0'), 10)
			}
			switch len(t) - i {
			case 1:
				w.put(uint32(t[i]-'0'), 4)
			case 2:
				w.put(uint32(t[i]-'0')*10+uint32(t[i+1]-'0'), 7)
			}
		case qrAlnum:
			i := 0
			for ; i+2 <= len(t); i += 2 {
				w.put(uint32(qrAlnumValue[t[i]])*45+uint32(qrAlnumValue[t[i+1]]), 11)
			}
			if i < len(t) {
				w.put(uint32(qrAlnumValue[t[i]]), 6)
			}
		default:
			for i := 0; i < len(t); i++ {
				w.put(uint32(t[i]), 8)
			}
		}
	}
	capBits := len(w.b) * 8
	w.n += min(4, capBits-w.n) // terminator
	for i, pad := (w.n+7)>>3, byte(0xEC); i < len(w.b); i, pad = i+1, pad^0xEC^0x11 {
		w.b[i] = pad
	}
	return w.b
}

// GF(256) with the QR polynomial x^8+x^4+x^3+x^2+1.
var qrExp, qrLog = func() (exp [512]byte, log [256]int) {
	x := 1
	for i := 0; i < 255; i++ {
		exp[i], exp[i+255] = byte(x), byte(x)
		log[x] = i
		if x <<= 1; x >= 256 {
			x ^= 0x11D
		}
	}
	return
}()

func qrMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return qrExp[qrLog[a]+qrLog[b]]
}

// qrDivisor returns the Reed–Solomon generator polynomial of the given degree
// (roots α^0…α^(degree-1)), leading 1 omitted, highest power first.
func qrDivisor(degree int) []byte {
	g := make([]byte, degree)
	g[degree-1] = 1
	root := byte(1)
	for i := 0; i < degree; i++ {
		for j := range g {
			g[j] = qrMul(g[j], root)
			if j+1 < degree {
				g[j] ^= g[j+1]
			}
		}
		root = qrMul(root, 2)
	}
	return g
}

// qrTemplate is everything about a version that does not depend on the data.
type qrTemplate struct {
	version, size int
	fnDark        []qrLine        // dark function modules (format info excluded), by row then by column
	order         []uint16        // data module positions r<<8|c in placement order
	maskFmt       [8][]qrLine     // mask bits on data modules | format info bits, by row
	maskChunks    [8][]uint64     // maskFmt by row then by column, in chunks (qrLineChunks)
	rsTable       *[256][4]uint64 // divisor × f for each byte f, byte j of the remainder in bits 8(j%8) of word j/8
	chunks        []qrChunkMask
}

// qrChunkMask holds the masks of qrChunkMasks for one chunk.
type qrChunkMask struct{ own, next, start7 uint64 }

var qrTemplates [41]struct {
	once sync.Once
	t    *qrTemplate
}

func qrTemplateFor(v int) *qrTemplate {
	e := &qrTemplates[v]
	e.once.Do(func() { e.t = newQRTemplate(v) })
	return e.t
}

// qrFormatBits is the 15-bit format information for level Q and a mask.
func qrFormatBits(mask int) int {
	data := 3<<3 | mask // level Q is 0b11
	rem := data
	for i := 0; i < 10; i++ {
		rem = rem<<1 ^ (rem>>9)*0x537
	}
	return (data<<10 | rem) ^ 0x5412
}

// qrAlignment returns the alignment pattern centre coordinates of a version.
func qrAlignment(v int) []int {
	if v == 1 {
		return nil
	}
	n := v/7 + 2
	step := (v*8 + n*3 + 5) / (n*4 - 4) * 2
	pos := make([]int, n)
	pos[0] = 6
	for i, p := n-1, 4*v+10; i >= 1; i, p = i-1, p-step {
		pos[i] = p
	}
	return pos
}

// qrMaskBit reports whether mask m inverts the module at row r, column c.
func qrMaskBit(m, r, c int) bool {
	switch m {
	case 0:
		return (r+c)%2 == 0
	case 1:
		return r%2 == 0
	case 2:
		return c%3 == 0
	case 3:
		return (r+c)%3 == 0
	case 4:
		return (r/2+c/3)%2 == 0
	case 5:
		return r*c%2+r*c%3 == 0
	case 6:
		return (r*c%2+r*c%3)%2 == 0
	}
	return ((r+c)%2+r*c%3)%2 == 0
}

func newQRTemplate(v int) *qrTemplate {
	size := 4*v + 17
	fn := make([]bool, size*size)
	dark := make([]bool, size*size)
	set := func(r, c int, d bool) {
		fn[r*size+c] = true
		dark[r*size+c] = d
	}
	for i := 0; i < size; i++ { // timing patterns
		set(6, i, i%2 == 0)
		set(i, 6, i%2 == 0)
	}
	for _, f := range [3][2]int{{3, 3}, {3, size - 4}, {size - 4, 3}} { // finders and separators
		for dr := -4; dr <= 4; dr++ {
			for dc := -4; dc <= 4; dc++ {
				r, c := f[0]+dr, f[1]+dc
				if r < 0 || r >= size || c < 0 || c >= size {
					continue
				}
				d := max(abs(dr), abs(dc))
				set(r, c, d != 2 && d != 4)
			}
		}
	}
	al := qrAlignment(v)
	for i, r := range al {
		for j, c := range al {
			if i == 0 && j == 0 || i == 0 && j == len(al)-1 || i == len(al)-1 && j == 0 {
				continue
			}
			for dr := -2; dr <= 2; dr++ {
				for dc := -2; dc <= 2; dc++ {
					set(r+dr, c+dc, max(abs(dr), abs(dc)) != 1)
				}
			}
		}
	}
	// Format info areas (reserved light here, drawn per mask) and the dark module.
	fmtPos := qrFormatPositions(size)
	for _, p := range fmtPos {
		set(p[0][0], p[0][1], false)
		set(p[1][0], p[1][1], false)
	}
	set(size-8, 8, true)
	if v >= 7 {
		rem := v
		for i := 0; i < 12; i++ {
			rem = rem<<1 ^ (rem>>11)*0x1F25
		}
		b := v<<12 | rem
		for i := 0; i < 18; i++ {
			d := b>>uint(i)&1 != 0
			a, c := size-11+i%3, i/3
			set(c, a, d) // top right
			set(a, c, d) // bottom left
		}
	}
	t := &qrTemplate{version: v, size: size, fnDark: make([]qrLine, 2*size)}
	for r := 0; r < size; r++ {
		for c := 0; c < size; c++ {
			if dark[r*size+c] {
				t.fnDark[r][c>>6] |= 1 << uint(c&63)
				t.fnDark[size+c][r>>6] |= 1 << uint(r&63)
			}
		}
	}
	// Data module order: two-column strips from the right, alternately
	// upwards and downwards, skipping the vertical timing column.
	t.order = make([]uint16, 0, qrRawModules(v))
	for right := size - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		up := (right+1)&2 == 0
		for vert := 0; vert < size; vert++ {
			r := vert
			if up {
				r = size - 1 - vert
			}
			for j := 0; j < 2; j++ {
				if c := right - j; !fn[r*size+c] {
					t.order = append(t.order, uint16(r<<8|c))
				}
			}
		}
	}
	for m := 0; m < 8; m++ {
		rows, cols := make([]qrLine, size), make([]qrLine, size)
		for r := 0; r < size; r++ {
			for c := 0; c < size; c++ {
				if !fn[r*size+c] && qrMaskBit(m, r, c) {
					rows[r][c>>6] |= 1 << uint(c&63)
					cols[c][r>>6] |= 1 << uint(r&63)
				}
			}
		}
		fb := qrFormatBits(m)
		for i, p := range fmtPos {
			if fb>>uint(i)&1 == 0 {
				continue
			}
			for _, rc := range p {
				r, c := rc[0], rc[1]
				rows[r][c>>6] |= 1 << uint(c&63)
				cols[c][r>>6] |= 1 << uint(r&63)
			}
		}
		t.maskFmt[m] = append(rows, cols...) // rows, then columns
	}
	t.rsTable = new([256][4]uint64)
	for f := 1; f < 256; f++ {
		for j, g := range qrDivisor(qrECCPerBlock[v]) {
			t.rsTable[f][j>>3] |= uint64(qrMul(g, byte(f))) << (8 * uint(j&7))
		}
	}
	for k := 0; qrChunkOwn*k < size; k++ {
		var m qrChunkMask
		m.own, m.next, m.start7 = qrChunkMasks(size, k)
		t.chunks = append(t.chunks, m)
	}
	for m := range t.maskChunks {
		t.maskChunks[m] = qrLineChunks(t.maskFmt[m], t)
		t.maskFmt[m] = t.maskFmt[m][:size:size]
	}
	return t
}

// qrFormatPositions returns, for format bit i (0 = least significant), its
// two positions (row, column).
func qrFormatPositions(size int) (p [15][2][2]int) {
	for i := 0; i < 15; i++ {
		// First copy, around the top-left finder.
		switch {
		case i <= 5:
			p[i][0] = [2]int{i, 8}
		case i == 6:
			p[i][0] = [2]int{7, 8}
		case i == 7:
			p[i][0] = [2]int{8, 8}
		case i == 8:
			p[i][0] = [2]int{8, 7}
		default:
			p[i][0] = [2]int{8, 14 - i}
		}
		// Second copy, split between the other two finders.
		if i < 8 {
			p[i][1] = [2]int{8, size - 1 - i}
		} else {
			p[i][1] = [2]int{size - 15 + i, 8}
		}
	}
	return p
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// qrSymbol is an encoded QR code without quiet zone.
type qrSymbol struct {
	version, size, mask int
	rows                []qrLine // bit c of rows[r]: module (r, c) is dark
}

// from returns the modules of l from column c on (bit 0 = column c), as
// many as the word holding column c has left.
func (l qrLine) from(c int) uint64 { return l[c>>6] >> uint(c&63) }

// dark reports whether the module at row r, column c is dark.
func (s *qrSymbol) dark(r, c int) bool { return s.rows[r][c>>6]>>uint(c&63)&1 != 0 }

// encodeQR encodes text at level Q in the smallest version, with the mask of
// lowest penalty.
func encodeQR(text string) (*qrSymbol, error) {
	v, segs := qrPlan(text)
	if v == 0 {
		if text == "" {
			return nil, errors.New("qrcode: empty text")
		}
		return nil, errQRTooLong
	}
	return qrEncodeWith(text, segs, v, -1), nil
}

// qrEncodeWith builds the symbol of version v for the segments; mask < 0
// picks the mask of lowest penalty.
func qrEncodeWith(text string, segs []qrSegment, v, mask int) *qrSymbol {
	t := qrTemplateFor(v)
	data := qrDataBytes(text, segs, v)
	cw := qrInterleave(data, v, t.rsTable)
	size := t.size
	lines := make([]qrLine, 2*size) // rows, then columns
	copy(lines, t.fnDark)
	base, baseCols := lines[:size], lines[size:]
	for i, p := range t.order[:min(len(t.order), len(cw)*8)] {
		bit := uint64(cw[i>>3]>>(7-uint(i&7))) & 1
		r, c := uint(p>>8), uint(p&0xFF)
		base[r][c>>6] |= bit << (c & 63)
		baseCols[c][r>>6] |= bit << (r & 63)
	}
	out := make([]qrLine, size)
	if mask < 0 {
		chunks := qrLineChunks(lines, t)
		best := -1
		for m := 0; m < 8; m++ {
			if p := qrPenalty(chunks, t.maskChunks[m], t); best < 0 || p < best {
				best, mask = p, m
			}
		}
	}
	for r := range out {
		out[r] = xorLine(base[r], t.maskFmt[mask][r])
	}
	return &qrSymbol{version: v, size: size, mask: mask, rows: out}
}

func xorLine(a, b qrLine) qrLine { return qrLine{a[0] ^ b[0], a[1] ^ b[1], a[2] ^ b[2]} }

// qrInterleave splits the data codewords into blocks, appends each block's
// Reed–Solomon codewords and interleaves them (data first, then ECC).
func qrInterleave(data []byte, v int, rs *[256][4]uint64) []byte {
	nb, ecc := qrNumBlocks[v], qrECCPerBlock[v]
	raw := qrRawModules(v) / 8
	short := nb - raw%nb // blocks with one data codeword fewer
	shortLen := raw/nb - ecc
	out := make([]byte, raw)
	eccAll := make([]byte, nb*ecc)
	k := 0
	for b := 0; b < nb; b++ {
		n := shortLen
		if b >= short {
			n++
		}
		blk := data[k : k+n]
		k += n
		// Polynomial division by the divisor, the remainder (at most 30
		// bytes) held in four words, its first byte lowest.
		var r0, r1, r2, r3 uint64
		for _, d := range blk {
			m := &rs[d^byte(r0)]
			r0 = (r0>>8 | r1<<56) ^ m[0]
			r1 = (r1>>8 | r2<<56) ^ m[1]
			r2 = (r2>>8 | r3<<56) ^ m[2]
			r3 = r3>>8 ^ m[3]
		}
		rem := eccAll[b*ecc : (b+1)*ecc]
		for j := range rem {
			rem[j] = byte([4]uint64{r0, r1, r2, r3}[j>>3] >> (8 * uint(j&7)))
		}
		// Data codeword i of block b goes to position i*nb+b, except that
		// the last codeword of a long block comes after all short-length
		// rows.
		for i, d := range blk {
			if i < shortLen {
				out[i*nb+b] = d
			} else {
				out[shortLen*nb+b-short] = d
			}
		}
	}
	pos := len(data)
	for i := 0; i < ecc; i++ {
		for b := 0; b < nb; b++ {
			out[pos] = eccAll[b*ecc+i]
			pos++
		}
	}
	return out
}

// Penalty weights N1–N4 (ISO/IEC 18004 7.8.3).
const (
	qrN1 = 3
	qrN2 = 3
	qrN3 = 40
	qrN4 = 10
)

// The penalty rules look at most 4 modules back and 10 ahead of a position,
// so a line is scored in chunks: chunk k is the 64 modules from 50k-4 in one
// word (modules outside the symbol read as light), of which it scores the 50
// from 50k (bits 4–53).
const (
	qrChunkOwn  = 50
	qrChunkBack = 4
)

// qrChunk returns the 64 modules of l from position 50k-4.
func qrChunk(l *qrLine, k int) uint64 {
	if k == 0 {
		return l[0] << qrChunkBack
	}
	base := qrChunkOwn*k - qrChunkBack
	w, o := base>>6, uint(base&63)
	x := l[w] >> o
	if o != 0 && w+1 < len(l) {
		x |= l[w+1] << (64 - o)
	}
	return x
}

// qrChunkMasks returns, for chunk k of a line of n modules, the modules it
// scores (own), those with a successor (next: 0 ≤ p ≤ n-2) and those that
// can start a finder-like pattern (start7: 0 ≤ p ≤ n-7).
func qrChunkMasks(n, k int) (own, next, start7 uint64) {
	for j := 0; j < 64; j++ {
		p := qrChunkOwn*k - qrChunkBack + j
		if p < 0 || p >= n {
			continue
		}
		if j >= qrChunkBack && j < qrChunkBack+qrChunkOwn {
			own |= 1 << uint(j)
		}
		if p <= n-2 {
			next |= 1 << uint(j)
		}
		if p <= n-7 {
			start7 |= 1 << uint(j)
		}
	}
	return
}

// qrLineChunks returns the chunks of every line, line by line.
func qrLineChunks(lines []qrLine, t *qrTemplate) []uint64 {
	nch := len(t.chunks)
	out := make([]uint64, len(lines)*nch)
	for i := range lines {
		for k := 0; k < nch; k++ {
			out[i*nch+k] = qrChunk(&lines[i], k)
		}
	}
	return out
}

// qrPenalty scores the symbol whose row and column chunks are base ^ mask
// (mask nil: base alone): rules N1 (runs of 5 or more modules of one
// colour: N1 + run-5 each) and N3 (1:1:3:1:1 finder-like patterns with 4
// light modules before or after, the outside counting as light) on every
// row and column, N2 (2×2 blocks of one colour) and N4 (N4 per full 5 % of
// deviation from half dark).
func qrPenalty(base, mask []uint64, t *qrTemplate) int {
	nch, size := len(t.chunks), t.size
	if mask == nil {
		mask = make([]uint64, len(base))
	}
	mask = mask[:len(base)]
	pen, dark, blocks := 0, 0, 0
	for i := range base {
		m := &t.chunks[i%nch]
		x := base[i] ^ mask[i]
		x1 := x >> 1
		// N1: a run of n ≥ 5 has n-4 windows of 5 equal modules and one start.
		s := ^(x ^ x1) & m.next // module i equals module i+1
		s &= s >> 1             // modules i..i+2 equal
		w := s & (s >> 2)       // modules i..i+4 equal
		pen += bits.OnesCount64(w&m.own) + (qrN1-1)*bits.OnesCount64(w&^(w<<1)&m.own)
		if i < size*nch {
			dark += bits.OnesCount64(x & m.own)
			if j := i + nch; j < size*nch {
				// N2: blocks with their top-left corner in this row.
				y := base[j] ^ mask[j]
				e := ^(x ^ y) // same colour vertically
				blocks += bits.OnesCount64(e & (e >> 1) &^ (x ^ x1) & m.next & m.own)
			}
		}
		// N3: dark, light, dark ×3, light, dark at i..i+6 …
		t3 := x & x1 & (x >> 2) // dark at i..i+2
		d := (x &^ x1) & (t3 >> 2) & ((x1 &^ x) >> 5) & m.start7 & m.own
		if d == 0 {
			continue
		}
		// … with no dark module in i-4..i-1 or none in i+7..i+10.
		a := x | x<<1
		a |= a << 2 // a dark module in i-3..i
		c := x | x1
		c |= c >> 2 // a dark module in i..i+3
		d &= ^(a << 1) | ^(c >> 7)
		pen += qrN3 * bits.OnesCount64(d)
	}
	total := size * size
	return pen + qrN2*blocks + qrN4*(abs(dark*2-total)*10/total)
}
