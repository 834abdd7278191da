package templates

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"elicense/catalog"
)

// FormatVersion is the version of the template file format read by ParseTemplate.
const FormatVersion = 1

// Template is one license type's catalog entry together with its page layout.
// Lengths are millimetres measured from the top-left corner of the page.
type Template struct {
	Key    string              `json:"key"`
	Type   catalog.LicenseType `json:"-"`
	Page   Page                `json:"page"`
	Static []Element           `json:"static"`
	Fields []Field             `json:"fields"`
	Slots  Slots               `json:"slots"`
	// Background, when set, is drawn under everything else.
	Background *Background `json:"background,omitempty"`
}

// Page is the page size in millimetres.
type Page struct {
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

// Element kinds of Template.Static.
const (
	KindText     = "text"     // Text at X, Y (baseline), Size, Align
	KindLine     = "line"     // from X, Y to X2, Y2, LineWidth
	KindBox      = "box"      // Rect, LineWidth, optional Fill
	KindOrnament = "ornament" // a 回纹 (key-fret) band of width Band inside Rect
)

// Element is one static drawing element: the same on every license of the type.
type Element struct {
	Kind      string     `json:"kind"`
	Text      string     `json:"text,omitempty"`
	X         float64    `json:"x,omitempty"`
	Y         float64    `json:"y,omitempty"`
	X2        float64    `json:"x2,omitempty"`
	Y2        float64    `json:"y2,omitempty"`
	Rect      [4]float64 `json:"rect,omitzero"` // x, y, width, height
	Size      float64    `json:"size,omitempty"`
	Align     string     `json:"align,omitempty"`   // left (default), center, right
	Spacing   float64    `json:"spacing,omitempty"` // extra space between characters, pt
	Bold      bool       `json:"bold,omitempty"`
	LineWidth float64    `json:"line_width,omitempty"` // pt
	Band      float64    `json:"band,omitempty"`       // ornament band width, mm
	Color     string     `json:"color,omitempty"`      // #RRGGBB, default black
	Fill      string     `json:"fill,omitempty"`       // #RRGGBB, box fill
}

// Special field sources besides item keys.
const (
	SourceID     = "$id"     // the license identifier (电子证照标识)
	SourceIssuer = "$issuer" // the issuing department's name
	SourceIssued = "$issued" // the issue date, as 2006年01月02日
)

// Field is a box bound to an item (or a special source) of the license.
type Field struct {
	Item       string  `json:"item"`
	Label      string  `json:"label,omitempty"`   // printed at LabelX on the first line
	LabelX     float64 `json:"label_x,omitempty"` // mm
	X          float64 `json:"x"`                 // left edge of the box
	Y          float64 `json:"y"`                 // baseline of the first line
	Width      float64 `json:"width"`             // wrap width
	Size       float64 `json:"size,omitempty"`    // pt, default 11
	Align      string  `json:"align,omitempty"`   // left (default), center, right
	MaxLines   int     `json:"max_lines,omitempty"`
	LineHeight float64 `json:"line_height,omitempty"` // multiple of Size, default 1.4
	Color      string  `json:"color,omitempty"`
}

// Slots are the reserved areas, each [x, y, width, height] in mm.
type Slots struct {
	Seal      [4]float64 `json:"seal"`
	QR        [4]float64 `json:"qr"` // square: width = height
	Photo     [4]float64 `json:"photo,omitzero"`
	PhotoItem string     `json:"photo_item,omitempty"` // image item drawn in Photo
}

// file is the on-disk form: {"format":1,"type":{...},"layout":{...}}.
type file struct {
	Format int        `json:"format"`
	Type   typeSpec   `json:"type"`
	Layout layoutSpec `json:"layout"`
}

type layoutSpec struct {
	Page       Page        `json:"page"`
	Background *Background `json:"background"`
	Static     []Element   `json:"static"`
	Fields     []Field     `json:"fields"`
	Slots      Slots       `json:"slots"`
}

type typeSpec struct {
	Key               string       `json:"key"`
	Code              string       `json:"code"`
	Name              string       `json:"name"`
	Kind              string       `json:"kind"`
	DefiningAuthority string       `json:"defining_authority"`
	IssuingDepts      []string     `json:"issuing_depts"`
	Holder            string       `json:"holder"`
	Validity          validitySpec `json:"validity"`
	Items             []itemSpec   `json:"items"`
	NumberItem        string       `json:"number_item"`
	Version           int          `json:"version"`
	Status            string       `json:"status"`
}

type validitySpec struct {
	Years    int  `json:"years"`
	LongTerm bool `json:"long_term"`
}

type itemSpec struct {
	Key       string   `json:"key"`
	Label     string   `json:"label"`
	Type      string   `json:"type"`
	MaxLength int      `json:"max_length"`
	Required  bool     `json:"required"`
	Sensitive bool     `json:"sensitive"`
	Face      bool     `json:"face"`
	Options   []string `json:"options"`
}

const (
	maxPageMM   = 1200
	maxElements = 2000
	maxItems    = 200
)

// ParseTemplate parses and checks one template file. Unknown JSON fields,
// trailing data, out-of-page positions and references to unknown items are
// errors wrapping ErrBadTemplate. Font coverage of static text is checked by
// Load, not here.
func ParseTemplate(data []byte) (t *Template, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("%w: %v", ErrBadTemplate, r)
		}
	}()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadTemplate, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: trailing data after the template object", ErrBadTemplate)
	}
	if f.Format != FormatVersion {
		return nil, fmt.Errorf("%w: format %d, want %d", ErrBadTemplate, f.Format, FormatVersion)
	}
	lt, err := f.Type.toCatalog()
	if err != nil {
		return nil, err
	}
	t = &Template{Key: lt.Key, Type: lt, Page: f.Layout.Page, Static: f.Layout.Static, Fields: f.Layout.Fields, Slots: f.Layout.Slots,
		Background: f.Layout.Background}
	if err := t.check(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadTemplate, lt.Key, err)
	}
	return t, nil
}

func bad(format string, a ...any) error { return fmt.Errorf(format, a...) }

func (s *typeSpec) toCatalog() (catalog.LicenseType, error) {
	fail := func(format string, a ...any) (catalog.LicenseType, error) {
		return catalog.LicenseType{}, fmt.Errorf("%w: type %q: %s", ErrBadTemplate, s.Key, fmt.Sprintf(format, a...))
	}
	if !catalog.ValidTypeKey(s.Key) {
		return fail("key must be 1-64 of a-z, 0-9 and -")
	}
	if len(s.Code) != 21 {
		return fail("code must be 21 characters")
	}
	if c, ok := catalog.USCCCheckChar(s.Code[:17]); !ok || c != s.Code[17] || !isDigits(s.Code[18:]) {
		return fail("code %q: defining authority code has a bad check character or suffix", s.Code)
	}
	if s.Name == "" || s.DefiningAuthority == "" {
		return fail("name and defining_authority are required")
	}
	if s.Kind != "license" && s.Kind != "proof" {
		return fail("kind must be license or proof")
	}
	holder := catalog.HolderKind(s.Holder)
	if holder != catalog.NaturalPerson && holder != catalog.LegalPerson {
		return fail("holder must be natural or legal")
	}
	if s.Validity.Years < 0 || s.Validity.Years > 100 {
		return fail("validity years out of range")
	}
	status := catalog.TypeStatus(s.Status)
	switch status {
	case "":
		status = catalog.TypePublished
	case catalog.TypeDraft, catalog.TypePublished, catalog.TypeWithdrawn:
	default:
		return fail("unknown status %q", s.Status)
	}
	if len(s.Items) == 0 || len(s.Items) > maxItems {
		return fail("1 to %d items required", maxItems)
	}
	lt := catalog.LicenseType{
		Key: s.Key, Code: s.Code, Name: s.Name, Kind: s.Kind, DefiningAuthority: s.DefiningAuthority,
		IssuingDepts: s.IssuingDepts, Holder: holder,
		Validity:   catalog.Validity{Years: s.Validity.Years, LongTerm: s.Validity.LongTerm},
		Template:   s.Key,
		NumberItem: s.NumberItem, Version: max(s.Version, 1), Status: status,
	}
	seen := map[string]bool{}
	for _, it := range s.Items {
		if !catalog.ValidItemKey(it.Key) || seen[it.Key] {
			return fail("item key %q invalid or repeated", it.Key)
		}
		seen[it.Key] = true
		dt := catalog.DataType(it.Type)
		switch dt {
		case catalog.TypeText, catalog.TypeDate, catalog.TypeDateLong, catalog.TypeIDNumber,
			catalog.TypeUSCC, catalog.TypePhone, catalog.TypeImage:
			if len(it.Options) > 0 {
				return fail("item %q: options only for enum items", it.Key)
			}
		case catalog.TypeEnum:
			if len(it.Options) == 0 {
				return fail("item %q: enum needs options", it.Key)
			}
		default:
			return fail("item %q: unknown type %q", it.Key, it.Type)
		}
		if it.Label == "" || it.MaxLength < 0 || it.MaxLength > 10000 {
			return fail("item %q: label required, max_length 0-10000", it.Key)
		}
		lt.Items = append(lt.Items, catalog.Item{Key: it.Key, Label: it.Label, Type: dt, MaxLength: it.MaxLength,
			Required: it.Required, Sensitive: it.Sensitive, Face: it.Face, Options: it.Options})
	}
	for _, k := range []string{"holder_name", "holder_code", lt.NumberKey()} {
		if !seen[k] {
			return fail("item %q is required in every type", k)
		}
	}
	return lt, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func finite(v ...float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

func validColor(s string) bool {
	if s == "" {
		return true
	}
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	for i := 1; i < 7; i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(s[i])) {
			return false
		}
	}
	return true
}

func validAlign(s string) bool { return s == "" || s == "left" || s == "center" || s == "right" }

// check verifies bounds and references of the layout.
func (t *Template) check() error {
	p := t.Page
	if !finite(p.Width, p.Height) || p.Width < 50 || p.Height < 50 || p.Width > maxPageMM || p.Height > maxPageMM {
		return bad("page size %gx%g mm out of range 50-%d", p.Width, p.Height, maxPageMM)
	}
	inX := func(v float64) bool { return v >= 0 && v <= p.Width }
	inY := func(v float64) bool { return v >= 0 && v <= p.Height }
	inRect := func(r [4]float64) bool {
		return finite(r[:]...) && r[2] > 0 && r[3] > 0 && inX(r[0]) && inY(r[1]) && inX(r[0]+r[2]) && inY(r[1]+r[3])
	}
	if err := t.checkBackground(inRect); err != nil {
		return err
	}
	if len(t.Static) > maxElements || len(t.Fields) > maxElements {
		return bad("too many elements")
	}
	for i, e := range t.Static {
		where := fmt.Sprintf("static[%d] (%s)", i, e.Kind)
		if !finite(e.X, e.Y, e.X2, e.Y2, e.Size, e.Spacing, e.LineWidth, e.Band) || !validColor(e.Color) || !validColor(e.Fill) || !validAlign(e.Align) {
			return bad("%s: bad number, color or align", where)
		}
		if e.LineWidth < 0 || e.LineWidth > 20 || e.Spacing < 0 || e.Spacing > 100 {
			return bad("%s: line_width or spacing out of range", where)
		}
		switch e.Kind {
		case KindText:
			if e.Text == "" || !utf8.ValidString(e.Text) || strings.ContainsAny(e.Text, "\n\r\t") {
				return bad("%s: text must be one non-empty line", where)
			}
			if e.Size < 4 || e.Size > 200 || !inX(e.X) || !inY(e.Y) {
				return bad("%s: size 4-200 pt and position within the page", where)
			}
		case KindLine:
			if !inX(e.X) || !inY(e.Y) || !inX(e.X2) || !inY(e.Y2) {
				return bad("%s: out of the page", where)
			}
		case KindBox:
			if !inRect(e.Rect) {
				return bad("%s: rect out of the page or empty", where)
			}
		case KindOrnament:
			if !inRect(e.Rect) || e.Band < 2 || 2*e.Band > min(e.Rect[2], e.Rect[3]) {
				return bad("%s: rect out of the page, or band not within 2 mm and half the rect", where)
			}
		default:
			return bad("%s: unknown kind", where)
		}
	}
	bound := map[string]bool{}
	for i, f := range t.Fields {
		where := fmt.Sprintf("fields[%d] (%s)", i, f.Item)
		switch {
		case f.Item == SourceID || f.Item == SourceIssuer || f.Item == SourceIssued:
		default:
			it, ok := t.Type.Item(f.Item)
			if !ok {
				return bad("%s: no such item in the type", where)
			}
			if it.Type == catalog.TypeImage {
				return bad("%s: image items go in slots.photo_item", where)
			}
		}
		if bound[f.Item] {
			return bad("%s: item bound twice", where)
		}
		bound[f.Item] = true
		if !finite(f.X, f.Y, f.Width, f.Size, f.LineHeight, f.LabelX) || !validAlign(f.Align) || !validColor(f.Color) {
			return bad("%s: bad number, align or color", where)
		}
		if f.Size == 0 {
			t.Fields[i].Size, f.Size = 11, 11
		}
		if f.LineHeight == 0 {
			t.Fields[i].LineHeight, f.LineHeight = 1.4, 1.4
		}
		if f.MaxLines == 0 {
			t.Fields[i].MaxLines, f.MaxLines = 1, 1
		}
		if f.Size < 4 || f.Size > 100 || f.LineHeight < 0.8 || f.LineHeight > 5 || f.MaxLines < 1 || f.MaxLines > 50 {
			return bad("%s: size 4-100 pt, line_height 0.8-5, max_lines 1-50", where)
		}
		last := f.Y + float64(f.MaxLines-1)*f.Size*f.LineHeight*25.4/72
		if f.Width < 5 || !inX(f.X) || !inX(f.X+f.Width) || !inY(f.Y) || !inY(last) {
			return bad("%s: box out of the page (or narrower than 5 mm)", where)
		}
		if f.Label != "" && (!inX(f.LabelX) || f.LabelX >= f.X) {
			return bad("%s: label_x must be within the page, left of x", where)
		}
	}
	for _, it := range t.Type.Items {
		if it.Type != catalog.TypeImage && !bound[it.Key] {
			return bad("item %q has no field: every value must be printed", it.Key)
		}
	}
	if !inRect(t.Slots.Seal) {
		return bad("slots.seal out of the page or empty")
	}
	if !inRect(t.Slots.QR) || t.Slots.QR[2] != t.Slots.QR[3] || t.Slots.QR[2] < 15 {
		return bad("slots.qr out of the page, not square or smaller than 15 mm")
	}
	if t.Slots.PhotoItem != "" || t.Slots.Photo != [4]float64{} {
		it, ok := t.Type.Item(t.Slots.PhotoItem)
		if !ok || it.Type != catalog.TypeImage {
			return bad("slots.photo_item %q is not an image item", t.Slots.PhotoItem)
		}
		if !inRect(t.Slots.Photo) {
			return bad("slots.photo out of the page or empty")
		}
	}
	return nil
}
