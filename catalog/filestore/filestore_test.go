package filestore_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"elicense/catalog"
	"elicense/catalog/filestore"
)

func TestPutGet(t *testing.T) {
	d := &filestore.Dir{Root: t.TempDir()}
	id := catalog.FormatIdentifier("11100000000013338W032", "11430000006122244L", "202600000017", 1)
	if _, err := d.Get(id); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if err := d.Put(id, []byte("%PDF-1.7 one")); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(id, []byte("%PDF-1.7 two")); err != nil {
		t.Fatal(err)
	}
	b, err := d.Get(id)
	if err != nil || string(b) != "%PDF-1.7 two" {
		t.Fatalf("Get = %q %v", b, err)
	}
	p, _ := d.Path(id)
	if filepath.Base(filepath.Dir(p)) != "17" {
		t.Fatalf("shard of %s", p)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".tmp-*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
}

func TestBadNames(t *testing.T) {
	d := &filestore.Dir{Root: t.TempDir()}
	for _, id := range []string{"", "../x", "a/b", `a\b`, ".hidden", "a\x00b"} {
		if err := d.Put(id, []byte("x")); !errors.Is(err, filestore.ErrBadName) {
			t.Errorf("Put(%q) = %v", id, err)
		}
	}
}
