package templates

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"hash/adler32"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
)

func TestAdler32Combine(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 200000)
	for i := range data {
		data[i] = byte(r.IntN(256))
	}
	data[5000] = 0xFF
	for i := 100000; i < 200000; i++ { // long runs of 0xFF push the sums up
		data[i] = 0xFF
	}
	for _, cut := range []int{0, 1, 65520, 65521, 65522, 131042, 199999, 200000} {
		a, b := data[:cut], data[cut:]
		got := adler32Combine(adler32.Checksum(a), adler32.Checksum(b), len(b))
		if want := adler32.Checksum(data); got != want {
			t.Errorf("cut %d: combine %08x, want %08x", cut, got, want)
		}
	}
	for range 200 {
		n := r.IntN(len(data))
		parts := []int{0}
		for p := 0; p < n; {
			p = min(n, p+r.IntN(70000))
			parts = append(parts, p)
		}
		sum := uint32(1)
		for i := 1; i < len(parts); i++ {
			seg := data[parts[i-1]:parts[i]]
			sum = adler32Combine(sum, adler32.Checksum(seg), len(seg))
		}
		if want := adler32.Checksum(data[:n]); sum != want {
			t.Fatalf("%d bytes in %d parts: %08x, want %08x", n, len(parts)-1, sum, want)
		}
	}
}

func TestZlibHeader(t *testing.T) {
	for level := flate.HuffmanOnly; level <= flate.BestCompression; level++ {
		var b bytes.Buffer
		w, _ := zlib.NewWriterLevel(&b, level)
		w.Close()
		if got := zlibHeader(level); !bytes.Equal(got, b.Bytes()[:2]) {
			t.Errorf("level %d: header % x, compress/zlib writes % x", level, got, b.Bytes()[:2])
		}
	}
}

// subsetTexts are rune sets of documents: shared characters in different
// orders, so that one glyph gets different ids and offsets.
var subsetTexts = []string{
	"食品经营许可证经营者名称社会信用代码法定代表人住所经营场所主体业态经营项目许可证编号有效期至发证机关日常监督管理机构投诉举报电话芜湖市市场监督管理局2024年9月10日",
	"特种作业操作证姓名性别男女身份证号码作业类别准操项目初领日期有效期限签发机关芜湖市应急管理局0123456789-ABCDEFXYZ",
	"无犯罪记录证明经查询截至年月日未发现有犯罪记录芜湖市公安局镜湖区分局鸠江区弋江区繁昌区湾沚区南陵县无为市",
	"2024年9月10日芜湖市市场监督管理局食品经营许可证abcdefghijklmnopqrstuvwxyz.,;:()（）、。，",
}

// compositeRunes returns up to n runes of the font drawn by composite glyphs.
func compositeRunes(f *sfnt, n int) []rune {
	var rs []rune
	for r := rune(0x20); r < 0x30000 && len(rs) < n; r++ {
		if g, ok := f.cmap[r]; ok {
			if d := f.glyph(g); len(d) >= 10 && i16(d, 0) < 0 {
				rs = append(rs, r)
			}
		}
	}
	return rs
}

func buildSubset(f *sfnt, text string) ([]byte, []fontPart) {
	s := newSubset(f)
	for _, r := range text {
		s.cid(r)
	}
	return s.build()
}

// checkFontStream decompresses the stream with compress/zlib (which verifies
// the Adler-32) and compares it with the program byte for byte.
func checkFontStream(t *testing.T, prog []byte, parts []fontPart, z []byte) {
	t.Helper()
	at := 0
	for _, p := range parts {
		if p.off != at || p.end <= p.off {
			t.Fatalf("parts not contiguous at %d: %+v", at, p)
		}
		at = p.end
	}
	if at != len(prog) {
		t.Fatalf("parts end at %d of %d bytes", at, len(prog))
	}
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("decompress: %v", err)
	}
	if !bytes.Equal(got, prog) {
		t.Fatalf("decompressed %d bytes differ from the %d-byte program", len(got), len(prog))
	}
	// Every reader that stops at the final block sees the whole stream.
	var b bytes.Buffer
	if _, err := io.Copy(&b, flate.NewReader(bytes.NewReader(z[2:len(z)-4]))); err != nil || !bytes.Equal(b.Bytes(), prog) {
		t.Fatalf("raw inflate without trailer: %v", err)
	}
}

func TestFontStream(t *testing.T) {
	levels := []int{flate.HuffmanOnly, flate.BestSpeed, 2, 5, flate.DefaultCompression, flate.BestCompression}
	for _, level := range levels {
		e, err := Load(Options{FlateLevel: level})
		if err != nil {
			t.Skipf("no CJK font: %v", err)
		}
		texts := append([]string{"", " ", string(compositeRunes(e.font, 8))}, subsetTexts...)
		texts = append(texts, subsetTexts[0]+string(compositeRunes(e.font, 3))+subsetTexts[1])
		for i, text := range texts {
			prog, parts := buildSubset(e.font, text)
			z := e.fontStream(nil, prog, parts)
			checkFontStream(t, prog, parts, z)
			if z2 := e.fontStream(nil, prog, parts); !bytes.Equal(z, z2) {
				t.Fatalf("level %d text %d: second stream differs from the first", level, i)
			}
		}
	}
}

// TestFontStreamConcurrent builds streams for overlapping subsets from many
// goroutines on a cold cache (a level no other test uses).
func TestFontStreamConcurrent(t *testing.T) {
	e, err := Load(Options{FlateLevel: 3})
	if err != nil {
		t.Skipf("no CJK font: %v", err)
	}
	type result struct{ prog, z []byte }
	res := make([][]result, 8)
	var wg sync.WaitGroup
	for g := range res {
		wg.Go(func() {
			for i := range subsetTexts {
				text := subsetTexts[(i+g)%len(subsetTexts)]
				prog, parts := buildSubset(e.font, text)
				res[g] = append(res[g], result{prog, e.fontStream(nil, prog, parts)})
			}
		})
	}
	wg.Wait()
	for g := range res {
		for i, r := range res[g] {
			prog, parts := buildSubset(e.font, subsetTexts[(i+g)%len(subsetTexts)])
			checkFontStream(t, prog, parts, r.z)
			if other := res[0][(i+g)%len(subsetTexts)]; !bytes.Equal(other.z, r.z) {
				t.Fatalf("goroutine %d, text %d: stream differs from goroutine 0's", g, i)
			}
		}
	}
}
