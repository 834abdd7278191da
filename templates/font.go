package templates

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"sync"
	"unicode/utf16"
)

// DefaultFontPaths returns the font files searched, in order, when
// Options.FontPaths is empty. TrueType (.ttf) and TrueType collections (.ttc,
// first member) with glyf outlines are accepted; CFF-flavoured fonts are not.
func DefaultFontPaths() []string {
	return []string{
		"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
		"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
		"/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
		"/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
		"/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",
		"/System/Library/Fonts/Supplemental/Songti.ttc",
		"C:\\Windows\\Fonts\\simsun.ttc",
	}
}

// sfnt is a parsed TrueType font. It is immutable after parsing and shared by
// every engine of the process that loads the same file.
type sfnt struct {
	path       string
	data       []byte // the whole file
	tables     map[string][]byte
	loca       []byte // tables["loca"], ["glyf"] and ["hmtx"], kept apart from
	glyf       []byte // the map for the per-glyph lookups of every document
	hmtx       []byte
	psName     string
	unitsPerEm int
	ascent     int // hhea ascender, font units
	descent    int // hhea descender, font units (negative)
	bbox       [4]int
	numGlyphs  int
	numHM      int
	longLoca   bool
	cmap       map[rune]uint16
	frags      sync.Map // fragKey → *fragment, deflated glyphs and tables
}

var fontCache = struct {
	sync.Mutex
	m map[string]*sfnt
}{m: map[string]*sfnt{}}

// loadFont returns the first usable font of paths, parsed once per process.
func loadFont(paths []string) (*sfnt, error) {
	var errs []error
	for _, p := range paths {
		fontCache.Lock()
		f, ok := fontCache.m[p]
		fontCache.Unlock()
		if ok {
			return f, nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		f, err = parseFont(p, data)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		fontCache.Lock()
		if g, ok := fontCache.m[p]; ok {
			f = g
		} else {
			fontCache.m[p] = f
		}
		fontCache.Unlock()
		return f, nil
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w (searched %d paths): %w", ErrNoFont, len(paths), errors.Join(errs...))
	}
	return nil, fmt.Errorf("%w (searched %q)", ErrNoFont, paths)
}

func u16(b []byte, off int) int { return int(binary.BigEndian.Uint16(b[off:])) }
func i16(b []byte, off int) int { return int(int16(binary.BigEndian.Uint16(b[off:]))) }
func u32(b []byte, off int) int { return int(binary.BigEndian.Uint32(b[off:])) }

var errBadFont = errors.New("malformed or unsupported TrueType font")

// parseFont parses a TTF or the first member of a TTC.
func parseFont(path string, data []byte) (f *sfnt, err error) {
	defer func() {
		if r := recover(); r != nil { // index out of range on a truncated file
			f, err = nil, fmt.Errorf("%w: %v", errBadFont, r)
		}
	}()
	if len(data) < 12 {
		return nil, errBadFont
	}
	off := 0
	if string(data[:4]) == "ttcf" {
		if u32(data, 8) < 1 {
			return nil, errBadFont
		}
		off = u32(data, 12)
	}
	switch string(data[off : off+4]) {
	case "\x00\x01\x00\x00", "true":
	case "OTTO":
		return nil, fmt.Errorf("%w: CFF outlines", errBadFont)
	default:
		return nil, errBadFont
	}
	n := u16(data, off+4)
	f = &sfnt{path: path, data: data, tables: make(map[string][]byte, n)}
	for i := 0; i < n; i++ {
		r := off + 12 + 16*i
		tag := string(data[r : r+4])
		to, tl := u32(data, r+8), u32(data, r+12)
		if to > len(data) {
			return nil, fmt.Errorf("%w: table %q out of file", errBadFont, tag)
		}
		if to+tl > len(data) { // some collections overrun the file by a byte or two
			tl = len(data) - to
		}
		f.tables[tag] = data[to : to+tl : to+tl]
	}
	for _, t := range []string{"head", "hhea", "maxp", "hmtx", "loca", "glyf", "cmap"} {
		if f.tables[t] == nil {
			return nil, fmt.Errorf("%w: no %s table", errBadFont, t)
		}
	}
	head, hhea := f.tables["head"], f.tables["hhea"]
	f.unitsPerEm = u16(head, 18)
	if f.unitsPerEm < 16 {
		return nil, fmt.Errorf("%w: unitsPerEm %d", errBadFont, f.unitsPerEm)
	}
	f.bbox = [4]int{i16(head, 36), i16(head, 38), i16(head, 40), i16(head, 42)}
	f.longLoca = i16(head, 50) == 1
	f.ascent, f.descent = i16(hhea, 4), i16(hhea, 6)
	f.numHM = u16(hhea, 34)
	f.numGlyphs = u16(f.tables["maxp"], 4)
	if f.numHM < 1 || f.numHM > f.numGlyphs || len(f.tables["hmtx"]) < 4*f.numHM {
		return nil, fmt.Errorf("%w: hmtx", errBadFont)
	}
	locaLen := 2
	if f.longLoca {
		locaLen = 4
	}
	if len(f.tables["loca"]) < locaLen*(f.numGlyphs+1) {
		return nil, fmt.Errorf("%w: loca", errBadFont)
	}
	if f.cmap, err = parseCmap(f.tables["cmap"]); err != nil {
		return nil, err
	}
	f.psName = parsePSName(f.tables["name"])
	f.loca, f.glyf, f.hmtx = f.tables["loca"], f.tables["glyf"], f.tables["hmtx"]
	return f, nil
}

// parseCmap reads the best Unicode subtable: format 12 (3,10 or 0,4) first,
// then format 4 (3,1 or 0,3).
func parseCmap(b []byte) (map[rune]uint16, error) {
	n := u16(b, 2)
	best, bestRank := -1, 0
	for i := 0; i < n; i++ {
		r := 4 + 8*i
		pid, eid, off := u16(b, r), u16(b, r+2), u32(b, r+4)
		if off+4 > len(b) {
			continue
		}
		format := u16(b, off)
		rank := 0
		switch {
		case format == 12 && (pid == 3 && eid == 10 || pid == 0):
			rank = 3
		case format == 4 && (pid == 3 && eid == 1 || pid == 0):
			rank = 2
		}
		if rank > bestRank {
			best, bestRank = off, rank
		}
	}
	if best < 0 {
		return nil, fmt.Errorf("%w: no Unicode cmap (format 4 or 12)", errBadFont)
	}
	m := make(map[rune]uint16, 32768)
	if bestRank == 3 {
		groups := u32(b, best+12)
		for g := 0; g < groups; g++ {
			r := best + 16 + 12*g
			start, end, gid := u32(b, r), u32(b, r+4), u32(b, r+8)
			if end < start || end > 0x10FFFF || end-start > 0x10FFFF {
				return nil, fmt.Errorf("%w: cmap group", errBadFont)
			}
			for c := start; c <= end; c++ {
				if g := gid + c - start; g > 0 && g < 65536 {
					m[rune(c)] = uint16(g)
				}
			}
		}
		return m, nil
	}
	segX2 := u16(b, best+6)
	ends := best + 14
	starts := ends + segX2 + 2
	deltas := starts + segX2
	ranges := deltas + segX2
	for s := 0; s < segX2/2; s++ {
		end, start := u16(b, ends+2*s), u16(b, starts+2*s)
		delta, ro := u16(b, deltas+2*s), u16(b, ranges+2*s)
		for c := start; c <= end && c != 0xFFFF; c++ {
			var g int
			if ro == 0 {
				g = (c + delta) & 0xFFFF
			} else {
				p := ranges + 2*s + ro + 2*(c-start)
				if p+2 > len(b) {
					continue
				}
				if g = u16(b, p); g != 0 {
					g = (g + delta) & 0xFFFF
				}
			}
			if g != 0 {
				m[rune(c)] = uint16(g)
			}
		}
	}
	return m, nil
}

// parsePSName returns the PostScript name (name ID 6), letters and digits only.
func parsePSName(b []byte) string {
	name := ""
	func() {
		defer func() { _ = recover() }()
		n, strOff := u16(b, 2), u16(b, 4)
		for i := 0; i < n; i++ {
			r := 6 + 12*i
			pid, nid, l, o := u16(b, r), u16(b, r+6), u16(b, r+8), u16(b, r+10)
			if nid != 6 {
				continue
			}
			raw := b[strOff+o : strOff+o+l]
			if pid == 3 || pid == 0 {
				u := make([]uint16, len(raw)/2)
				for j := range u {
					u[j] = uint16(u16(raw, 2*j))
				}
				name = string(utf16.Decode(u))
			} else {
				name = string(raw)
			}
			if name != "" {
				return
			}
		}
	}()
	clean := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' {
			clean = append(clean, c)
		}
	}
	if len(clean) == 0 {
		return "CJKFont"
	}
	return string(clean)
}

// advance returns the advance width of glyph g in font units.
func (f *sfnt) advance(g uint16) int {
	hm := f.hmtx
	if int(g) < f.numHM {
		return u16(hm, 4*int(g))
	}
	return u16(hm, 4*(f.numHM-1))
}

func (f *sfnt) lsb(g uint16) int {
	hm := f.hmtx
	if int(g) < f.numHM {
		return u16(hm, 4*int(g)+2)
	}
	p := 4*f.numHM + 2*(int(g)-f.numHM)
	if p+2 > len(hm) {
		return 0
	}
	return u16(hm, p)
}

// glyph returns the glyf data of g (empty for blank glyphs).
func (f *sfnt) glyph(g uint16) []byte {
	loca, glyf := f.loca, f.glyf
	var a, b int
	if f.longLoca {
		a, b = u32(loca, 4*int(g)), u32(loca, 4*int(g)+4)
	} else {
		a, b = 2*u16(loca, 2*int(g)), 2*u16(loca, 2*int(g)+2)
	}
	if a >= b || b > len(glyf) {
		return nil
	}
	return glyf[a:b]
}

// Composite glyph flags.
const (
	argsAreWords    = 0x0001
	haveScale       = 0x0008
	moreComponents  = 0x0020
	haveXYScale     = 0x0040
	haveTwoByTwo    = 0x0080
	haveInstruction = 0x0100
)

// components calls fn with the byte offset of each component glyph index of a
// composite glyph.
func components(data []byte, fn func(off int)) {
	if len(data) < 10 || i16(data, 0) >= 0 {
		return
	}
	p := 10
	for p+4 <= len(data) {
		flags := u16(data, p)
		fn(p + 2)
		p += 4
		if flags&argsAreWords != 0 {
			p += 4
		} else {
			p += 2
		}
		switch {
		case flags&haveScale != 0:
			p += 2
		case flags&haveXYScale != 0:
			p += 4
		case flags&haveTwoByTwo != 0:
			p += 8
		}
		if flags&moreComponents == 0 {
			return
		}
	}
}

// covers reports whether the font maps r to a glyph. Spaces and line breaks
// are always covered.
func (f *sfnt) covers(r rune) bool {
	if r == '\n' {
		return true
	}
	_, ok := f.cmap[r]
	return ok
}

// subset is the glyph set of one document: new glyph ids in order of first use.
type subset struct {
	f      *sfnt
	byRune map[rune]uint16 // rune → new glyph id (= CID)
	orig   []uint16        // new id → original glyph id; orig[0] = .notdef
	runes  []rune          // new id → rune (0 for components)
	used   int             // ids 1..used carry text; the rest are components
}

func newSubset(f *sfnt) *subset {
	return &subset{f: f, byRune: make(map[rune]uint16, 256), orig: make([]uint16, 1, 256), runes: make([]rune, 1, 256)}
}

// cid returns the subset id of r, adding it. ok is false when the font lacks r.
func (s *subset) cid(r rune) (uint16, bool) {
	if c, ok := s.byRune[r]; ok {
		return c, true
	}
	g, ok := s.f.cmap[r]
	if !ok {
		return 0, false
	}
	c := uint16(len(s.orig))
	s.byRune[r] = c
	s.orig = append(s.orig, g)
	s.runes = append(s.runes, r)
	s.used = len(s.orig) - 1
	return c, true
}

// width returns the advance of r in 1/1000 em (0 when uncovered).
func (f *sfnt) width(r rune) float64 {
	g, ok := f.cmap[r]
	if !ok {
		return 0
	}
	return float64(f.advance(g)) * 1000 / float64(f.unitsPerEm)
}

// build writes a TrueType font holding exactly the subset's glyphs, renumbered
// 0..n-1, with the components of composite glyphs appended and remapped. parts
// lists, in order, the byte ranges of the program that are the same in every
// subset of the font (simple glyphs and the copied tables, each with its
// padding) and the ranges between them; fontStream deflates the former once.
func (s *subset) build() (prog []byte, parts []fontPart) {
	f := s.f
	// Close over composite components.
	newID := make(map[uint16]uint16, 2*len(s.orig)) // room for the components
	for i, g := range s.orig[:s.used+1] {
		if _, ok := newID[g]; !ok {
			newID[g] = uint16(i)
		}
	}
	for i := 0; i < len(s.orig); i++ {
		components(f.glyph(s.orig[i]), func(off int) {
			g := uint16(u16(f.glyph(s.orig[i]), off))
			if _, ok := newID[g]; !ok && int(g) < f.numGlyphs {
				newID[g] = uint16(len(s.orig))
				s.orig = append(s.orig, g)
				s.runes = append(s.runes, 0)
			}
		})
	}
	n := len(s.orig)
	// glyf + loca
	size := 0
	for _, g := range s.orig {
		size += (len(f.glyph(g)) + 3) &^ 3
	}
	glyf := getBuf(size)
	loca := make([]byte, 4*(n+1))
	glyphs := make([]fontPart, 0, n)
	for i, g := range s.orig {
		binary.BigEndian.PutUint32(loca[4*i:], uint32(len(glyf)))
		d := f.glyph(g)
		start := len(glyf)
		glyf = append(glyf, d...)
		composite := false
		components(d, func(off int) {
			composite = true
			old := uint16(u16(d, off))
			binary.BigEndian.PutUint16(glyf[start+off:], newID[old])
		})
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
		// A composite's component ids are renumbered per subset: it stays
		// in the per-document ranges.
		if !composite && len(glyf) > start {
			glyphs = append(glyphs, fontPart{off: start, end: len(glyf), key: fragKey(g)})
		}
	}
	binary.BigEndian.PutUint32(loca[4*n:], uint32(len(glyf)))
	// hmtx
	hmtx := make([]byte, 4*n)
	advMax := 0
	for i, g := range s.orig {
		a := f.advance(g)
		advMax = max(advMax, a)
		binary.BigEndian.PutUint16(hmtx[4*i:], uint16(a))
		binary.BigEndian.PutUint16(hmtx[4*i+2:], uint16(f.lsb(g)))
	}
	head := append([]byte(nil), f.tables["head"][:54]...)
	binary.BigEndian.PutUint32(head[8:], 0) // checkSumAdjustment, set below
	binary.BigEndian.PutUint16(head[50:], 1)
	hhea := append([]byte(nil), f.tables["hhea"][:36]...)
	binary.BigEndian.PutUint16(hhea[10:], uint16(advMax))
	binary.BigEndian.PutUint16(hhea[34:], uint16(n))
	maxp := append([]byte(nil), f.tables["maxp"]...)
	binary.BigEndian.PutUint16(maxp[4:], uint16(n))
	// A format 4 cmap with only the terminating segment: glyphs are addressed
	// by id through CIDToGIDMap /Identity.
	cmap := []byte{0, 0, 0, 1, 0, 3, 0, 1, 0, 0, 0, 12,
		0, 4, 0, 24, 0, 0, 0, 2, 0, 2, 0, 0, 0, 0,
		0xFF, 0xFF, 0, 0, 0xFF, 0xFF, 0, 1, 0, 0}
	post := make([]byte, 32)
	post[1] = 3
	tables := map[string][]byte{"cmap": cmap, "glyf": glyf, "head": head, "hhea": hhea, "hmtx": hmtx, "loca": loca, "maxp": maxp, "post": post}
	for _, t := range copiedTables {
		if b := f.tables[t]; b != nil {
			tables[t] = b
		}
	}
	prog, offs := writeSFNT(tables)
	putBuf(glyf)
	// The fixed ranges in program order: tables are sorted by tag, so the
	// copied tables fall before or after glyf as a whole.
	fixed := make([]fontPart, 0, len(glyphs)+len(copiedTables))
	for _, t := range sortedTags(tables) {
		if t == "glyf" {
			for _, g := range glyphs {
				fixed = append(fixed, fontPart{off: offs[t] + g.off, end: offs[t] + g.end, key: g.key})
			}
			continue
		}
		if k := slices.Index(copiedTables, t); k >= 0 {
			o := offs[t]
			fixed = append(fixed, fontPart{off: o, end: o + (len(tables[t])+3)&^3, key: fragKeyTable + fragKey(k)})
		}
	}
	parts = make([]fontPart, 0, 2*len(fixed)+1)
	at := 0
	for _, p := range fixed {
		if p.off > at {
			parts = append(parts, fontPart{off: at, end: p.off, key: fragLiteral})
		}
		parts = append(parts, p)
		at = p.end
	}
	if at < len(prog) {
		parts = append(parts, fontPart{off: at, end: len(prog), key: fragLiteral})
	}
	return prog, parts
}

// copiedTables are the tables a subset takes unchanged from the font.
var copiedTables = []string{"cvt ", "fpgm", "prep", "OS/2"}

func sortedTags(tables map[string][]byte) []string {
	tags := make([]string, 0, len(tables))
	for t := range tables {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	return tags
}

func ttChecksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i+4 <= len(b); i += 4 {
		sum += binary.BigEndian.Uint32(b[i:])
	}
	if r := len(b) % 4; r != 0 {
		var last [4]byte
		copy(last[:], b[len(b)-r:])
		sum += binary.BigEndian.Uint32(last[:])
	}
	return sum
}

// writeSFNT assembles tables into a font file with a sorted directory and
// returns it with the offset of every table.
func writeSFNT(tables map[string][]byte) ([]byte, map[string]int) {
	tags := sortedTags(tables)
	offs := make(map[string]int, len(tables))
	size := 12 + 16*len(tables)
	for _, b := range tables {
		size += (len(b) + 3) &^ 3
	}
	out := getBuf(size)[:12+16*len(tags)]
	clear(out)
	binary.BigEndian.PutUint32(out, 0x00010000)
	n := len(tags)
	binary.BigEndian.PutUint16(out[4:], uint16(n))
	es := 0
	for 1<<(es+1) <= n {
		es++
	}
	binary.BigEndian.PutUint16(out[6:], uint16(16<<es))
	binary.BigEndian.PutUint16(out[8:], uint16(es))
	binary.BigEndian.PutUint16(out[10:], uint16(16*n-16<<es))
	headOff := 0
	for i, t := range tags {
		b := tables[t]
		r := 12 + 16*i
		copy(out[r:], t)
		binary.BigEndian.PutUint32(out[r+4:], ttChecksum(b))
		binary.BigEndian.PutUint32(out[r+8:], uint32(len(out)))
		binary.BigEndian.PutUint32(out[r+12:], uint32(len(b)))
		if t == "head" {
			headOff = len(out)
		}
		offs[t] = len(out)
		out = append(out, b...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	binary.BigEndian.PutUint32(out[headOff+8:], 0xB1B0AFBA-ttChecksum(out))
	return out, offs
}
