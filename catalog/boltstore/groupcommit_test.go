package boltstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"elicense/catalog"
)

// TestAddUseConcurrent: use records written at once, 40 of them reusing an
// earlier one's ID, each come back with their own result: one of each pair
// stored and listed by holder and by issuer exactly once, the other
// refused with ErrExists. (Rolling back a write that fails after its first
// put is TestGroupCommitRollsBackFailedWrite's.)
func TestAddUseConcurrent(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	const n, dups = 400, 40
	errs := make([]error, n+dups)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n+dups; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			r := &catalog.UseRecord{ID: fmt.Sprintf("u%04d", i%n), LicenseID: "L", HolderCode: "H", IssuerUSCC: "I", Result: "valid"}
			if i >= n { // the same ID as an earlier one, another holder
				r.HolderCode, r.IssuerUSCC = "DUP", "DUP"
			}
			errs[i] = s.AddUse(ctx, r)
		}(i)
	}
	close(start)
	wg.Wait()
	refused := 0
	for i, err := range errs {
		switch {
		case errors.Is(err, catalog.ErrExists):
			refused++
		case err != nil:
			t.Fatalf("record %d: %v", i, err)
		}
	}
	if refused != dups {
		t.Fatalf("%d writes refused, want the %d duplicates", refused, dups)
	}
	count := func(holder, issuer string) int {
		c, cursor := 0, ""
		for {
			rs, next, err := s.ListUses(ctx, holder, issuer, cursor, catalog.MaxPageSize)
			if err != nil {
				t.Fatal(err)
			}
			c += len(rs)
			if next == "" {
				return c
			}
			cursor = next
		}
	}
	// Whichever of a pair came first is stored; the other left nothing.
	h, d := count("H", ""), count("DUP", "")
	if h+d != n || count("", "I")+count("", "DUP") != n {
		t.Fatalf("%d + %d records listed by holder, want %d in all", h, d, n)
	}
}
