package templates_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"elicense/catalog"
	"elicense/templates"
)

func defaultTemplate(t testing.TB, key string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("defaults", key+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// pageSize is the page entry of the food-business template.
const pageSize = `"page": {"width": 297, "height": 210},`

func TestParseTemplate(t *testing.T) {
	base := defaultTemplate(t, "food-business")
	tests := []struct {
		name    string
		old     string // replaced in the food-business template
		new     string
		wantErr string // "" means valid
	}{
		{name: "default is valid"},
		{name: "unknown field", old: `"format": 1,`, new: `"format": 1, "colour": "red",`, wantErr: "unknown field"},
		{name: "wrong format", old: `"format": 1,`, new: `"format": 2,`, wantErr: "format 2"},
		{name: "bad type code check", old: `"11100000MB0341032Y002"`, new: `"11100000MB0341032X002"`, wantErr: "check character"},
		{name: "unknown item type", old: `"type": "phone"`, new: `"type": "telephone"`, wantErr: "unknown type"},
		{name: "field bound to unknown item", old: `{"item": "phone",`, new: `{"item": "fax",`, wantErr: "no such item"},
		{name: "field out of the page", old: `"x": 228, "y": 60, "width": 52`, new: `"x": 228, "y": 60, "width": 90`, wantErr: "out of the page"},
		{name: "seal slot out of the page", old: `"seal": [166, 150, 42, 42]`, new: `"seal": [266, 150, 42, 42]`, wantErr: "slots.seal"},
		{name: "qr slot not square", old: `"qr": [237, 112, 38, 38]`, new: `"qr": [237, 112, 38, 30]`, wantErr: "slots.qr"},
		{name: "unknown element kind", old: `{"kind": "line", "x": 24`, new: `{"kind": "circle", "x": 24`, wantErr: "unknown kind"},
		{name: "bad colour", old: `"#A6761D"}`, new: `"gold"}`, wantErr: "color"},
		{name: "trailing data", old: "\n}\n", new: "\n}\n{}", wantErr: "trailing data"},
		{name: "item without field", old: `{"item": "phone", "label": "投诉举报电话", "label_x": 194, "x": 228, "y": 84, "width": 52, "size": 11},`, new: ``, wantErr: `"phone" has no field`},
		{name: "too many lines for the page", old: `"max_lines": 5`, new: `"max_lines": 40`, wantErr: "out of the page"},
		{name: "background is valid", old: pageSize, new: `"background": {"pdf": "paper/a.pdf", "page": 2, "rect": [0, 0, 297, 210], "opacity": 0.4}, ` + pageSize},
		{name: "background with image and pdf", old: pageSize, new: `"background": {"image": "a.png", "pdf": "a.pdf"}, ` + pageSize, wantErr: "exactly one of image and pdf"},
		{name: "background without file", old: pageSize, new: `"background": {"opacity": 0.5}, ` + pageSize, wantErr: "exactly one of image and pdf"},
		{name: "background outside the directory", old: pageSize, new: `"background": {"image": "../a.png"}, ` + pageSize, wantErr: "relative path inside"},
		{name: "background absolute path", old: pageSize, new: `"background": {"pdf": "/srv/a.pdf"}, ` + pageSize, wantErr: "relative path inside"},
		{name: "background image format", old: pageSize, new: `"background": {"image": "a.gif"}, ` + pageSize, wantErr: ".png, .jpg or .jpeg"},
		{name: "background pdf format", old: pageSize, new: `"background": {"pdf": "a.ai"}, ` + pageSize, wantErr: "must be a .pdf file"},
		{name: "background page of an image", old: pageSize, new: `"background": {"image": "a.png", "page": 1}, ` + pageSize, wantErr: "pdf background only"},
		{name: "background page negative", old: pageSize, new: `"background": {"pdf": "a.pdf", "page": -1}, ` + pageSize, wantErr: "page -1"},
		{name: "background opacity zero", old: pageSize, new: `"background": {"image": "a.png", "opacity": 0}, ` + pageSize, wantErr: "opacity"},
		{name: "background opacity above one", old: pageSize, new: `"background": {"image": "a.png", "opacity": 1.5}, ` + pageSize, wantErr: "opacity"},
		{name: "background rect out of the page", old: pageSize, new: `"background": {"image": "a.png", "rect": [10, 10, 297, 210]}, ` + pageSize, wantErr: "background: rect"},
		{name: "background unknown field", old: pageSize, new: `"background": {"image": "a.png", "tile": true}, ` + pageSize, wantErr: "unknown field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := base
			if tc.old != "" {
				if !strings.Contains(src, tc.old) {
					t.Fatalf("test setup: %q not in template", tc.old)
				}
				src = strings.Replace(src, tc.old, tc.new, 1)
			}
			tmpl, err := templates.ParseTemplate([]byte(src))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tmpl.Key != "food-business" || tmpl.Type.Code != "11100000MB0341032Y002" || len(tmpl.Type.Items) != 12 {
					t.Errorf("parsed %+v", tmpl.Type)
				}
				return
			}
			if !errors.Is(err, templates.ErrBadTemplate) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want ErrBadTemplate mentioning %q", err, tc.wantErr)
			}
		})
	}
}

func FuzzParseTemplate(f *testing.F) {
	for _, k := range sampleKeys {
		f.Add([]byte(defaultTemplate(f, k)))
	}
	f.Add([]byte(`{"format":1}`))
	f.Add([]byte(strings.Replace(defaultTemplate(f, "food-business"), pageSize, `"background": {"image": "a.png", "rect": [0, 0, 297, 210], "opacity": 0.5}, `+pageSize, 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		tmpl, err := templates.ParseTemplate(data)
		if err != nil {
			if !errors.Is(err, templates.ErrBadTemplate) {
				t.Fatalf("error does not wrap ErrBadTemplate: %v", err)
			}
			return
		}
		if tmpl.Page.Width <= 0 || len(tmpl.Type.Items) == 0 {
			t.Fatalf("accepted a template without page or items")
		}
	})
}

func TestLoad(t *testing.T) {
	e := engine(t)
	t.Run("types in stable order", func(t *testing.T) {
		var keys []string
		for _, typ := range e.Types() {
			keys = append(keys, typ.Key)
		}
		if strings.Join(keys, ",") != "food-business,no-criminal-record,special-operations" {
			t.Errorf("Types() = %v", keys)
		}
		typ, _ := e.Type("special-operations")
		if typ.Code != "11100000000013338W032" || typ.Holder != catalog.NaturalPerson || typ.Kind != "license" {
			t.Errorf("special-operations = %+v", typ)
		}
		typ, _ = e.Type("no-criminal-record")
		if typ.Kind != "proof" {
			t.Errorf("no-criminal-record kind %q", typ.Kind)
		}
		if tmpl, ok := e.Template("no-criminal-record"); !ok || tmpl.Page.Width != 210 || tmpl.Page.Height != 297 {
			t.Errorf("no-criminal-record page %+v", tmpl)
		}
	})
	t.Run("no font", func(t *testing.T) {
		_, err := templates.Load(templates.Options{FontPaths: []string{filepath.Join(t.TempDir(), "none.ttf")}})
		if !errors.Is(err, templates.ErrNoFont) {
			t.Fatalf("err = %v, want ErrNoFont", err)
		}
		bad := filepath.Join(t.TempDir(), "bad.ttf")
		os.WriteFile(bad, []byte("not a font at all"), 0o644)
		if _, err := templates.Load(templates.Options{FontPaths: []string{bad}}); !errors.Is(err, templates.ErrNoFont) {
			t.Fatalf("err = %v, want ErrNoFont", err)
		}
	})
	t.Run("override", func(t *testing.T) {
		dir := t.TempDir()
		src := strings.Replace(defaultTemplate(t, "food-business"), `"name": "食品经营许可证"`, `"name": "食品经营许可证（副本）"`, 1)
		os.WriteFile(filepath.Join(dir, "food-business.json"), []byte(src), 0o644)
		o, err := templates.Load(templates.Options{OverrideDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if typ, _ := o.Type("food-business"); typ.Name != "食品经营许可证（副本）" {
			t.Errorf("override not applied: %q", typ.Name)
		}
		os.WriteFile(filepath.Join(dir, "other.json"), []byte(src), 0o644)
		if _, err := templates.Load(templates.Options{OverrideDir: dir}); !errors.Is(err, templates.ErrBadTemplate) {
			t.Errorf("file name/key mismatch: err = %v", err)
		}
	})
	t.Run("specimen and photo", func(t *testing.T) {
		lic := sampleLicense(t, e, "special-operations")
		plain := render(t, e, lic, templates.RenderOptions{QRText: sampleQR})
		spec := render(t, e, lic, templates.RenderOptions{QRText: sampleQR, Specimen: true})
		if !bytes.Contains(plain, []byte("/Subtype/Image")) {
			t.Error("photo not embedded")
		}
		if bytes.Equal(plain, spec) {
			t.Error("specimen render equals the plain one")
		}
	})
}
