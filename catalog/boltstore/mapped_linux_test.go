package boltstore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"elicense/catalog"
	"elicense/catalog/boltstore"
)

// mappedRSS returns the resident kilobytes of the mappings of path in
// /proc/self/smaps.
func mappedRSS(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	total, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if strings.Contains(fields[0], "-") && len(fields) >= 5 { // a mapping's header line
			in = len(fields) >= 6 && fields[len(fields)-1] == path
			continue
		}
		if in && fields[0] == "Rss:" {
			kb, _ := strconv.Atoi(fields[1])
			total += kb
		}
	}
	return total
}

// bigLicenses returns licenses from to to-1 with about 1 KB of values
// each, and their journal entries.
func bigLicenses(from, to int) ([]*catalog.License, []catalog.BatchEntry) {
	var ls []*catalog.License
	var es []catalog.BatchEntry
	for i := from; i < to; i++ {
		l := lic(i, fmt.Sprintf("N%05d", i), i)
		l.ID = fmt.Sprintf("L%05d", i)
		l.Values = map[string]string{"address": strings.Repeat("安徽省芜湖市", 40)}
		ls = append(ls, l)
		es = append(es, catalog.BatchEntry{Row: i, SourceKey: l.Number, ID: l.ID, Digest: l.Digest})
	}
	return ls, es
}

// TestReleaseMapped: after a commit group the store's mapped pages leave
// the resident set, and every record still reads back the same.
func TestReleaseMapped(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	const n = 4000
	ls, es := bigLicenses(1, n+1)
	if _, err := s.CommitBatch(ctx, "B1", es, ls); err != nil {
		t.Fatal(err)
	}
	readAll := func() {
		t.Helper()
		for _, l := range ls {
			got, err := s.Get(ctx, l.ID)
			if err != nil || got.Values["address"] != l.Values["address"] || got.Number != l.Number {
				t.Fatalf("%s reads back wrong: %v", l.ID, err)
			}
		}
	}
	readAll()
	before := mappedRSS(t, s.Path())
	if before < 2000 {
		t.Fatalf("reading %d records of about 1 KB mapped only %d KB: the measurement does not work", n, before)
	}
	if err := s.ReleaseMapped(); err != nil {
		t.Fatal(err)
	}
	after := mappedRSS(t, s.Path())
	if after > before/10 {
		t.Fatalf("resident mapped KB: %d before, %d after ReleaseMapped", before, after)
	}
	readAll()
	t.Logf("resident mapped pages: %d KB after reading, %d KB after ReleaseMapped", before, after)
}

// TestCommitBatchMappedBudget: a batch commit releases the map when the
// process's file-backed memory passes the budget, and never with a negative
// budget.
func TestCommitBatchMappedBudget(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		budget   int64
		released bool
	}{{"over budget", 1, true}, {"never", -1, false}} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := boltstore.Open(filepath.Join(t.TempDir(), "elicense.db"), &boltstore.Options{MappedBudget: tc.budget})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			commit := func(from, to int) {
				t.Helper()
				ls, es := bigLicenses(from, to)
				if _, err := s.CommitBatch(ctx, "B1", es, ls); err != nil {
					t.Fatal(err)
				}
			}
			commit(1, 4000)
			for i := 1; i < 4000; i++ { // map every page
				if _, err := s.Get(ctx, fmt.Sprintf("L%05d", i)); err != nil {
					t.Fatal(err)
				}
			}
			before := mappedRSS(t, s.Path())
			commit(4000, 4001)
			after := mappedRSS(t, s.Path())
			if tc.released && after > before/10 || !tc.released && after < before/2 {
				t.Fatalf("resident mapped KB: %d before the commit, %d after", before, after)
			}
		})
	}
}
