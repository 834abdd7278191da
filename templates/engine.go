package templates

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"

	"elicense/catalog"
)

// defaultFS holds the embedded templates and the files they refer to
// (backgrounds).
//
//go:embed defaults
var defaultFS embed.FS

// Options configure Load. The zero value uses the embedded templates and
// DefaultFontPaths.
type Options struct {
	// FontPaths are searched in order for a TrueType font (.ttf or .ttc);
	// empty means DefaultFontPaths.
	FontPaths []string
	// OverrideDir, when set, holds <key>.json template files that replace or
	// add to the embedded ones, and the files they refer to (backgrounds).
	// A missing directory is not an error.
	OverrideDir string
	// FlateLevel is the compress/flate level of the per-document streams;
	// 0 means flate.BestSpeed.
	FlateLevel int
}

// Engine renders licenses. It is immutable after Load and safe for
// concurrent use.
type Engine struct {
	font  *sfnt
	keys  []string // stable order
	tmpl  map[string]*compiled
	level int
	zpool sync.Pool // *zlib.Writer
	fpool sync.Pool // *flate.Writer
}

// bufs holds the output and scratch buffers of documents being rendered:
// reusing them spares the collector about 200 KB of garbage per document.
var bufs sync.Pool // *[]byte

// getBuf returns an empty buffer of at least capacity n.
func getBuf(n int) []byte {
	if p, ok := bufs.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]byte, 0, n)
}

// putBuf gives b back for reuse; the caller must not use it afterwards.
func putBuf(b []byte) {
	if cap(b) == 0 || cap(b) > 4<<20 {
		return
	}
	b = b[:0]
	bufs.Put(&b)
}

// compiled is a template with its static drawing serialised once.
type compiled struct {
	t         *Template
	static    []byte // deflated content stream of the static graphics
	staticLen int
	texts     []Element
	bg        *background // nil without a background
}

// Load parses the embedded templates, the override directory and the font.
// The font file is parsed once per process and shared between engines.
// Errors wrap ErrNoFont or ErrBadTemplate.
func Load(opts Options) (*Engine, error) {
	paths := opts.FontPaths
	if len(paths) == 0 {
		paths = DefaultFontPaths()
	}
	font, err := loadFont(paths)
	if err != nil {
		return nil, err
	}
	level := opts.FlateLevel
	if level == 0 {
		level = flate.BestSpeed
	}
	if level < flate.HuffmanOnly || level > flate.BestCompression {
		return nil, fmt.Errorf("templates: flate level %d out of range", level)
	}
	e := &Engine{font: font, tmpl: map[string]*compiled{}, level: level}
	files := map[string][]byte{}
	defaults, err := fs.Sub(defaultFS, "defaults")
	if err != nil {
		return nil, err
	}
	assets := func(n string) fs.FS { return defaults }
	names, _ := fs.Glob(defaultFS, "defaults/*.json")
	for _, n := range names {
		b, err := defaultFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		files[n] = b
	}
	if opts.OverrideDir != "" {
		ents, err := os.ReadDir(opts.OverrideDir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("templates: override dir: %w", err)
		}
		if len(ents) > 0 {
			// Files next to an override template are read through an
			// os.Root: no path or symbolic link leads out of the directory.
			root, err := os.OpenRoot(opts.OverrideDir)
			if err != nil {
				return nil, fmt.Errorf("templates: override dir: %w", err)
			}
			defer root.Close()
			assets = func(n string) fs.FS {
				if strings.HasPrefix(n, "override/") {
					return root.FS()
				}
				return defaults
			}
		}
		for _, de := range ents {
			if de.IsDir() || !strings.HasSuffix(de.Name(), ".json") {
				continue
			}
			p := filepath.Join(opts.OverrideDir, de.Name())
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("templates: %w", err)
			}
			files["override/"+de.Name()] = b
		}
	}
	srcs := make([]string, 0, len(files))
	for n := range files {
		srcs = append(srcs, n)
	}
	sort.Strings(srcs) // defaults/ before override/
	for _, n := range srcs {
		t, err := ParseTemplate(files[n])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		if want := strings.TrimSuffix(filepath.Base(n), ".json"); want != t.Key {
			return nil, fmt.Errorf("%w: %s: file name does not match key %q", ErrBadTemplate, n, t.Key)
		}
		c, err := e.compile(t, assets(n))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		if _, ok := e.tmpl[t.Key]; !ok {
			e.keys = append(e.keys, t.Key)
		}
		e.tmpl[t.Key] = c
	}
	sort.Strings(e.keys)
	return e, nil
}

// compile checks the template against the font and serialises its static
// graphics and its background, whose file is read from assets.
func (e *Engine) compile(t *Template, assets fs.FS) (*compiled, error) {
	c := &compiled{t: t}
	for i, el := range t.Static {
		if el.Kind != KindText {
			continue
		}
		for _, r := range el.Text {
			if !e.font.covers(r) {
				return nil, fmt.Errorf("%w: %s: static[%d]: font lacks %q (U+%04X)", ErrBadTemplate, t.Key, i, r, r)
			}
		}
		c.texts = append(c.texts, el)
	}
	for _, f := range t.Fields {
		for _, r := range f.Label {
			if !e.font.covers(r) {
				return nil, fmt.Errorf("%w: %s: label of %s: font lacks %q (U+%04X)", ErrBadTemplate, t.Key, f.Item, r, r)
			}
		}
		if f.Label != "" && f.LabelX*ptPerMM+e.font.textWidth([]rune(f.Label), f.Size) > f.X*ptPerMM+0.01 {
			return nil, fmt.Errorf("%w: %s: label of %s runs into its value box", ErrBadTemplate, t.Key, f.Item)
		}
	}
	var raw []byte
	if t.Background != nil {
		bg, err := prepareBackground(t, assets)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: background: %w", ErrBadTemplate, t.Key, err)
		}
		c.bg = bg
		raw = append(raw, bg.draw...)
	}
	raw = append(raw, staticGraphics(t)...)
	c.staticLen = len(raw)
	z, err := deflate(raw, flate.BestCompression)
	if err != nil {
		return nil, err
	}
	c.static = z
	return c, nil
}

// Types returns the license types of all templates, ordered by key.
func (e *Engine) Types() []catalog.LicenseType {
	out := make([]catalog.LicenseType, 0, len(e.keys))
	for _, k := range e.keys {
		out = append(out, cloneType(e.tmpl[k].t.Type))
	}
	return out
}

// Type returns the license type with the given key.
func (e *Engine) Type(key string) (catalog.LicenseType, bool) {
	c, ok := e.tmpl[key]
	if !ok {
		return catalog.LicenseType{}, false
	}
	return cloneType(c.t.Type), true
}

// Template returns a copy of the layout of the given type.
func (e *Engine) Template(key string) (*Template, bool) {
	c, ok := e.tmpl[key]
	if !ok {
		return nil, false
	}
	t := *c.t
	t.Type = cloneType(t.Type)
	t.Static = append([]Element(nil), t.Static...)
	t.Fields = append([]Field(nil), t.Fields...)
	if b := t.Background; b != nil {
		bc := *b
		if b.Opacity != nil {
			o := *b.Opacity
			bc.Opacity = &o
		}
		t.Background = &bc
	}
	return &t, true
}

// SealSlot returns the page (1-based) and rectangle [llx lly urx ury] in PDF
// points where the seal of the type goes; page 0 when the type is unknown.
func (e *Engine) SealSlot(typeKey string) (page int, rect [4]float64) {
	c, ok := e.tmpl[typeKey]
	if !ok {
		return 0, rect
	}
	return 1, slotRect(c.t, c.t.Slots.Seal)
}

// slotRect converts an [x y w h] mm box (top-left origin) to PDF points.
func slotRect(t *Template, s [4]float64) [4]float64 {
	r := func(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }
	h := t.Page.Height
	return [4]float64{r(s[0] * ptPerMM), r((h - s[1] - s[3]) * ptPerMM), r((s[0] + s[2]) * ptPerMM), r((h - s[1]) * ptPerMM)}
}

func cloneType(t catalog.LicenseType) catalog.LicenseType {
	t.IssuingDepts = append([]string(nil), t.IssuingDepts...)
	items := make([]catalog.Item, len(t.Items))
	for i, it := range t.Items {
		it.Options = append([]string(nil), it.Options...)
		items[i] = it
	}
	t.Items = items
	return t
}

func (e *Engine) lookup(t *catalog.LicenseType) (*compiled, bool) {
	if t.Template != "" {
		if c, ok := e.tmpl[t.Template]; ok {
			return c, true
		}
	}
	c, ok := e.tmpl[t.Key]
	return c, ok
}

// Check validates a data row for type t all at once: the catalog rules
// (catalog.ValidateRow, which also normalises the row in place), then font
// coverage of every value (CodeUncoveredChar) and the fit of every value in
// its field box (CodeOverflow). It returns nil when the row can be rendered.
// today is the service clock's date.
func (e *Engine) Check(t *catalog.LicenseType, row map[string]string, today time.Time) *catalog.ValidationError {
	var probs []catalog.FieldError
	if ve := catalog.ValidateRow(t, row, today); ve != nil {
		probs = append(probs, ve.Problems...)
	}
	c, ok := e.lookup(t)
	if !ok {
		probs = append(probs, catalog.FieldError{Code: CodeNoTemplate, Message: "证照类型“" + t.Name + "”没有版式模板"})
		return &catalog.ValidationError{Problems: probs}
	}
	flagged := make(map[string]bool, len(probs))
	for _, p := range probs {
		flagged[p.Item] = true
	}
	for _, it := range t.Items {
		v := row[it.Key]
		if flagged[it.Key] || v == "" || it.Type == catalog.TypeImage {
			continue
		}
		f, ok := c.field(it.Key)
		if !ok {
			continue
		}
		if p, bad := e.fieldProblem(f, it.Label, v); bad {
			probs = append(probs, p)
		}
	}
	if len(probs) == 0 {
		return nil
	}
	return &catalog.ValidationError{Problems: probs}
}

func (c *compiled) field(key string) (Field, bool) {
	for _, f := range c.t.Fields {
		if f.Item == key {
			return f, true
		}
	}
	return Field{}, false
}

// fieldProblem reports an uncovered character or an overflow of v in f.
func (e *Engine) fieldProblem(f Field, label, v string) (catalog.FieldError, bool) {
	var missing []string
	seen := map[rune]bool{}
	for _, r := range v {
		if !e.font.covers(r) && !seen[r] {
			seen[r] = true
			missing = append(missing, fmt.Sprintf("“%c”(U+%04X)", r, r))
		}
	}
	if len(missing) > 0 {
		return catalog.FieldError{Item: f.Item, Code: CodeUncoveredChar,
			Message: label + "含有字体无法显示的字符" + strings.Join(missing, "、")}, true
	}
	lines := e.font.wrap(v, f.Size, f.Width*ptPerMM)
	if len(lines) > f.MaxLines {
		return catalog.FieldError{Item: f.Item, Code: CodeOverflow,
			Message: fmt.Sprintf("%s超出版面：最多%d行，需要%d行（%d个字符）", label, f.MaxLines, len(lines), utf8.RuneCountInString(v))}, true
	}
	return catalog.FieldError{}, false
}
