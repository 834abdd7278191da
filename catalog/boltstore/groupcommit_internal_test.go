package boltstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

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

// TestGroupCommitNoWaitForOthers: a writer returns once the commit
// carrying its record is done, although records that arrived meanwhile
// are still being committed (under steady load it would otherwise keep
// committing for others).
func TestGroupCommitNoWaitForOthers(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var g groupCommit
	aIn, aGo, bIn, bGo := make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})
	aDone, bDone := make(chan error, 1), make(chan error, 1)
	go func() { aDone <- g.do(func(*bolt.Tx) error { close(aIn); <-aGo; return nil }, db) }()
	<-aIn // A's commit is running
	go func() { bDone <- g.do(func(*bolt.Tx) error { close(bIn); <-bGo; return nil }, db) }()
	for queued := 0; queued == 0; time.Sleep(time.Millisecond) {
		g.mu.Lock()
		queued = len(g.queue)
		g.mu.Unlock()
	}
	close(aGo)
	select {
	case err := <-aDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		close(bGo)
		t.Fatal("A waits for B's commit")
	}
	<-bIn // B's commit runs without A
	close(bGo)
	if err := <-bDone; err != nil {
		t.Fatal(err)
	}
	// The committing goroutine ends its run right after B's result.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		g.mu.Lock()
		running, queued := g.running, len(g.queue)
		g.mu.Unlock()
		if !running && queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the writes: running %v, %d queued", running, queued)
		}
	}
}
