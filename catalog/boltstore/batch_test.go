package boltstore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"elicense/catalog"
	"elicense/catalog/boltstore"
)

func openTemp(t *testing.T) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "elicense.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func lic(n int, number string, idx int) *catalog.License {
	return &catalog.License{ID: fmt.Sprintf("L%03d", n), Number: number, TypeKey: "t", Status: catalog.StatusIssued,
		Digest: fmt.Sprintf("%064d", n), StatusIndex: idx, BatchID: "B1", Holder: catalog.Holder{Code: "h"}}
}

func TestBatchJournal(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if _, _, err := s.OpenBatch(ctx, &catalog.Batch{}); !errors.Is(err, catalog.ErrInvalid) {
		t.Fatalf("empty ID: %v", err)
	}
	b, created, err := s.OpenBatch(ctx, &catalog.Batch{ID: "B1", TypeKey: "t", Year: "2026"})
	if err != nil || !created || b.Year != "2026" {
		t.Fatalf("open: %+v %v %v", b, created, err)
	}
	b2, created, err := s.OpenBatch(ctx, &catalog.Batch{ID: "B1", TypeKey: "other", Year: "2027"})
	if err != nil || created || b2.TypeKey != "t" || b2.Year != "2026" {
		t.Fatalf("reopen must return the stored batch: %+v %v %v", b2, created, err)
	}
	if err := s.PutBatch(ctx, &catalog.Batch{ID: "nope"}); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("put unknown: %v", err)
	}

	blocks := []struct {
		name  string
		batch string
		block int
		want  uint64
	}{
		{"first block", "B1", 0, 1},
		{"second block", "B1", 1, 11},
		{"first block again", "B1", 0, 1},
		{"another batch", "B2", 0, 21},
		{"second block again", "B1", 1, 11},
	}
	for _, tc := range blocks {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.SerialBlock(ctx, tc.batch, tc.block, "seq", 10)
			if err != nil || got != tc.want {
				t.Fatalf("got %d, %v; want %d", got, err, tc.want)
			}
		})
	}
	if n, err := s.ReserveSerial(ctx, "seq"); err != nil || n != 31 {
		t.Fatalf("the sequence after three blocks: %d %v", n, err)
	}

	if err := s.Create(ctx, lic(0, "N-taken", 5)); err != nil {
		t.Fatal(err)
	}
	ls := []*catalog.License{lic(1, "N1", 1), lic(2, "N-taken", 2), lic(3, "N3", 5), lic(4, "N4", 4)}
	es := make([]catalog.BatchEntry, len(ls))
	for i, l := range ls {
		es[i] = catalog.BatchEntry{Row: 10 - i, SourceKey: l.Number, ID: l.ID, Digest: l.Digest}
	}
	skipped, err := s.CommitBatch(ctx, "B1", es, ls)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 2 || !errors.Is(skipped[1], catalog.ErrExists) || !errors.Is(skipped[2], catalog.ErrExists) {
		t.Fatalf("skipped %v, want rows 1 (number in force) and 2 (status index)", skipped)
	}
	for _, id := range []string{"L001", "L004"} {
		if _, err := s.Get(ctx, id); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	if _, err := s.Get(ctx, "L003"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("a skipped license was stored: %v", err)
	}
	var rows []int
	err = s.BatchEntries(ctx, "B1", func(e catalog.BatchEntry) error { rows = append(rows, e.Row); return nil })
	if err != nil || fmt.Sprint(rows) != "[7 10]" {
		t.Fatalf("entries %v %v, want rows 7 and 10 in row order", rows, err)
	}
	if _, err := s.CommitBatch(ctx, "B1", es[:1], ls); !errors.Is(err, catalog.ErrInvalid) {
		t.Fatalf("mismatched lengths: %v", err)
	}
}
