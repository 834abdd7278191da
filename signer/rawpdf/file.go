package rawpdf

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
)

// Limits bound the work Parse and Decode do on hostile input.
type Limits struct {
	// MaxFileSize is the largest accepted input; 0 means 64 MiB.
	MaxFileSize int
	// MaxObjects bounds xref /Size; 0 means 1,000,000.
	MaxObjects int
	// MaxRevisions bounds the /Prev chain; 0 means 64.
	MaxRevisions int
	// MaxDecoded bounds one decoded stream; 0 means 32 MiB.
	MaxDecoded int
}

func (l *Limits) norm() Limits {
	var o Limits
	if l != nil {
		o = *l
	}
	if o.MaxFileSize == 0 {
		o.MaxFileSize = 64 << 20
	}
	if o.MaxObjects == 0 {
		o.MaxObjects = 1_000_000
	}
	if o.MaxRevisions == 0 {
		o.MaxRevisions = 64
	}
	if o.MaxDecoded == 0 {
		o.MaxDecoded = 32 << 20
	}
	return o
}

// EntryType is the type of an xref entry.
type EntryType int

// Entry types.
const (
	EntryFree       EntryType = 0
	EntryInUse      EntryType = 1 // Offset is a byte offset
	EntryCompressed EntryType = 2 // in object stream StreamNum at Index
)

// Entry is one cross-reference entry.
type Entry struct {
	Type      EntryType
	Offset    int
	Gen       int
	StreamNum int
	Index     int
}

// Revision is one cross-reference section with its trailer: the original
// file or one incremental update.
type Revision struct {
	// XrefOffset is the offset of the "xref" keyword or of the xref stream
	// object (the value after startxref).
	XrefOffset int
	// IsStream tells a cross-reference stream from a classic table.
	IsStream bool
	// Trailer is the trailer dictionary (the xref stream dictionary for
	// streams).
	Trailer Dict
	// Entries are the objects this revision defines (object number → entry).
	Entries map[int]Entry
	// End is the offset just after this revision's "%%EOF" marker and its
	// end-of-line, or -1 when not found.
	End int
}

// File is a parsed PDF. It keeps a reference to the input; nothing is
// copied. Objects are parsed lazily on Resolve. A File is not safe for
// concurrent use.
type File struct {
	// Data is the input.
	Data []byte
	// Version is the header version, e.g. "1.7".
	Version string
	// Revisions are oldest first; the last one is the current revision.
	Revisions []*Revision
	// Trailer is the current trailer.
	Trailer Dict

	xref   map[int]Entry
	limits Limits
	cache  map[int]Object
	objstm map[int]*objStream
	busy   map[int]bool
}

// Parse reads the header, the startxref pointer and the whole chain of
// cross-reference sections (tables and streams) without repairing anything.
// Encrypted files are rejected with ErrUnsupported.
func Parse(data []byte, lim *Limits) (f *File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("%w: %v", ErrSyntax, r)
		}
	}()
	l := lim.norm()
	if len(data) > l.MaxFileSize {
		return nil, fmt.Errorf("%w: file size %d", ErrLimit, len(data))
	}
	if !bytes.HasPrefix(data, []byte("%PDF-")) || len(data) < 8 {
		return nil, fmt.Errorf("%w: no %%PDF- header", ErrSyntax)
	}
	f = &File{Data: data, limits: l, xref: map[int]Entry{}, cache: map[int]Object{}, objstm: map[int]*objStream{}, busy: map[int]bool{}}
	eol := bytes.IndexAny(data[:min(len(data), 32)], "\r\n")
	if eol < 0 {
		return nil, fmt.Errorf("%w: header line", ErrSyntax)
	}
	f.Version = string(bytes.TrimSpace(data[5:eol]))
	start, err := lastStartXref(data)
	if err != nil {
		return nil, err
	}
	seen := map[int]bool{}
	var revs []*Revision
	off := start
	for {
		if seen[off] {
			return nil, fmt.Errorf("%w: /Prev loop at %d", ErrXref, off)
		}
		seen[off] = true
		if len(revs) >= l.MaxRevisions {
			return nil, fmt.Errorf("%w: more than %d revisions", ErrLimit, l.MaxRevisions)
		}
		rev, err := f.readXref(off)
		if err != nil {
			return nil, err
		}
		revs = append(revs, rev)
		prev, ok := rev.Trailer["Prev"]
		if !ok {
			break
		}
		p, ok := prev.(Int)
		if !ok || p < 0 || int(p) >= len(data) {
			return nil, fmt.Errorf("%w: bad /Prev", ErrXref)
		}
		off = int(p)
	}
	// oldest first; later revisions override entries
	for i, j := 0, len(revs)-1; i < j; i, j = i+1, j-1 {
		revs[i], revs[j] = revs[j], revs[i]
	}
	f.Revisions = revs
	for _, r := range revs {
		for n, e := range r.Entries {
			f.xref[n] = e
		}
		r.End = revisionEnd(data, r.XrefOffset)
	}
	f.Trailer = revs[len(revs)-1].Trailer
	if _, enc := f.Trailer["Encrypt"]; enc {
		return nil, fmt.Errorf("%w: encrypted PDF", ErrUnsupported)
	}
	if size, ok := f.Trailer.Int("Size"); !ok || size < 1 || size > l.MaxObjects {
		return nil, fmt.Errorf("%w: trailer /Size", ErrXref)
	}
	return f, nil
}

// lastStartXref finds the offset after the last "startxref" keyword.
func lastStartXref(data []byte) (int, error) {
	tail := data[max(0, len(data)-2048):]
	i := bytes.LastIndex(tail, []byte("startxref"))
	if i < 0 {
		return 0, fmt.Errorf("%w: no startxref", ErrXref)
	}
	l := &lexer{data: data, pos: len(data) - len(tail) + i + len("startxref")}
	n, err := l.readInt()
	if err != nil {
		return 0, err
	}
	if n <= 0 || n >= len(data) {
		return 0, fmt.Errorf("%w: startxref %d outside the file", ErrXref, n)
	}
	l.skipSpace()
	if !bytes.HasPrefix(data[l.pos:], []byte("%%EOF")) {
		return 0, fmt.Errorf("%w: no %%%%EOF after startxref", ErrXref)
	}
	return n, nil
}

// revisionEnd finds "startxref <off> %%EOF" after off and returns the offset
// after %%EOF and its EOL, or -1.
func revisionEnd(data []byte, off int) int {
	p := off
	for {
		i := bytes.Index(data[p:], []byte("startxref"))
		if i < 0 {
			return -1
		}
		l := &lexer{data: data, pos: p + i + len("startxref")}
		n, err := l.readInt()
		l.skipSpace()
		if err == nil && n == off && bytes.HasPrefix(data[l.pos:], []byte("%%EOF")) {
			e := l.pos + 5
			if e < len(data) && data[e] == '\r' {
				e++
			}
			if e < len(data) && data[e] == '\n' {
				e++
			}
			return e
		}
		p = p + i + len("startxref")
	}
}

func (f *File) readXref(off int) (*Revision, error) {
	if off < 0 || off >= len(f.Data) {
		return nil, fmt.Errorf("%w: xref offset %d", ErrXref, off)
	}
	l := &lexer{data: f.Data, pos: off}
	if bytes.HasPrefix(f.Data[off:], []byte("xref")) {
		return f.readXrefTable(l)
	}
	return f.readXrefStream(off)
}

func (f *File) readXrefTable(l *lexer) (*Revision, error) {
	rev := &Revision{XrefOffset: l.pos, Entries: map[int]Entry{}}
	l.pos += 4
	for {
		l.skipWS()
		if bytes.HasPrefix(f.Data[l.pos:], []byte("trailer")) {
			l.pos += 7
			break
		}
		first, err := l.readInt()
		if err != nil {
			return nil, fmt.Errorf("%w: xref subsection: %w", ErrXref, err)
		}
		count, err := l.readInt()
		if err != nil {
			return nil, fmt.Errorf("%w: xref subsection: %w", ErrXref, err)
		}
		if first+count > f.limits.MaxObjects {
			return nil, fmt.Errorf("%w: xref subsection too large", ErrLimit)
		}
		l.skipWS()
		if l.pos+20*count > len(f.Data) {
			return nil, fmt.Errorf("%w: xref table truncated", ErrXref)
		}
		for i := 0; i < count; i++ {
			line := f.Data[l.pos : l.pos+20]
			if line[10] != ' ' || line[16] != ' ' || (line[17] != 'n' && line[17] != 'f') || !isWS(line[18]) || !isWS(line[19]) {
				return nil, fmt.Errorf("%w: xref entry at %d", ErrXref, l.pos)
			}
			o, ok1 := atoi(line[:10])
			g, ok2 := atoi(line[11:16])
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("%w: xref entry at %d", ErrXref, l.pos)
			}
			e := Entry{Type: EntryFree, Gen: g}
			if line[17] == 'n' {
				e = Entry{Type: EntryInUse, Offset: o, Gen: g}
			}
			rev.Entries[first+i] = e
			l.pos += 20
		}
	}
	t, err := l.object()
	if err != nil {
		return nil, err
	}
	d, ok := t.(Dict)
	if !ok {
		return nil, fmt.Errorf("%w: trailer is not a dictionary", ErrXref)
	}
	if _, ok := d["XRefStm"]; ok {
		return nil, fmt.Errorf("%w: hybrid-reference file (/XRefStm)", ErrUnsupported)
	}
	rev.Trailer = d
	return rev, nil
}

func atoi(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func (f *File) readXrefStream(off int) (*Revision, error) {
	_, o, err := f.parseIndirectAt(off, -1)
	if err != nil {
		return nil, fmt.Errorf("%w: xref stream: %w", ErrXref, err)
	}
	s, ok := o.(*Stream)
	if !ok {
		return nil, fmt.Errorf("%w: xref stream expected at %d", ErrXref, off)
	}
	if t, _ := s.Dict.Name("Type"); t != "XRef" {
		return nil, fmt.Errorf("%w: not /Type /XRef at %d", ErrXref, off)
	}
	data, err := f.decode(s)
	if err != nil {
		return nil, err
	}
	w, ok := s.Dict["W"].(Array)
	if !ok || len(w) != 3 {
		return nil, fmt.Errorf("%w: xref stream /W", ErrXref)
	}
	var ws [3]int
	for i := range ws {
		v, ok := w[i].(Int)
		if !ok || v < 0 || v > 8 {
			return nil, fmt.Errorf("%w: xref stream /W", ErrXref)
		}
		ws[i] = int(v)
	}
	size, ok := s.Dict.Int("Size")
	if !ok || size < 0 || size > f.limits.MaxObjects {
		return nil, fmt.Errorf("%w: xref stream /Size", ErrXref)
	}
	index := Array{Int(0), Int(size)}
	if a, ok := s.Dict["Index"].(Array); ok {
		index = a
	}
	if len(index)%2 != 0 {
		return nil, fmt.Errorf("%w: xref stream /Index", ErrXref)
	}
	rev := &Revision{XrefOffset: off, IsStream: true, Trailer: s.Dict, Entries: map[int]Entry{}}
	rowLen := ws[0] + ws[1] + ws[2]
	if rowLen == 0 {
		return nil, fmt.Errorf("%w: xref stream /W", ErrXref)
	}
	p := 0
	for i := 0; i < len(index); i += 2 {
		first, ok1 := index[i].(Int)
		count, ok2 := index[i+1].(Int)
		if !ok1 || !ok2 || first < 0 || count < 0 || int(first+count) > f.limits.MaxObjects {
			return nil, fmt.Errorf("%w: xref stream /Index", ErrXref)
		}
		for j := 0; j < int(count); j++ {
			if p+rowLen > len(data) {
				return nil, fmt.Errorf("%w: xref stream data truncated", ErrXref)
			}
			row := data[p : p+rowLen]
			p += rowLen
			typ := 1
			if ws[0] > 0 {
				typ = be(row[:ws[0]])
			}
			a, b := be(row[ws[0]:ws[0]+ws[1]]), be(row[ws[0]+ws[1]:])
			var e Entry
			switch typ {
			case 0:
				e = Entry{Type: EntryFree, Gen: b}
			case 1:
				e = Entry{Type: EntryInUse, Offset: a, Gen: b}
			case 2:
				e = Entry{Type: EntryCompressed, StreamNum: a, Index: b}
			default:
				continue // reserved types are treated as null references
			}
			rev.Entries[int(first)+j] = e
		}
	}
	return rev, nil
}

func be(b []byte) int {
	n := 0
	for _, c := range b {
		n = n<<8 | int(c)
	}
	return n
}

// parseIndirectAt parses "num gen obj ... endobj" at off. wantNum < 0
// accepts any number.
func (f *File) parseIndirectAt(off, wantNum int) (Ref, Object, error) {
	if off <= 0 || off >= len(f.Data) {
		return Ref{}, nil, fmt.Errorf("%w: object offset %d", ErrXref, off)
	}
	l := &lexer{data: f.Data, pos: off}
	num, err := l.readInt()
	if err != nil {
		return Ref{}, nil, err
	}
	gen, err := l.readInt()
	if err != nil {
		return Ref{}, nil, err
	}
	if err := l.expect("obj"); err != nil {
		return Ref{}, nil, err
	}
	if wantNum >= 0 && num != wantNum {
		return Ref{}, nil, fmt.Errorf("%w: offset %d holds object %d, want %d", ErrXref, off, num, wantNum)
	}
	o, err := l.object()
	if err != nil {
		return Ref{}, nil, err
	}
	save := l.pos
	kw := l.keyword()
	if string(kw) == "stream" {
		d, ok := o.(Dict)
		if !ok {
			return Ref{}, nil, l.errf("stream without dictionary")
		}
		p := l.pos
		if p < len(f.Data) && f.Data[p] == '\r' {
			p++
		}
		if p >= len(f.Data) || f.Data[p] != '\n' {
			if f.Data[p-1] != '\r' {
				return Ref{}, nil, l.errf("stream keyword not followed by EOL")
			}
		} else {
			p++
		}
		n, err := f.streamLength(d, num)
		if err != nil {
			return Ref{}, nil, err
		}
		if n < 0 || p+n > len(f.Data) {
			return Ref{}, nil, l.errf("stream /Length %d out of file", n)
		}
		s := &Stream{Dict: d, DataStart: p, DataEnd: p + n}
		l.pos = p + n
		if err := l.expect("endstream"); err != nil {
			return Ref{}, nil, fmt.Errorf("%w (wrong /Length?)", err)
		}
		o = s
	} else {
		l.pos = save
	}
	if err := l.expect("endobj"); err != nil {
		return Ref{}, nil, err
	}
	return Ref{Num: num, Gen: gen}, o, nil
}

func (f *File) streamLength(d Dict, self int) (int, error) {
	switch v := d["Length"].(type) {
	case Int:
		return int(v), nil
	case Ref:
		if v.Num == self {
			return 0, fmt.Errorf("%w: /Length refers to its own stream", ErrSyntax)
		}
		o, err := f.Resolve(v)
		if err != nil {
			return 0, err
		}
		if n, ok := o.(Int); ok {
			return int(n), nil
		}
	}
	return 0, fmt.Errorf("%w: stream /Length missing or not an integer", ErrSyntax)
}

// Resolve follows references until a direct object; a missing object
// resolves to Null (PDF semantics), a broken one is an error.
func (f *File) Resolve(o Object) (Object, error) {
	for i := 0; i < 32; i++ {
		r, ok := o.(Ref)
		if !ok {
			return o, nil
		}
		var err error
		if o, err = f.object(r.Num); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: reference chain too long", ErrSyntax)
}

// Object returns object num of the current revision.
func (f *File) Object(num int) (Object, error) { return f.object(num) }

func (f *File) object(num int) (Object, error) {
	if o, ok := f.cache[num]; ok {
		return o, nil
	}
	e, ok := f.xref[num]
	if !ok || e.Type == EntryFree {
		return Null{}, nil
	}
	if f.busy[num] {
		return nil, fmt.Errorf("%w: object %d refers to itself", ErrSyntax, num)
	}
	f.busy[num] = true
	defer delete(f.busy, num)
	var o Object
	var err error
	switch e.Type {
	case EntryInUse:
		_, o, err = f.parseIndirectAt(e.Offset, num)
	case EntryCompressed:
		o, err = f.fromObjStream(e.StreamNum, e.Index, num)
	}
	if err != nil {
		return nil, fmt.Errorf("object %d: %w", num, err)
	}
	f.cache[num] = o
	return o, nil
}

// Lookup returns the current xref entry of object num.
func (f *File) Lookup(num int) (Entry, bool) {
	e, ok := f.xref[num]
	return e, ok
}

// ObjectAt parses the indirect object at a byte offset (for inspecting an
// older revision's version of an object).
func (f *File) ObjectAt(off int) (Ref, Object, error) { return f.parseIndirectAt(off, -1) }

type objStream struct {
	data    []byte
	offsets []int
	nums    []int
}

func (f *File) fromObjStream(snum, idx, num int) (Object, error) {
	os, ok := f.objstm[snum]
	if !ok {
		o, err := f.object(snum)
		if err != nil {
			return nil, err
		}
		s, ok := o.(*Stream)
		if !ok {
			return nil, fmt.Errorf("%w: object stream %d is not a stream", ErrXref, snum)
		}
		if t, _ := s.Dict.Name("Type"); t != "ObjStm" {
			return nil, fmt.Errorf("%w: object %d is not /Type /ObjStm", ErrXref, snum)
		}
		data, err := f.decode(s)
		if err != nil {
			return nil, err
		}
		n, ok1 := s.Dict.Int("N")
		first, ok2 := s.Dict.Int("First")
		if !ok1 || !ok2 || n < 0 || n > len(data) || first < 0 || first > len(data) {
			return nil, fmt.Errorf("%w: object stream %d header", ErrSyntax, snum)
		}
		os = &objStream{data: data}
		l := &lexer{data: data[:first]}
		for i := 0; i < n; i++ {
			on, err1 := l.readInt()
			oo, err2 := l.readInt()
			if err1 != nil || err2 != nil || first+oo > len(data) {
				return nil, fmt.Errorf("%w: object stream %d header", ErrSyntax, snum)
			}
			os.nums = append(os.nums, on)
			os.offsets = append(os.offsets, first+oo)
		}
		f.objstm[snum] = os
	}
	if idx < 0 || idx >= len(os.nums) || os.nums[idx] != num {
		return nil, fmt.Errorf("%w: object %d not at index %d of stream %d", ErrXref, num, idx, snum)
	}
	l := &lexer{data: os.data, pos: os.offsets[idx]}
	return l.object()
}

// StreamData returns the decoded data of s (FlateDecode with PNG predictors,
// or no filter), bounded by Limits.MaxDecoded.
func (f *File) StreamData(s *Stream) ([]byte, error) { return f.decode(s) }

// RawStreamData returns the encoded bytes of s (a sub-slice of Data).
func (f *File) RawStreamData(s *Stream) []byte { return f.Data[s.DataStart:s.DataEnd] }

func (f *File) decode(s *Stream) ([]byte, error) {
	raw := f.Data[s.DataStart:s.DataEnd]
	filter, err := f.Resolve(s.Dict["Filter"])
	if err != nil {
		return nil, err
	}
	parms, _ := f.Resolve(s.Dict["DecodeParms"])
	switch v := filter.(type) {
	case Null, nil:
		return raw, nil
	case Array:
		if len(v) == 0 {
			return raw, nil
		}
		if len(v) != 1 {
			return nil, fmt.Errorf("%w: filter chains", ErrUnsupported)
		}
		filter = v[0]
		if a, ok := parms.(Array); ok && len(a) == 1 {
			parms, _ = f.Resolve(a[0])
		}
	}
	if n, _ := filter.(Name); n != "FlateDecode" {
		return nil, fmt.Errorf("%w: filter %v", ErrUnsupported, filter)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: flate: %w", ErrSyntax, err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, int64(f.limits.MaxDecoded)+1))
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("%w: flate: %w", ErrSyntax, err)
	}
	if len(out) > f.limits.MaxDecoded {
		return nil, fmt.Errorf("%w: decoded stream larger than %d", ErrLimit, f.limits.MaxDecoded)
	}
	if d, ok := parms.(Dict); ok {
		if p, _ := d.Int("Predictor"); p >= 10 {
			cols, ok := d.Int("Columns")
			if !ok {
				cols = 1
			}
			colors, ok := d.Int("Colors")
			if !ok {
				colors = 1
			}
			bpc, ok := d.Int("BitsPerComponent")
			if !ok {
				bpc = 8
			}
			return unpredictPNG(out, cols, colors, bpc)
		} else if p > 1 {
			return nil, fmt.Errorf("%w: TIFF predictor", ErrUnsupported)
		}
	}
	return out, nil
}

func unpredictPNG(in []byte, cols, colors, bpc int) ([]byte, error) {
	if cols <= 0 || colors <= 0 || bpc <= 0 || cols > 1<<20 || colors > 32 || bpc > 16 {
		return nil, fmt.Errorf("%w: predictor parameters", ErrSyntax)
	}
	bpp := max(1, colors*bpc/8)
	rowLen := (cols*colors*bpc + 7) / 8
	if len(in)%(rowLen+1) != 0 {
		return nil, fmt.Errorf("%w: predictor row size", ErrSyntax)
	}
	out := make([]byte, 0, len(in)/(rowLen+1)*rowLen)
	prev := make([]byte, rowLen)
	for p := 0; p < len(in); p += rowLen + 1 {
		ft := in[p]
		row := append([]byte(nil), in[p+1:p+1+rowLen]...)
		for i := range row {
			var a, b, c byte
			if i >= bpp {
				a = row[i-bpp]
				c = prev[i-bpp]
			}
			b = prev[i]
			switch ft {
			case 0:
			case 1:
				row[i] += a
			case 2:
				row[i] += b
			case 3:
				row[i] += byte((int(a) + int(b)) / 2)
			case 4:
				row[i] += paeth(a, b, c)
			default:
				return nil, fmt.Errorf("%w: PNG filter type %d", ErrSyntax, ft)
			}
		}
		out = append(out, row...)
		prev = row
	}
	return out, nil
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	if pa <= pb && pa <= pc {
		return a
	}
	if pb <= pc {
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Catalog returns the document catalog (/Root) and its reference.
func (f *File) Catalog() (Ref, Dict, error) {
	r, ok := f.Trailer["Root"].(Ref)
	if !ok {
		return Ref{}, nil, fmt.Errorf("%w: trailer /Root is not a reference", ErrSyntax)
	}
	o, err := f.Resolve(r)
	if err != nil {
		return Ref{}, nil, err
	}
	d, ok := o.(Dict)
	if !ok {
		return Ref{}, nil, fmt.Errorf("%w: catalog is not a dictionary", ErrSyntax)
	}
	return r, d, nil
}

// FirstPage returns page 1 and its reference, descending /Pages → /Kids[0].
// Inheritable attributes (MediaBox) are returned in inherited.
func (f *File) FirstPage() (ref Ref, page Dict, mediaBox Array, err error) {
	_, cat, err := f.Catalog()
	if err != nil {
		return Ref{}, nil, nil, err
	}
	node, ok := cat["Pages"].(Ref)
	if !ok {
		return Ref{}, nil, nil, fmt.Errorf("%w: /Pages is not a reference", ErrSyntax)
	}
	for depth := 0; depth < 32; depth++ {
		o, err := f.Resolve(node)
		if err != nil {
			return Ref{}, nil, nil, err
		}
		d, ok := o.(Dict)
		if !ok {
			return Ref{}, nil, nil, fmt.Errorf("%w: page tree node %v", ErrSyntax, node)
		}
		if mb, err := f.Resolve(d["MediaBox"]); err == nil {
			if a, ok := mb.(Array); ok {
				mediaBox = a
			}
		}
		if t, _ := d.Name("Type"); t == "Page" {
			return node, d, mediaBox, nil
		}
		kids, err := f.Resolve(d["Kids"])
		if err != nil {
			return Ref{}, nil, nil, err
		}
		ka, ok := kids.(Array)
		if !ok || len(ka) == 0 {
			return Ref{}, nil, nil, fmt.Errorf("%w: empty page tree", ErrSyntax)
		}
		if node, ok = ka[0].(Ref); !ok {
			return Ref{}, nil, nil, fmt.Errorf("%w: /Kids entry is not a reference", ErrSyntax)
		}
	}
	return Ref{}, nil, nil, fmt.Errorf("%w: page tree too deep", ErrSyntax)
}

// Number converts an Int or Real to float64.
func Number(o Object) (float64, bool) {
	switch v := o.(type) {
	case Int:
		return float64(v), true
	case Real:
		return float64(v), true
	}
	return 0, false
}
