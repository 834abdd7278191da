package boltstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"elicense/catalog"
)

// The batch journal (catalog.BatchJournal): three buckets, created on first
// use. batches: batch ID → batchRecord; batch_rows: ID ‖ 0 ‖ row (8 bytes,
// big-endian) → entryRecord, so a cursor walks a batch in row order;
// batch_serials: ID ‖ 0 ‖ block (8 bytes) → first serial (8 bytes).
var (
	bBatches      = []byte("batches")
	bBatchRows    = []byte("batch_rows")
	bBatchSerials = []byte("batch_serials")
)

var _ catalog.BatchJournal = (*Store)(nil)

type batchRecord struct {
	SchemaVersion int           `json:"schemaVersion"`
	Batch         catalog.Batch `json:"batch"`
}

type entryRecord struct {
	SourceKey string `json:"sourceKey"`
	ID        string `json:"id"`
	Digest    string `json:"digest"`
}

func rowKey(batchID string, n int) []byte {
	k := make([]byte, 0, len(batchID)+9)
	k = append(append(k, batchID...), 0)
	return binary.BigEndian.AppendUint64(k, uint64(n))
}

func getBatch(tx *bolt.Tx, id string) (*catalog.Batch, error) {
	b := tx.Bucket(bBatches)
	if b == nil {
		return nil, notFound("batch", id)
	}
	v := b.Get([]byte(id))
	if v == nil {
		return nil, notFound("batch", id)
	}
	var r batchRecord
	if err := decode(v, &r, &r.SchemaVersion); err != nil {
		return nil, err
	}
	return &r.Batch, nil
}

func putBatch(tx *bolt.Tx, b *catalog.Batch) error {
	bk, err := tx.CreateBucketIfNotExists(bBatches)
	if err != nil {
		return err
	}
	data, err := json.Marshal(batchRecord{SchemaVersion, *b})
	if err != nil {
		return err
	}
	return bk.Put([]byte(b.ID), data)
}

// OpenBatch implements catalog.BatchJournal.
func (s *Store) OpenBatch(ctx context.Context, b *catalog.Batch) (*catalog.Batch, bool, error) {
	if b.ID == "" {
		return nil, false, fmt.Errorf("boltstore: batch without ID: %w", catalog.ErrInvalid)
	}
	var out *catalog.Batch
	created := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		old, err := getBatch(tx, b.ID)
		if err == nil {
			out = old
			return nil
		}
		if !errors.Is(err, catalog.ErrNotFound) {
			return err
		}
		c := *b
		out, created = &c, true
		return putBatch(tx, &c)
	})
	return out, created, err
}

// GetBatch returns the batch record, or an error wrapping catalog.ErrNotFound.
func (s *Store) GetBatch(ctx context.Context, id string) (*catalog.Batch, error) {
	var out *catalog.Batch
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		out, err = getBatch(tx, id)
		return err
	})
	return out, err
}

// PutBatch implements catalog.BatchJournal.
func (s *Store) PutBatch(ctx context.Context, b *catalog.Batch) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if _, err := getBatch(tx, b.ID); err != nil {
			return err
		}
		return putBatch(tx, b)
	})
}

// SerialBlock implements catalog.BatchJournal: the block and the sequence
// move together in one transaction.
func (s *Store) SerialBlock(ctx context.Context, batchID string, block int, seq string, size int) (uint64, error) {
	if size <= 0 {
		return 0, fmt.Errorf("boltstore: serial block of %d: %w", size, catalog.ErrInvalid)
	}
	var first uint64
	err := s.db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(bBatchSerials)
		if err != nil {
			return err
		}
		k := rowKey(batchID, block)
		if v := bk.Get(k); len(v) == 8 {
			first = binary.BigEndian.Uint64(v)
			return nil
		}
		sq := tx.Bucket(bSeq)
		var n uint64
		if v := sq.Get([]byte(seq)); len(v) == 8 {
			n = binary.BigEndian.Uint64(v)
		}
		first = n + 1
		if err := sq.Put([]byte(seq), binary.BigEndian.AppendUint64(nil, n+uint64(size))); err != nil {
			return err
		}
		return bk.Put(k, binary.BigEndian.AppendUint64(nil, first))
	})
	return first, err
}

// CommitBatch implements catalog.BatchJournal. Each license is checked for
// every conflict before anything of it is written, so a skipped license
// leaves no trace. The append-mostly buckets (records by identifier, the
// batch, type, status and number indexes, the journal) split their pages
// 90 % full instead of bbolt's default 50 %, and after the commit the
// mapped pages are released when they pass the budget (see ReleaseMapped),
// so a long batch's resident memory does not grow with the file.
func (s *Store) CommitBatch(ctx context.Context, batchID string, entries []catalog.BatchEntry, ls []*catalog.License) (map[int]error, error) {
	if len(entries) != len(ls) {
		return nil, fmt.Errorf("boltstore: commit batch: %d entries for %d licenses: %w", len(entries), len(ls), catalog.ErrInvalid)
	}
	var skipped map[int]error
	err := s.db.Update(func(tx *bolt.Tx) error {
		skipped = nil
		rows, err := tx.CreateBucketIfNotExists(bBatchRows)
		if err != nil {
			return err
		}
		rows.FillPercent = appendFill
		for _, name := range [][]byte{bLic, bBatch, bType, bStatus, bNumber} {
			tx.Bucket(name).FillPercent = appendFill
		}
		for i, l := range ls {
			if err := canCreate(tx, l); err != nil {
				if skipped == nil {
					skipped = map[int]error{}
				}
				skipped[i] = err
				continue
			}
			if err := create(tx, l, ""); err != nil {
				return err
			}
			e := entries[i]
			data, err := json.Marshal(entryRecord{SourceKey: e.SourceKey, ID: e.ID, Digest: e.Digest})
			if err != nil {
				return err
			}
			if err := rows.Put(rowKey(batchID, e.Row), data); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return skipped, s.db.View(s.trimMapped)
}

// appendFill is the split threshold of buckets whose keys mostly arrive in
// increasing order (identifiers carry a serial).
const appendFill = 0.9

// canCreate reports the conflicts create would fail on, without writing.
func canCreate(tx *bolt.Tx, l *catalog.License) error {
	if l.ID == "" {
		return fmt.Errorf("boltstore: license without identifier: %w", catalog.ErrInvalid)
	}
	if tx.Bucket(bLic).Get([]byte(l.ID)) != nil {
		return fmt.Errorf("boltstore: license %s: %w", l.ID, catalog.ErrExists)
	}
	if prev := tx.Bucket(bNumber).Get(key2(l.TypeKey, l.Number)); prev != nil {
		old, err := getLicense(tx, string(prev))
		if err != nil {
			return err
		}
		if inForce(old.Status) {
			return fmt.Errorf("boltstore: license number %s of %s in force as %s: %w", l.Number, l.TypeKey, old.ID, catalog.ErrExists)
		}
	}
	if l.Digest != "" && tx.Bucket(bDigest).Get([]byte(l.Digest)) != nil {
		return fmt.Errorf("boltstore: digest %s: %w", l.Digest, catalog.ErrExists)
	}
	if l.StatusIndex >= 0 && tx.Bucket(bStatIdx).Get(idxKey(l.StatusIndex)) != nil {
		return fmt.Errorf("boltstore: status index %d: %w", l.StatusIndex, catalog.ErrExists)
	}
	return nil
}

// BatchEntries implements catalog.BatchJournal.
func (s *Store) BatchEntries(ctx context.Context, batchID string, fn func(catalog.BatchEntry) error) error {
	prefix := append([]byte(batchID), 0)
	return s.db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bBatchRows)
		if bk == nil {
			return nil
		}
		c := bk.Cursor()
		n := 0
		for k, v := c.Seek(prefix); k != nil && len(k) == len(prefix)+8 && string(k[:len(prefix)]) == string(prefix); k, v = c.Next() {
			var r entryRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("boltstore: corrupt batch entry: %w", err)
			}
			e := catalog.BatchEntry{Row: int(binary.BigEndian.Uint64(k[len(prefix):])), SourceKey: r.SourceKey, ID: r.ID, Digest: r.Digest}
			if err := fn(e); err != nil {
				return err
			}
			if n++; n%releaseEvery == 0 { // a long walk maps the file page by page
				if err := s.trimMapped(tx); err != nil {
					return err
				}
			}
		}
		return s.trimMapped(tx)
	})
}

// releaseEvery is how many journal entries BatchEntries reads between
// checks of the mapped pages against the budget.
const releaseEvery = 4096
