package catalogtest

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"elicense/catalog"
)

// MemAccess is an in-memory catalog.AccessStore for tests.
type MemAccess struct {
	mu    sync.Mutex
	princ map[string]catalog.Principal
	uses  map[string]catalog.UseRecord
}

var _ catalog.AccessStore = (*MemAccess)(nil)

// NewMemAccess returns an empty access store.
func NewMemAccess() *MemAccess {
	return &MemAccess{princ: map[string]catalog.Principal{}, uses: map[string]catalog.UseRecord{}}
}

// PutPrincipal implements catalog.AccessStore.
func (m *MemAccess) PutPrincipal(_ context.Context, p *catalog.Principal) error {
	if p.ID == "" || p.KeyHash == "" {
		return catalog.ErrInvalid
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, o := range m.princ {
		if o.KeyHash == p.KeyHash && id != p.ID {
			return fmt.Errorf("memaccess: key hash: %w", catalog.ErrExists)
		}
	}
	m.princ[p.ID] = clone(*p)
	return nil
}

// GetPrincipal implements catalog.AccessStore.
func (m *MemAccess) GetPrincipal(_ context.Context, id string) (*catalog.Principal, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.princ[id]
	if !ok {
		return nil, nf("principal", id)
	}
	p = clone(p)
	return &p, nil
}

// PrincipalByKeyHash implements catalog.AccessStore.
func (m *MemAccess) PrincipalByKeyHash(_ context.Context, hash string) (*catalog.Principal, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.princ {
		if p.KeyHash == hash {
			p = clone(p)
			return &p, nil
		}
	}
	return nil, nf("principal key", "…")
}

// ListPrincipals implements catalog.AccessStore.
func (m *MemAccess) ListPrincipals(_ context.Context) ([]*catalog.Principal, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*catalog.Principal
	for _, k := range sortedKeys(m.princ) {
		p := clone(m.princ[k])
		out = append(out, &p)
	}
	return out, nil
}

// AddUse implements catalog.AccessStore.
func (m *MemAccess) AddUse(_ context.Context, r *catalog.UseRecord) error {
	if r.ID == "" {
		return catalog.ErrInvalid
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.uses[r.ID]; ok {
		return fmt.Errorf("memaccess: %s: %w", r.ID, catalog.ErrExists)
	}
	m.uses[r.ID] = *r
	return nil
}

// ListUses implements catalog.AccessStore.
func (m *MemAccess) ListUses(_ context.Context, holder, issuer, cursor string, limit int) ([]*catalog.UseRecord, string, error) {
	if holder == "" && issuer == "" {
		return nil, "", catalog.ErrInvalid
	}
	if limit <= 0 || limit > catalog.MaxPageSize {
		limit = catalog.MaxPageSize
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := sortedKeys(m.uses)
	sort.Sort(sort.Reverse(sort.StringSlice(ids)))
	var out []*catalog.UseRecord
	for _, id := range ids {
		r := m.uses[id]
		if cursor != "" && id >= cursor {
			continue
		}
		if holder != "" && r.HolderCode != holder || holder == "" && r.IssuerUSCC != issuer {
			continue
		}
		if len(out) == limit {
			return out, out[limit-1].ID, nil
		}
		c := r
		out = append(out, &c)
	}
	return out, "", nil
}
