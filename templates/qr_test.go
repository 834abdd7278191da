package templates

import (
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	skip2 "github.com/skip2/go-qrcode"
)

// qrTestPx is the pixels per module of the rasterised symbols.
const qrTestPx = 3

// qrBase is the upper-case base URL of the demo tokens.
const qrBase = "HTTPS://ZZ.WUHU.GOV.CN/V/"

// tokenText returns a printed token of the real shape: base + n random digits.
func tokenText(rng *rand.Rand, base string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + rng.IntN(10))
	}
	return base + string(b)
}

// randomTokenTexts returns n texts of the shape of the static and dynamic
// tokens: one of a few bases and 400–600 digits.
func randomTokenTexts(seed uint64, n int) []string {
	rng := rand.New(rand.NewPCG(seed, 1))
	bases := []string{qrBase, "HTTPS://LICENSE.WUHU.GOV.CN/V/", "HTTPS://E.ZZ.GOV.CN:8443/V/", ""}
	out := make([]string, n)
	for i := range out {
		out[i] = tokenText(rng, bases[i%len(bases)], 400+rng.IntN(201))
	}
	return out
}

// qrImage rasterises s with a 4-module quiet zone, px pixels per module.
func qrImage(s *qrSymbol, px int) *image.Gray {
	w := (s.size + 8) * px
	img := image.NewGray(image.Rect(0, 0, w, w))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for r := 0; r < s.size; r++ {
		for c := 0; c < s.size; c++ {
			if !s.dark(r, c) {
				continue
			}
			for y := (r + 4) * px; y < (r+5)*px; y++ {
				for x := (c + 4) * px; x < (c+5)*px; x++ {
					img.SetGray(x, y, color.Gray{})
				}
			}
		}
	}
	return img
}

// zxingDecode decodes a rasterised s with ZXing's QR reader and returns the
// text and the error correction level it read. pure selects the reader for
// an unrotated symbol on a plain background (it finds the symbol's corners
// and module size); otherwise ZXing's finder pattern detector locates it.
func zxingDecode(tb testing.TB, s *qrSymbol, pure bool) (string, string, error) {
	tb.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(qrImage(s, qrTestPx))
	if err != nil {
		tb.Fatal(err)
	}
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	if pure {
		hints = map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true}
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		return "", "", fmt.Errorf("gozxing: version %d mask %d: %w", s.version, s.mask, err)
	}
	ec, _ := res.GetResultMetadata()[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL].(string)
	return res.GetText(), ec, nil
}

// checkSyndromes verifies that every block of the codewords of s is a
// Reed–Solomon codeword (all syndromes zero), so that a decoder's error
// correction cannot hide an encoder fault.
func checkSyndromes(tb testing.TB, text string) {
	tb.Helper()
	v, segs := qrPlan(text)
	data := qrDataBytes(text, segs, v)
	cw := qrInterleave(data, v, qrTemplateFor(v).rsTable)
	nb, ecc := qrNumBlocks[v], qrECCPerBlock[v]
	raw := qrRawModules(v) / 8
	short, shortLen := nb-raw%nb, raw/nb-ecc
	for b := 0; b < nb; b++ {
		var blk []byte
		for i := 0; i < shortLen; i++ {
			blk = append(blk, cw[i*nb+b])
		}
		if b >= short {
			blk = append(blk, cw[shortLen*nb+b-short])
		}
		for i := 0; i < ecc; i++ {
			blk = append(blk, cw[len(data)+i*nb+b])
		}
		for i := 0; i < ecc; i++ { // evaluate at α^i (Horner)
			s, x := byte(0), qrExp[i]
			for _, c := range blk {
				s = qrMul(s, x) ^ c
			}
			if s != 0 {
				tb.Fatalf("version %d block %d: syndrome %d is %#x", v, b, i, s)
			}
		}
	}
}

func TestQRRoundTripGozxing(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 40
	}
	texts := append(randomTokenTexts(1, n),
		"HTTPS://ZZ.WUHU.GOV.CN/V/123", "0", "A", "https://zz.wuhu.gov.cn/v/0123", "许可证 HTTPS://X/V/0042",
		strings.Repeat("7", 3993), strings.Repeat("Z", 2420), strings.Repeat("z", 1663))
	masks, missed := map[int]int{}, 0
	for _, text := range texts {
		s, err := encodeQR(text)
		if err != nil {
			t.Fatalf("%.40q: %v", text, err)
		}
		if s.version != QRVersion(text) {
			t.Fatalf("%.40q: version %d, QRVersion %d", text, s.version, QRVersion(text))
		}
		checkSyndromes(t, text)
		got, ec, err := zxingDecode(t, s, true)
		if err != nil || got != text || ec != "Q" {
			t.Fatalf("decoded %.60q at level %s (%v), want %.60q at Q (version %d, mask %d)", got, ec, err, text, s.version, s.mask)
		}
		// ZXing's finder detector misses a few symbols, skip2's identical
		// ones included (it takes finder-like data for a finder pattern);
		// a missed one is tolerated, a wrong text is not.
		if got, _, err := zxingDecode(t, s, false); err != nil {
			missed++
		} else if got != text {
			t.Fatalf("detector decoded %.60q, want %.60q", got, text)
		}
		masks[s.mask]++
	}
	if missed > len(texts)/10 {
		t.Errorf("ZXing's detector missed %d of %d symbols", missed, len(texts))
	}
	t.Logf("%d texts decoded (ZXing's detector missed %d); masks chosen: %v", len(texts), missed, masks)
}

// formatMask reads the mask of a symbol from its first format info copy.
func formatMask(tb testing.TB, bm [][]bool) int {
	tb.Helper()
	f := 0
	for i, p := range qrFormatPositions(len(bm)) {
		if bm[p[0][0]][p[0][1]] {
			f |= 1 << i
		}
	}
	f ^= 0x5412
	if f>>13 != 3 {
		tb.Fatalf("format info %015b is not level Q", f)
	}
	return f >> 10 & 7
}

// TestQRMatchesSkip2 compares the whole matrix with skip2/go-qrcode's for the
// same segments, version and mask, for every version 1–40 and each mode.
func TestQRMatchesSkip2(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	alnum := "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
	for v := 1; v <= 40; v++ {
		g := qrGroup(v)
		capBits := qrDataCodewords(v) * 8
		for kind := 0; kind < 4; kind++ {
			// Grow the text until it no longer fits version v, keeping
			// the segmentation that skip2 also finds.
			fits := func(s string) bool { _, n := qrSegments(s, g); return n <= capBits }
			var text string
			for i := 0; ; i++ {
				var next string
				switch kind {
				case 0: // token shape: alphanumeric prefix, numeric digits
					if v < 3 {
						next = tokenText(rng, "", i+1)
					} else {
						next = tokenText(rng, "HTTPS://ZZ.WUHU.GOV.CN/V/", i+20)
					}
				case 1: // numeric
					next = text + string(rune('0'+rng.IntN(10)))
				case 2: // alphanumeric without digits
					next = text + string(alnum[10+rng.IntN(len(alnum)-10)])
				default: // bytes
					next = text + string(rune('a'+rng.IntN(26)))
				}
				if !fits(next) || rng.IntN(400) == 0 && text != "" {
					break
				}
				text = next
			}
			if text == "" {
				continue
			}
			q, err := skip2.NewWithForcedVersion(text, v, skip2.High)
			if err != nil {
				t.Fatalf("v%d kind %d: skip2: %v", v, kind, err)
			}
			q.DisableBorder = true
			bm := q.Bitmap()
			mask := formatMask(t, bm)
			segs, _ := qrSegments(text, g)
			s := qrEncodeWith(text, segs, v, mask)
			if len(bm) != s.size {
				t.Fatalf("v%d: size %d, skip2 %d", v, s.size, len(bm))
			}
			diff := 0
			for r := range bm {
				for c := range bm[r] {
					if bm[r][c] != s.dark(r, c) {
						diff++
					}
				}
			}
			if diff != 0 {
				t.Errorf("v%d kind %d mask %d (%d chars, segments %v): %d modules differ from skip2", v, kind, mask, len(text), segs, diff)
			}
		}
	}
}

// TestQRVersionSkip2 checks QRVersion against skip2's choice for token texts
// (same segments: one alphanumeric, one numeric) and that it never picks a
// larger version for other texts.
func TestQRVersionSkip2(t *testing.T) {
	texts := randomTokenTexts(3, 100)
	rng := rand.New(rand.NewPCG(3, 3))
	for i := 0; i < 100; i++ {
		texts = append(texts, tokenText(rng, qrBase, rng.IntN(1500)))
	}
	for _, text := range texts {
		q, err := skip2.New(text, skip2.High)
		want := 0
		if err == nil {
			want = q.VersionNumber
		}
		if got := QRVersion(text); got != want {
			t.Errorf("%.40q (%d chars): QRVersion %d, skip2 %d", text, len(text), got, want)
		}
	}
	for _, text := range []string{"a1b2c3d4e5f6" + strings.Repeat("1234567890", 9), "HTTPS://X/v/" + strings.Repeat("ab12", 30)} {
		q, err := skip2.New(text, skip2.High)
		if err != nil {
			t.Fatal(err)
		}
		if got := QRVersion(text); got > q.VersionNumber {
			t.Errorf("%.40q: QRVersion %d > skip2 %d", text, got, q.VersionNumber)
		}
	}
}

func TestQRSegments(t *testing.T) {
	tests := []struct {
		text string
		want string
	}{
		{qrBase + "0123456789", "A25 N10"},
		{"0123456789", "N10"},
		{"HTTPS://ZZ.WUHU.GOV.CN/V/1", "A26"},
		{"https://zz/v/" + strings.Repeat("9", 40), "B13 N40"},
		{"", ""},
	}
	for _, tc := range tests {
		segs, _ := qrSegments(tc.text, 1)
		var got []string
		for _, s := range segs {
			got = append(got, fmt.Sprintf("%c%d", "NAB"[s.mode], s.end-s.start))
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("%q: segments %s, want %s", tc.text, g, tc.want)
		}
	}
}

func TestQRDeterministic(t *testing.T) {
	text := randomTokenTexts(4, 1)[0]
	a, _ := encodeQR(text)
	for i := 0; i < 3; i++ {
		b, _ := encodeQR(text)
		if fmt.Sprint(a.rows) != fmt.Sprint(b.rows) || a.mask != b.mask {
			t.Fatal("two encodings of the same text differ")
		}
	}
}

func TestQRErrors(t *testing.T) {
	for _, text := range []string{"", strings.Repeat("9", 3994), strings.Repeat("z", 1664), strings.Repeat("9", 100000)} {
		if _, err := encodeQR(text); err == nil {
			t.Errorf("%d chars: no error", len(text))
		}
		if v := QRVersion(text); v != 0 {
			t.Errorf("%d chars: QRVersion %d", len(text), v)
		}
	}
}

// FuzzQR encodes digit strings (with or without the URL base) and decodes
// them with gozxing.
func FuzzQR(f *testing.F) {
	f.Add([]byte{0}, true)
	f.Add([]byte("0123456789"), false)
	f.Add([]byte(strings.Repeat("\x07", 564)), true)
	f.Fuzz(func(t *testing.T, raw []byte, url bool) {
		if len(raw) > 800 {
			raw = raw[:800]
		}
		d := make([]byte, len(raw))
		for i, b := range raw {
			d[i] = '0' + b%10
		}
		text := string(d)
		if url {
			text = qrBase + text
		}
		if text == "" {
			return
		}
		s, err := encodeQR(text)
		if err != nil {
			t.Fatal(err)
		}
		if s.version != QRVersion(text) {
			t.Fatalf("version %d, QRVersion %d", s.version, QRVersion(text))
		}
		checkSyndromes(t, text)
		if got, ec, err := zxingDecode(t, s, true); err != nil || got != text || ec != "Q" {
			t.Fatalf("decoded %.60q at %s (%v)", got, ec, err)
		}
	})
}

// BenchmarkQR compares the encoders on a printed static token (base URL and
// 564 digits, version 14-Q): matrix only, no drawing.
func BenchmarkQR(b *testing.B) {
	text := tokenText(rand.New(rand.NewPCG(5, 5)), qrBase, 564)
	b.Run("own", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeQR(text); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("skip2", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			q, err := skip2.New(text, skip2.High)
			if err != nil {
				b.Fatal(err)
			}
			q.DisableBorder = true
			q.Bitmap()
		}
	})
}

// refPenalty is ZXing's MaskUtil penalty (rules N1–N4) on a module grid,
// module by module.
func refPenalty(g [][]bool) int {
	n := len(g)
	at := func(r, c int, transpose bool) bool {
		if transpose {
			return g[c][r]
		}
		return g[r][c]
	}
	p := 0
	for _, tr := range []bool{false, true} {
		for r := 0; r < n; r++ {
			run, prev := 0, false
			for c := 0; c <= n; c++ {
				if c < n && c > 0 && at(r, c, tr) == prev {
					run++
					continue
				}
				if run >= 5 {
					p += qrN1 + run - 5
				}
				if c < n {
					run, prev = 1, at(r, c, tr)
				}
			}
			white := func(from, to int) bool {
				for i := max(from, 0); i < min(to, n); i++ {
					if at(r, i, tr) {
						return false
					}
				}
				return true
			}
			for c := 0; c+6 < n; c++ {
				if at(r, c, tr) && !at(r, c+1, tr) && at(r, c+2, tr) && at(r, c+3, tr) && at(r, c+4, tr) && !at(r, c+5, tr) && at(r, c+6, tr) &&
					(white(c-4, c) || white(c+7, c+11)) {
					p += qrN3
				}
			}
		}
	}
	dark := 0
	for r := 0; r < n; r++ {
		for c := 0; c < n; c++ {
			if g[r][c] {
				dark++
			}
			if r+1 < n && c+1 < n && g[r][c] == g[r][c+1] && g[r][c] == g[r+1][c] && g[r][c] == g[r+1][c+1] {
				p += qrN2
			}
		}
	}
	return p + qrN4*(abs(dark*2-n*n)*10/(n*n))
}

func TestQRPenaltyReference(t *testing.T) {
	texts := append(randomTokenTexts(6, 12), "0", strings.Repeat("8", 3000), strings.Repeat("Q", 700))
	for _, text := range texts {
		v, segs := qrPlan(text)
		tp := qrTemplateFor(v)
		best, bestMask := -1, -1
		for m := 0; m < 8; m++ {
			s := qrEncodeWith(text, segs, v, m)
			g := make([][]bool, s.size)
			cols := make([]qrLine, s.size)
			for r := range g {
				g[r] = make([]bool, s.size)
				for c := range g[r] {
					g[r][c] = s.dark(r, c)
					if g[r][c] {
						cols[c][r>>6] |= 1 << uint(r&63)
					}
				}
			}
			want := refPenalty(g)
			if got := qrPenalty(qrLineChunks(append(append([]qrLine(nil), s.rows...), cols...), tp), nil, tp); got != want {
				t.Errorf("version %d mask %d: penalty %d, reference %d", v, m, got, want)
			}
			if best < 0 || want < best {
				best, bestMask = want, m
			}
		}
		if s, _ := encodeQR(text); s.mask != bestMask {
			t.Errorf("version %d: mask %d chosen, reference picks %d", v, s.mask, bestMask)
		}
	}
}

// TestQRDraw reads the rectangles of the drawn code back into a grid and
// compares it with the symbol, for sizes of one, two and three words a row.
func TestQRDraw(t *testing.T) {
	for _, text := range []string{"HTTPS://X/V/1", tokenText(rand.New(rand.NewPCG(8, 8)), qrBase, 564), strings.Repeat("5", 1500), strings.Repeat("5", 3993)} {
		s, err := encodeQR(text)
		if err != nil {
			t.Fatal(err)
		}
		d := &doc{pageH: 210}
		if err := d.qr(text, [4]float64{10, 10, 40, 40}); err != nil {
			t.Fatal(err)
		}
		got := make([][]bool, s.size)
		for r := range got {
			got[r] = make([]bool, s.size)
		}
		rects := 0
		for _, line := range strings.Split(string(d.cs), "\n") {
			var c, r, w int
			if n, _ := fmt.Sscanf(line, "%d %d %d 1 re", &c, &r, &w); n != 3 || !strings.HasSuffix(line, " 1 re") {
				continue
			}
			rects++
			for i := c; i < c+w; i++ {
				if got[r][i] {
					t.Fatalf("v%d: module (%d, %d) drawn twice", s.version, r, i)
				}
				got[r][i] = true
			}
		}
		for r := range got {
			for c := range got[r] {
				if got[r][c] != s.dark(r, c) {
					t.Fatalf("v%d: module (%d, %d) drawn %v, is %v", s.version, r, c, got[r][c], s.dark(r, c))
				}
			}
		}
		t.Logf("version %d: %d rectangles, %d content bytes", s.version, rects, len(d.cs))
	}
}

// TestQRSegmentsOptimal compares the segmentation with an exhaustive search
// over every mode of every byte, on short mixed texts.
func TestQRSegmentsOptimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	const alphabet = "0123456789ABC:/a许"
	for i := 0; i < 300; i++ {
		var sb strings.Builder
		for sb.Len() < 1+rng.IntN(9) {
			sb.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		text := sb.String()
		g := rng.IntN(3)
		_, got := qrSegments(text, g)
		best := -1
		modes := make([]int, len(text))
		var walk func(i int)
		walk = func(i int) {
			if i == len(text) {
				bitsN, start := 0, 0
				for j := 1; j <= len(text); j++ {
					if j == len(text) || modes[j] != modes[start] {
						bitsN += qrSegmentBits(qrSegment{modes[start], start, j}, g)
						start = j
					}
				}
				if best < 0 || bitsN < best {
					best = bitsN
				}
				return
			}
			c := text[i]
			for m := range 3 {
				if m == qrNumeric && (c < '0' || c > '9') || m == qrAlnum && qrAlnumValue[c] < 0 {
					continue
				}
				modes[i] = m
				walk(i + 1)
			}
		}
		walk(0)
		if got != best {
			t.Errorf("%q (group %d): %d bits, best %d", text, g, got, best)
		}
	}
}
