package boltstore

import (
	"errors"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// groupCommit writes small independent records that arrive at once in one
// transaction: every verification writes a use record, and a bbolt commit
// costs two fdatasyncs however little it writes. A writer that finds no
// commit running commits what is queued (its own record among them) and
// returns; records that arrived meanwhile are committed, batch after
// batch, by a goroutine it starts, so no writer waits for more than the
// commit carrying its record and the one before it. An idle store commits
// at once (no timer, unlike bolt.DB.Batch); under load one commit carries
// every record that arrived during the previous one.
//
// A write that returns an error is rolled back on its own: the
// transaction goes on with the others (each write is replayed on a
// fresh transaction only when the commit itself fails, and then they all
// get that error). Every caller returns once its record is durable or
// has failed.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*groupWrite
	running bool
}

type groupWrite struct {
	fn   func(*bolt.Tx) error
	done chan error
}

// do runs fn in a transaction shared with the writes queued with it and
// returns fn's error, or the commit's.
func (g *groupCommit) do(fn func(*bolt.Tx) error, db *bolt.DB) error {
	w := &groupWrite{fn: fn, done: make(chan error, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, w)
	if g.running {
		g.mu.Unlock()
		return <-w.done
	}
	g.running = true
	g.mu.Unlock()
	if g.commitNext(db) {
		go func() {
			for g.commitNext(db) {
			}
		}()
	}
	return <-w.done
}

// commitNext commits the queued writes and reports whether more have
// arrived (the caller then commits them); when none have, it ends the run.
func (g *groupCommit) commitNext(db *bolt.DB) (more bool) {
	g.mu.Lock()
	batch := g.queue
	g.queue = nil
	g.mu.Unlock()
	commitGroup(db, batch)
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 {
		g.running = false
		return false
	}
	return true
}

// commitGroup runs the writes of batch in one transaction. A write that
// fails is undone by re-running the others on a fresh transaction (it is
// rare: a duplicate ID), so a failed write never leaves half its puts.
func commitGroup(db *bolt.DB, batch []*groupWrite) {
	for len(batch) > 0 {
		failed := -1
		var failErr error
		err := db.Update(func(tx *bolt.Tx) error {
			for i, w := range batch {
				if err := w.fn(tx); err != nil {
					failed, failErr = i, err
					return errGroupWrite
				}
			}
			return nil
		})
		switch {
		case errors.Is(err, errGroupWrite):
			batch[failed].done <- failErr
			batch = append(batch[:failed:failed], batch[failed+1:]...)
			continue
		case err != nil:
			for _, w := range batch {
				w.done <- err
			}
		default:
			for _, w := range batch {
				w.done <- nil
			}
		}
		return
	}
}

var errGroupWrite = errors.New("boltstore: a grouped write failed")
