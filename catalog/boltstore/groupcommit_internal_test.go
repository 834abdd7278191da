package boltstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestGroupCommitRollsBackFailedWrite: a grouped write that fails after
// writing part of its data leaves none of it, while the writes committed
// with it stay; the writers get their own results, and writes that
// arrive together share commits.
func TestGroupCommitRollsBackFailedWrite(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bk := []byte("b")
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bk); return err }); err != nil {
		t.Fatal(err)
	}
	var g groupCommit
	var mu sync.Mutex
	committed := map[*bolt.Tx]int{} // writes per committed transaction
	boom := errors.New("boom")
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			errs[i] = g.do(func(tx *bolt.Tx) error {
				tx.OnCommit(func() { mu.Lock(); committed[tx]++; mu.Unlock() })
				if err := tx.Bucket(bk).Put(fmt.Appendf(nil, "k%03d", i), []byte("v")); err != nil {
					return err
				}
				if i%10 == 0 {
					return boom // after its put
				}
				return nil
			}, db)
		}(i)
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if (i%10 == 0) != errors.Is(err, boom) || err != nil && !errors.Is(err, boom) {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	db.View(func(tx *bolt.Tx) error {
		for i := 0; i < n; i++ {
			if got := tx.Bucket(bk).Get(fmt.Appendf(nil, "k%03d", i)) != nil; got != (i%10 != 0) {
				t.Errorf("key %d stored: %v", i, got)
			}
		}
		return nil
	})
	shared := false
	for _, c := range committed {
		shared = shared || c > 1
	}
	if !shared {
		t.Errorf("%d writes in %d committed transactions, none shared", n, len(committed))
	}
	t.Logf("%d writes in %d committed transactions", n, len(committed))
}
