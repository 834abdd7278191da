package templates

import (
	"bytes"
	"encoding/binary"
	"hash/adler32"
	"sync"

	"github.com/klauspost/compress/flate"
)

// The FontFile2 stream is one zlib stream assembled from raw-DEFLATE
// fragments. Every simple glyph and every table a subset copies from the
// font is deflated once per process and flate level, on first use, as an
// independent fragment (no back-references before its start) ended by a
// sync flush: its blocks are not final and it ends on a byte boundary with
// an empty stored block. A document's stream is the zlib header, the
// fragments of its program in order (the ranges that differ per document,
// such as the table directory, loca, hmtx and composite glyphs, are deflated
// per document the same way, or stored when short), a final empty fixed-Huffman block and the
// Adler-32 of the whole program, combined from the fragments' checksums.

// fragKey identifies a fixed range of a font program: a glyph id, or
// fragKeyTable plus the index of a copied table.
type fragKey int

const (
	fragLiteral  fragKey = -1      // a range deflated per document
	fragKeyTable fragKey = 1 << 16 // + index in copiedTables
)

// fontPart is a byte range [off, end) of a subset's font program.
type fontPart struct {
	off, end int
	key      fragKey
}

// fragment is a deflated fixed range, shared by the documents of a process.
type fragment struct {
	once  sync.Once
	z     []byte // raw DEFLATE, non-final blocks, byte aligned
	n     int    // uncompressed length
	adler uint32 // Adler-32 of the uncompressed bytes
}

type fragCacheKey struct {
	level int
	key   fragKey
}

// fragment returns the deflated form of data, the range key of the font,
// deflating it on first use.
func (e *Engine) fragment(key fragKey, data []byte) *fragment {
	k := fragCacheKey{e.level, key}
	v, ok := e.font.frags.Load(k)
	if !ok {
		v, _ = e.font.frags.LoadOrStore(k, new(fragment))
	}
	fr := v.(*fragment)
	fr.once.Do(func() {
		var z bytes.Buffer
		e.deflateFlushed(&z, data)
		fr.z = bytes.Clone(z.Bytes())
		fr.n = len(data)
		fr.adler = adler32.Checksum(data)
	})
	if fr.n != len(data) { // cannot happen: the same key is the same bytes
		panic("font fragment length mismatch")
	}
	return fr
}

// deflateFlushed appends data to z as raw DEFLATE blocks without a final
// block, ending with a sync flush.
func (e *Engine) deflateFlushed(z *bytes.Buffer, data []byte) {
	w, _ := e.fpool.Get().(*flate.Writer)
	if w == nil {
		w, _ = flate.NewWriter(z, e.level) // level checked by Load
	} else {
		w.Reset(z)
	}
	w.Write(data) // writes to a bytes.Buffer do not fail
	w.Flush()
	e.fpool.Put(w)
}

// storedMax is the length below which a per-document range of the font
// program (mostly a composite glyph) is written as a stored block.
const storedMax = 256

// fontStream appends prog as a zlib stream to dst, taking the deflated
// fixed ranges of parts from the process cache.
func (e *Engine) fontStream(dst, prog []byte, parts []fontPart) []byte {
	z := bytes.NewBuffer(dst)
	z.Write(zlibHeader(e.level))
	sum := uint32(1)
	for _, p := range parts {
		data := prog[p.off:p.end]
		if p.key == fragLiteral {
			if len(data) < storedMax {
				// A stored block: deflating a few dozen bytes costs more
				// than it saves.
				z.Write([]byte{0, byte(len(data)), byte(len(data) >> 8), ^byte(len(data)), ^byte(len(data) >> 8)})
				z.Write(data)
			} else {
				e.deflateFlushed(z, data)
			}
			sum = adler32Combine(sum, adler32.Checksum(data), len(data))
			continue
		}
		fr := e.fragment(p.key, data)
		z.Write(fr.z)
		sum = adler32Combine(sum, fr.adler, fr.n)
	}
	// A final fixed-Huffman block holding only the end-of-block code.
	z.Write([]byte{0x03, 0x00})
	return binary.BigEndian.AppendUint32(z.Bytes(), sum)
}

// zlibHeader is the header compress/zlib writes for level: deflate with a
// 32 KB window, the level hint, no dictionary.
func zlibHeader(level int) []byte {
	h := []byte{0x78, 0}
	switch level {
	case flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed:
		h[1] = 0 << 6
	case 2, 3, 4, 5:
		h[1] = 1 << 6
	case 6, flate.DefaultCompression:
		h[1] = 2 << 6
	default:
		h[1] = 3 << 6
	}
	h[1] += byte(31 - (uint(h[0])<<8+uint(h[1]))%31)
	return h
}

// adler32Combine returns the Adler-32 of A‖B from a = Adler-32(A),
// b = Adler-32(B) and n = len(B), as zlib's adler32_combine.
func adler32Combine(a, b uint32, n int) uint32 {
	const mod = 65521
	rem := uint64(n % mod)
	s1 := uint64(a & 0xffff)
	s2 := rem * s1 % mod
	s1 += uint64(b&0xffff) + mod - 1
	s2 += uint64(a>>16) + uint64(b>>16) + mod - rem
	s1 %= mod
	s2 %= mod
	return uint32(s2<<16 | s1)
}
