package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"elicense/catalog"
)

var (
	bPrincipals = []byte("principals")
	bKeyHash    = []byte("idx_keyhash")
	bUses       = []byte("uses")
	bUseHolder  = []byte("idx_use_holder")
	bUseIssuer  = []byte("idx_use_issuer")
)

var _ catalog.AccessStore = (*Store)(nil)

type principalRecord struct {
	SchemaVersion int               `json:"schemaVersion"`
	Principal     catalog.Principal `json:"principal"`
}

type useRecord struct {
	SchemaVersion int               `json:"schemaVersion"`
	Use           catalog.UseRecord `json:"use"`
}

// PutPrincipal implements catalog.AccessStore.
func (s *Store) PutPrincipal(ctx context.Context, p *catalog.Principal) error {
	if p.ID == "" || p.KeyHash == "" {
		return fmt.Errorf("boltstore: principal without id or key hash: %w", catalog.ErrInvalid)
	}
	data, err := json.Marshal(principalRecord{SchemaVersion, *p})
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		kb := tx.Bucket(bKeyHash)
		if owner := kb.Get([]byte(p.KeyHash)); owner != nil && string(owner) != p.ID {
			return fmt.Errorf("boltstore: key hash in use: %w", catalog.ErrExists)
		}
		if old := tx.Bucket(bPrincipals).Get([]byte(p.ID)); old != nil {
			var r principalRecord
			if err := decode(old, &r, &r.SchemaVersion); err != nil {
				return err
			}
			if err := kb.Delete([]byte(r.Principal.KeyHash)); err != nil {
				return err
			}
		}
		if err := kb.Put([]byte(p.KeyHash), []byte(p.ID)); err != nil {
			return err
		}
		return tx.Bucket(bPrincipals).Put([]byte(p.ID), data)
	})
}

func getPrincipal(tx *bolt.Tx, id string) (*catalog.Principal, error) {
	v := tx.Bucket(bPrincipals).Get([]byte(id))
	if v == nil {
		return nil, notFound("principal", id)
	}
	var r principalRecord
	if err := decode(v, &r, &r.SchemaVersion); err != nil {
		return nil, err
	}
	return &r.Principal, nil
}

// GetPrincipal implements catalog.AccessStore.
func (s *Store) GetPrincipal(ctx context.Context, id string) (*catalog.Principal, error) {
	var p *catalog.Principal
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		p, err = getPrincipal(tx, id)
		return err
	})
	return p, err
}

// PrincipalByKeyHash implements catalog.AccessStore.
func (s *Store) PrincipalByKeyHash(ctx context.Context, hash string) (*catalog.Principal, error) {
	var p *catalog.Principal
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		id := tx.Bucket(bKeyHash).Get([]byte(hash))
		if id == nil {
			return notFound("principal key", "…")
		}
		p, err = getPrincipal(tx, string(id))
		return err
	})
	return p, err
}

// ListPrincipals implements catalog.AccessStore.
func (s *Store) ListPrincipals(ctx context.Context) ([]*catalog.Principal, error) {
	var out []*catalog.Principal
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bPrincipals).ForEach(func(k, v []byte) error {
			var r principalRecord
			if err := decode(v, &r, &r.SchemaVersion); err != nil {
				return err
			}
			out = append(out, &r.Principal)
			return nil
		})
	})
	return out, err
}

// AddUse implements catalog.AccessStore.
func (s *Store) AddUse(ctx context.Context, r *catalog.UseRecord) error {
	if r.ID == "" {
		return fmt.Errorf("boltstore: use record without id: %w", catalog.ErrInvalid)
	}
	data, err := json.Marshal(useRecord{SchemaVersion, *r})
	if err != nil {
		return err
	}
	rec := *r
	return s.uses.do(func(tx *bolt.Tx) error {
		b := tx.Bucket(bUses)
		if b.Get([]byte(rec.ID)) != nil {
			return fmt.Errorf("boltstore: use record %s: %w", rec.ID, catalog.ErrExists)
		}
		if rec.HolderCode != "" {
			if err := tx.Bucket(bUseHolder).Put(key2(rec.HolderCode, rec.ID), nil); err != nil {
				return err
			}
		}
		if rec.IssuerUSCC != "" {
			if err := tx.Bucket(bUseIssuer).Put(key2(rec.IssuerUSCC, rec.ID), nil); err != nil {
				return err
			}
		}
		return b.Put([]byte(rec.ID), data)
	}, s.db)
}

// ListUses implements catalog.AccessStore.
func (s *Store) ListUses(ctx context.Context, holderCode, issuer, cursor string, limit int) ([]*catalog.UseRecord, string, error) {
	if limit <= 0 || limit > catalog.MaxPageSize {
		limit = catalog.MaxPageSize
	}
	bucket, prefix := bUseHolder, key2(holderCode, "")
	if holderCode == "" {
		bucket, prefix = bUseIssuer, key2(issuer, "")
	}
	if holderCode == "" && issuer == "" {
		return nil, "", fmt.Errorf("boltstore: list uses needs a holder or an issuer: %w", catalog.ErrInvalid)
	}
	var out []*catalog.UseRecord
	next := ""
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		// Newest first: start at the end of the prefix range (or before cursor).
		var k []byte
		if cursor != "" {
			k, _ = c.Seek(append(append([]byte{}, prefix...), cursor...))
			if k == nil {
				k, _ = c.Last()
			} else {
				k, _ = c.Prev()
			}
		} else {
			upper := append(append([]byte{}, prefix[:len(prefix)-1]...), 1)
			k, _ = c.Seek(upper)
			if k == nil {
				k, _ = c.Last()
			} else {
				k, _ = c.Prev()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
			if len(out) == limit {
				next = out[limit-1].ID
				return nil
			}
			v := tx.Bucket(bUses).Get(k[len(prefix):])
			if v == nil {
				continue
			}
			var r useRecord
			if err := decode(v, &r, &r.SchemaVersion); err != nil {
				return err
			}
			out = append(out, &r.Use)
		}
		return nil
	})
	return out, next, err
}
