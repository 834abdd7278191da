package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"elicense/catalog"
)

// SchemaVersion is written into every record; a record with a newer version
// is refused rather than misread.
const SchemaVersion = 1

var (
	bTypes    = []byte("types")
	bDepts    = []byte("departments")
	bLic      = []byte("licenses")
	bDigest   = []byte("idx_digest")
	bNumber   = []byte("idx_number")
	bHolder   = []byte("idx_holder")
	bBatch    = []byte("idx_batch")
	bType     = []byte("idx_type")
	bStatus   = []byte("idx_status")
	bStatIdx  = []byte("idx_statuslist")
	bSeq      = []byte("sequences")
	bMeta     = []byte("meta")
	allBucket = [][]byte{bTypes, bDepts, bLic, bDigest, bNumber, bHolder, bBatch, bType, bStatus, bStatIdx, bSeq, bMeta,
		bPrincipals, bKeyHash, bUses, bUseHolder, bUseIssuer}
)

// Options configure Open. The zero value is usable.
type Options struct {
	// Timeout is how long Open waits for the file lock held by another
	// process before failing with catalog.ErrLocked. Default 1 s.
	Timeout time.Duration
	// ReadOnly opens the file for reading only (a shared lock).
	ReadOnly bool
	// NoSync skips fsync on commit; for benchmarks only.
	NoSync bool
	// MappedBudget is how much resident file-backed memory (bytes) the
	// process may hold before a batch commit releases the store's mapped
	// pages (see ReleaseMapped). 0 means DefaultMappedBudget; negative
	// means never.
	MappedBudget int64
}

// DefaultMappedBudget is the default Options.MappedBudget: the program's
// own text takes about 25 MB of it.
const DefaultMappedBudget = 96 << 20

// Store is a catalog.Store in one bbolt file.
type Store struct {
	db           *bolt.DB
	mappedBudget int64
	uses         groupCommit // AddUse
}

var _ catalog.Store = (*Store)(nil)

// Open opens or creates the store file at path, creating its folder.
func Open(path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if !o.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.Timeout, ReadOnly: o.ReadOnly, NoSync: o.NoSync})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("boltstore: open %s: %w", path, catalog.ErrLocked)
		}
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	if !o.ReadOnly {
		err = db.Update(func(tx *bolt.Tx) error {
			for _, b := range allBucket {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("boltstore: init %s: %w", path, err)
		}
	}
	if o.MappedBudget == 0 {
		o.MappedBudget = DefaultMappedBudget
	}
	return &Store{db: db, mappedBudget: o.MappedBudget}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the file's path.
func (s *Store) Path() string { return s.db.Path() }

// --- records ---

type typeRecord struct {
	SchemaVersion int                 `json:"schemaVersion"`
	Type          catalog.LicenseType `json:"type"`
}

type deptRecord struct {
	SchemaVersion int                `json:"schemaVersion"`
	Dept          catalog.Department `json:"department"`
}

func decode(data []byte, v any, version *int) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("boltstore: corrupt record: %w", err)
	}
	if *version > SchemaVersion {
		return fmt.Errorf("boltstore: record schema %d is newer than this program's %d", *version, SchemaVersion)
	}
	return nil
}

func notFound(what, key string) error {
	return fmt.Errorf("boltstore: %s %q: %w", what, key, catalog.ErrNotFound)
}

// --- types and departments ---

// PutType implements catalog.Store.
func (s *Store) PutType(ctx context.Context, t *catalog.LicenseType) error {
	if t.Key == "" {
		return fmt.Errorf("boltstore: type without key: %w", catalog.ErrInvalid)
	}
	data, err := json.Marshal(typeRecord{SchemaVersion, *t})
	if err != nil {
		return fmt.Errorf("boltstore: put type: %w", err)
	}
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bTypes).Put([]byte(t.Key), data) })
}

// GetType implements catalog.Store.
func (s *Store) GetType(ctx context.Context, key string) (*catalog.LicenseType, error) {
	var r typeRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bTypes).Get([]byte(key))
		if v == nil {
			return notFound("type", key)
		}
		return decode(v, &r, &r.SchemaVersion)
	})
	if err != nil {
		return nil, err
	}
	return &r.Type, nil
}

// ListTypes implements catalog.Store.
func (s *Store) ListTypes(ctx context.Context) ([]*catalog.LicenseType, error) {
	var out []*catalog.LicenseType
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bTypes).ForEach(func(k, v []byte) error {
			var r typeRecord
			if err := decode(v, &r, &r.SchemaVersion); err != nil {
				return err
			}
			out = append(out, &r.Type)
			return nil
		})
	})
	return out, err
}

// PutDepartment implements catalog.Store.
func (s *Store) PutDepartment(ctx context.Context, d *catalog.Department) error {
	if d.Key == "" {
		return fmt.Errorf("boltstore: department without key: %w", catalog.ErrInvalid)
	}
	data, err := json.Marshal(deptRecord{SchemaVersion, *d})
	if err != nil {
		return fmt.Errorf("boltstore: put department: %w", err)
	}
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bDepts).Put([]byte(d.Key), data) })
}

// GetDepartment implements catalog.Store.
func (s *Store) GetDepartment(ctx context.Context, key string) (*catalog.Department, error) {
	var r deptRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bDepts).Get([]byte(key))
		if v == nil {
			return notFound("department", key)
		}
		return decode(v, &r, &r.SchemaVersion)
	})
	if err != nil {
		return nil, err
	}
	return &r.Dept, nil
}

// ListDepartments implements catalog.Store.
func (s *Store) ListDepartments(ctx context.Context) ([]*catalog.Department, error) {
	var out []*catalog.Department
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bDepts).ForEach(func(k, v []byte) error {
			var r deptRecord
			if err := decode(v, &r, &r.SchemaVersion); err != nil {
				return err
			}
			out = append(out, &r.Dept)
			return nil
		})
	})
	return out, err
}

// --- licenses ---

func key2(a, b string) []byte {
	k := make([]byte, 0, len(a)+1+len(b))
	k = append(k, a...)
	k = append(k, 0)
	return append(k, b...)
}

func idxKey(i int) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	return b[:]
}

func getLicense(tx *bolt.Tx, id string) (*catalog.License, error) {
	v := tx.Bucket(bLic).Get([]byte(id))
	if v == nil {
		return nil, notFound("license", id)
	}
	return decodeLicense(v)
}

func putLicense(tx *bolt.Tx, l *catalog.License) error {
	data, err := encodeLicense(l)
	if err != nil {
		return err
	}
	return tx.Bucket(bLic).Put([]byte(l.ID), data)
}

func inForce(s catalog.Status) bool {
	return s == catalog.StatusIssued || s == catalog.StatusSuspended
}

// create writes a new license and its indexes; the caller's transaction
// makes it atomic. replacing is the identifier the new license may take the
// license number from (a superseded version), or "".
func create(tx *bolt.Tx, l *catalog.License, replacing string) error {
	if l.ID == "" {
		return fmt.Errorf("boltstore: license without identifier: %w", catalog.ErrInvalid)
	}
	if tx.Bucket(bLic).Get([]byte(l.ID)) != nil {
		return fmt.Errorf("boltstore: license %s: %w", l.ID, catalog.ErrExists)
	}
	nk := key2(l.TypeKey, l.Number)
	if prev := tx.Bucket(bNumber).Get(nk); prev != nil && string(prev) != replacing {
		old, err := getLicense(tx, string(prev))
		if err != nil {
			return err
		}
		if inForce(old.Status) {
			return fmt.Errorf("boltstore: license number %s of %s in force as %s: %w", l.Number, l.TypeKey, old.ID, catalog.ErrExists)
		}
	}
	if l.Digest != "" {
		if tx.Bucket(bDigest).Get([]byte(l.Digest)) != nil {
			return fmt.Errorf("boltstore: digest %s: %w", l.Digest, catalog.ErrExists)
		}
		if err := tx.Bucket(bDigest).Put([]byte(l.Digest), []byte(l.ID)); err != nil {
			return err
		}
	}
	if l.StatusIndex >= 0 {
		ik := idxKey(l.StatusIndex)
		if tx.Bucket(bStatIdx).Get(ik) != nil {
			return fmt.Errorf("boltstore: status index %d: %w", l.StatusIndex, catalog.ErrExists)
		}
		if err := tx.Bucket(bStatIdx).Put(ik, []byte(l.ID)); err != nil {
			return err
		}
		if err := bump(tx.Bucket(bMeta), keyStatusCount); err != nil {
			return err
		}
	}
	id := []byte(l.ID)
	puts := []struct {
		b []byte
		k []byte
		v []byte
	}{
		{bNumber, nk, id},
		{bHolder, key2(l.Holder.Code, l.ID), nil},
		{bType, key2(l.TypeKey, l.ID), nil},
		{bStatus, key2(string(l.Status), l.ID), nil},
	}
	if l.BatchID != "" {
		puts = append(puts, struct{ b, k, v []byte }{bBatch, key2(l.BatchID, l.ID), nil})
	}
	for _, p := range puts {
		if err := tx.Bucket(p.b).Put(p.k, p.v); err != nil {
			return err
		}
	}
	return putLicense(tx, l)
}

// Create implements catalog.Store.
func (s *Store) Create(ctx context.Context, l *catalog.License) error {
	return s.db.Update(func(tx *bolt.Tx) error { return create(tx, l, "") })
}

// Get implements catalog.Store.
func (s *Store) Get(ctx context.Context, id string) (*catalog.License, error) {
	var l *catalog.License
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		l, err = getLicense(tx, id)
		return err
	})
	return l, err
}

// GetByNumber implements catalog.Store.
func (s *Store) GetByNumber(ctx context.Context, typeKey, number string) (*catalog.License, error) {
	return s.byIndex(bNumber, key2(typeKey, number), "license number")
}

// GetByDigest implements catalog.Store.
func (s *Store) GetByDigest(ctx context.Context, digest string) (*catalog.License, error) {
	return s.byIndex(bDigest, []byte(digest), "digest")
}

func (s *Store) byIndex(bucket, key []byte, what string) (*catalog.License, error) {
	var l *catalog.License
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		id := tx.Bucket(bucket).Get(key)
		if id == nil {
			return notFound(what, string(bytes.ReplaceAll(key, []byte{0}, []byte{'/'})))
		}
		l, err = getLicense(tx, string(id))
		return err
	})
	return l, err
}

// List implements catalog.Store.
func (s *Store) List(ctx context.Context, f catalog.Filter, cursor string, limit int) (catalog.Page, error) {
	if limit <= 0 || limit > catalog.MaxPageSize {
		limit = catalog.MaxPageSize
	}
	var bucket []byte
	var prefix []byte
	switch {
	case f.HolderCode != "":
		bucket, prefix = bHolder, key2(f.HolderCode, "")
	case f.Batch != "":
		bucket, prefix = bBatch, key2(f.Batch, "")
	case f.TypeKey != "":
		bucket, prefix = bType, key2(f.TypeKey, "")
	case f.Status != "":
		bucket, prefix = bStatus, key2(string(f.Status), "")
	}
	var page catalog.Page
	err := s.db.View(func(tx *bolt.Tx) error {
		var c *bolt.Cursor
		if bucket == nil {
			c = tx.Bucket(bLic).Cursor()
		} else {
			c = tx.Bucket(bucket).Cursor()
		}
		seek := append(append([]byte{}, prefix...), cursor...)
		k, _ := c.Seek(seek)
		if cursor != "" && k != nil && bytes.Equal(k, seek) {
			k, _ = c.Next()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			id := string(k[len(prefix):])
			l, err := getLicense(tx, id)
			if err != nil {
				return err
			}
			if !matches(l, f) {
				continue
			}
			if len(page.Licenses) == limit {
				page.Next = page.Licenses[limit-1].ID
				return nil
			}
			page.Licenses = append(page.Licenses, l)
		}
		return nil
	})
	return page, err
}

func matches(l *catalog.License, f catalog.Filter) bool {
	return (f.HolderCode == "" || l.Holder.Code == f.HolderCode) &&
		(f.Batch == "" || l.BatchID == f.Batch) &&
		(f.TypeKey == "" || l.TypeKey == f.TypeKey) &&
		(f.IssuerUSCC == "" || l.IssuerUSCC == f.IssuerUSCC) &&
		(f.Status == "" || l.Status == f.Status)
}

func setStatus(tx *bolt.Tx, id string, t catalog.Transition) (*catalog.License, error) {
	l, err := getLicense(tx, id)
	if err != nil {
		return nil, err
	}
	if l.Status != t.From {
		return nil, fmt.Errorf("boltstore: license %s is %s, not %s: %w", id, l.Status, t.From, catalog.ErrConflict)
	}
	if err := tx.Bucket(bStatus).Delete(key2(string(l.Status), id)); err != nil {
		return nil, err
	}
	if err := tx.Bucket(bStatus).Put(key2(string(t.To), id), nil); err != nil {
		return nil, err
	}
	l.Status = t.To
	l.History = append(l.History, t)
	return l, putLicense(tx, l)
}

// SetStatus implements catalog.Store.
func (s *Store) SetStatus(ctx context.Context, id string, t catalog.Transition) (*catalog.License, error) {
	var l *catalog.License
	err := s.db.Update(func(tx *bolt.Tx) (err error) {
		l, err = setStatus(tx, id, t)
		return err
	})
	return l, err
}

// Supersede implements catalog.Store.
func (s *Store) Supersede(ctx context.Context, oldID string, t catalog.Transition, next *catalog.License) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		t.To = catalog.StatusSuperseded
		old, err := setStatus(tx, oldID, t)
		if err != nil {
			return err
		}
		old.SupersededBy = next.ID
		if err := putLicense(tx, old); err != nil {
			return err
		}
		return create(tx, next, oldID)
	})
}

// Versions implements catalog.Store.
func (s *Store) Versions(ctx context.Context, id string) ([]*catalog.License, error) {
	parts, _, err := catalog.ParseIdentifier(id)
	if err != nil {
		return nil, fmt.Errorf("boltstore: versions %s: %w", id, err)
	}
	prefix := []byte(catalog.IdentifierRoot + "." + parts.TypeCode + "." + parts.IssuerCode + "." + parts.Serial + ".")
	var out []*catalog.License
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bLic).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			l, err := getLicense(tx, string(k))
			if err != nil {
				return err
			}
			out = append(out, l)
		}
		return nil
	})
	if err == nil && len(out) == 0 {
		err = notFound("license", id)
	}
	return out, err
}

// StatusIndexUsed implements catalog.Store.
func (s *Store) StatusIndexUsed(ctx context.Context, idx int) (used bool, count int, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		used = tx.Bucket(bStatIdx).Get(idxKey(idx)) != nil
		if v := tx.Bucket(bMeta).Get(keyStatusCount); len(v) == 8 {
			count = int(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	return used, count, err
}

// StatusIndexes implements catalog.StatusIndexLister: one walk over the
// index's keys.
func (s *Store) StatusIndexes(ctx context.Context, fn func(int) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bStatIdx).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) != 8 {
				return fmt.Errorf("boltstore: corrupt status-list index key %x", k)
			}
			if err := fn(int(binary.BigEndian.Uint64(k))); err != nil {
				return err
			}
		}
		return s.trimMapped(tx)
	})
}

var _ catalog.StatusIndexLister = (*Store)(nil)

// ReserveSerial implements catalog.Store.
func (s *Store) ReserveSerial(ctx context.Context, name string) (uint64, error) {
	var n uint64
	err := s.db.Update(func(tx *bolt.Tx) (err error) {
		n, err = bumpN(tx.Bucket(bSeq), []byte(name))
		return err
	})
	return n, err
}

var keyStatusCount = []byte("statuslist_count")

func bump(b *bolt.Bucket, key []byte) error {
	_, err := bumpN(b, key)
	return err
}

// bumpN increments the big-endian counter at key and returns the new value.
func bumpN(b *bolt.Bucket, key []byte) (uint64, error) {
	var n uint64
	if v := b.Get(key); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	n++
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], n)
	return n, b.Put(key, buf[:])
}

// Snapshot writes a consistent copy of the whole store file, as of one
// read transaction, while the store stays in use: open is called with the
// copy's size and returns where to write it.
func (s *Store) Snapshot(open func(size int64) (io.Writer, error)) error {
	return s.db.View(func(tx *bolt.Tx) error {
		w, err := open(tx.Size())
		if err != nil {
			return err
		}
		_, err = tx.WriteTo(w)
		return err
	})
}
