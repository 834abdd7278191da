package catalogtest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"elicense/catalog"
)

// MemStore is an in-memory catalog.Store for tests. It deep-copies records in
// and out, like a real store, so callers cannot alias stored state.
type MemStore struct {
	mu     sync.Mutex
	types  map[string]catalog.LicenseType
	depts  map[string]catalog.Department
	lics   map[string]catalog.License
	number map[string]string
	digest map[string]string
	statIx map[int]string
	seq    map[string]uint64
}

var _ catalog.Store = (*MemStore)(nil)

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{
		types: map[string]catalog.LicenseType{}, depts: map[string]catalog.Department{},
		lics: map[string]catalog.License{}, number: map[string]string{}, digest: map[string]string{},
		statIx: map[int]string{}, seq: map[string]uint64{},
	}
}

func clone[T any](v T) T {
	var out T
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func nf(what, key string) error {
	return fmt.Errorf("memstore: %s %q: %w", what, key, catalog.ErrNotFound)
}

// PutType implements catalog.Store.
func (m *MemStore) PutType(_ context.Context, t *catalog.LicenseType) error {
	if t.Key == "" {
		return catalog.ErrInvalid
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.types[t.Key] = clone(*t)
	return nil
}

// GetType implements catalog.Store.
func (m *MemStore) GetType(_ context.Context, key string) (*catalog.LicenseType, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.types[key]
	if !ok {
		return nil, nf("type", key)
	}
	t = clone(t)
	return &t, nil
}

// ListTypes implements catalog.Store.
func (m *MemStore) ListTypes(_ context.Context) ([]*catalog.LicenseType, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*catalog.LicenseType
	for _, k := range sortedKeys(m.types) {
		t := clone(m.types[k])
		out = append(out, &t)
	}
	return out, nil
}

// PutDepartment implements catalog.Store.
func (m *MemStore) PutDepartment(_ context.Context, d *catalog.Department) error {
	if d.Key == "" {
		return catalog.ErrInvalid
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.depts[d.Key] = *d
	return nil
}

// GetDepartment implements catalog.Store.
func (m *MemStore) GetDepartment(_ context.Context, key string) (*catalog.Department, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.depts[key]
	if !ok {
		return nil, nf("department", key)
	}
	return &d, nil
}

// ListDepartments implements catalog.Store.
func (m *MemStore) ListDepartments(_ context.Context) ([]*catalog.Department, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*catalog.Department
	for _, k := range sortedKeys(m.depts) {
		d := m.depts[k]
		out = append(out, &d)
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func inForce(s catalog.Status) bool { return s == catalog.StatusIssued || s == catalog.StatusSuspended }

func (m *MemStore) create(l *catalog.License, replacing string) error {
	if l.ID == "" {
		return catalog.ErrInvalid
	}
	if _, ok := m.lics[l.ID]; ok {
		return fmt.Errorf("memstore: %s: %w", l.ID, catalog.ErrExists)
	}
	nk := l.TypeKey + "\x00" + l.Number
	if prev, ok := m.number[nk]; ok && prev != replacing && inForce(m.lics[prev].Status) {
		return fmt.Errorf("memstore: number %s: %w", l.Number, catalog.ErrExists)
	}
	if l.Digest != "" {
		if _, ok := m.digest[l.Digest]; ok {
			return fmt.Errorf("memstore: digest: %w", catalog.ErrExists)
		}
	}
	if l.StatusIndex >= 0 {
		if _, ok := m.statIx[l.StatusIndex]; ok {
			return fmt.Errorf("memstore: status index: %w", catalog.ErrExists)
		}
		m.statIx[l.StatusIndex] = l.ID
	}
	if l.Digest != "" {
		m.digest[l.Digest] = l.ID
	}
	m.number[nk] = l.ID
	m.lics[l.ID] = clone(*l)
	return nil
}

// Create implements catalog.Store.
func (m *MemStore) Create(_ context.Context, l *catalog.License) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.create(l, "")
}

func (m *MemStore) get(id string) (*catalog.License, error) {
	l, ok := m.lics[id]
	if !ok {
		return nil, nf("license", id)
	}
	l = clone(l)
	return &l, nil
}

// Get implements catalog.Store.
func (m *MemStore) Get(_ context.Context, id string) (*catalog.License, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.get(id)
}

// GetByNumber implements catalog.Store.
func (m *MemStore) GetByNumber(_ context.Context, typeKey, number string) (*catalog.License, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.number[typeKey+"\x00"+number]
	if !ok {
		return nil, nf("number", number)
	}
	return m.get(id)
}

// GetByDigest implements catalog.Store.
func (m *MemStore) GetByDigest(_ context.Context, digest string) (*catalog.License, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.digest[digest]
	if !ok {
		return nil, nf("digest", digest)
	}
	return m.get(id)
}

// List implements catalog.Store.
func (m *MemStore) List(_ context.Context, f catalog.Filter, cursor string, limit int) (catalog.Page, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if limit <= 0 || limit > catalog.MaxPageSize {
		limit = catalog.MaxPageSize
	}
	var page catalog.Page
	for _, id := range sortedKeys(m.lics) {
		if cursor != "" && id <= cursor {
			continue
		}
		l := m.lics[id]
		if f.HolderCode != "" && l.Holder.Code != f.HolderCode || f.Batch != "" && l.BatchID != f.Batch ||
			f.TypeKey != "" && l.TypeKey != f.TypeKey || f.IssuerUSCC != "" && l.IssuerUSCC != f.IssuerUSCC ||
			f.Status != "" && l.Status != f.Status {
			continue
		}
		if len(page.Licenses) == limit {
			page.Next = page.Licenses[limit-1].ID
			break
		}
		c := clone(l)
		page.Licenses = append(page.Licenses, &c)
	}
	return page, nil
}

func (m *MemStore) setStatus(id string, t catalog.Transition) (*catalog.License, error) {
	l, ok := m.lics[id]
	if !ok {
		return nil, nf("license", id)
	}
	if l.Status != t.From {
		return nil, fmt.Errorf("memstore: %s: %w", id, catalog.ErrConflict)
	}
	l.Status = t.To
	l.History = append(l.History, t)
	m.lics[id] = l
	c := clone(l)
	return &c, nil
}

// SetStatus implements catalog.Store.
func (m *MemStore) SetStatus(_ context.Context, id string, t catalog.Transition) (*catalog.License, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.setStatus(id, t)
}

// Supersede implements catalog.Store.
func (m *MemStore) Supersede(_ context.Context, oldID string, t catalog.Transition, next *catalog.License) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.lics[oldID]
	if !ok {
		return nf("license", oldID)
	}
	if old.Status != t.From {
		return fmt.Errorf("memstore: %s: %w", oldID, catalog.ErrConflict)
	}
	if err := m.create(next, oldID); err != nil {
		return err
	}
	t.To = catalog.StatusSuperseded
	old.Status = t.To
	old.History = append(old.History, t)
	old.SupersededBy = next.ID
	m.lics[oldID] = old
	return nil
}

// Versions implements catalog.Store.
func (m *MemStore) Versions(_ context.Context, id string) ([]*catalog.License, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, _, err := catalog.ParseIdentifier(id)
	if err != nil {
		return nil, err
	}
	prefix := catalog.IdentifierRoot + "." + p.TypeCode + "." + p.IssuerCode + "." + p.Serial + "."
	var out []*catalog.License
	for _, k := range sortedKeys(m.lics) {
		if strings.HasPrefix(k, prefix) {
			c := clone(m.lics[k])
			out = append(out, &c)
		}
	}
	if len(out) == 0 {
		return nil, nf("license", id)
	}
	return out, nil
}

// StatusIndexUsed implements catalog.Store.
func (m *MemStore) StatusIndexUsed(_ context.Context, idx int) (bool, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, used := m.statIx[idx]
	return used, len(m.statIx), nil
}

// StatusIndexes implements catalog.StatusIndexLister.
func (m *MemStore) StatusIndexes(_ context.Context, fn func(int) error) error {
	m.mu.Lock()
	idx := make([]int, 0, len(m.statIx))
	for i := range m.statIx {
		idx = append(idx, i)
	}
	m.mu.Unlock()
	slices.Sort(idx)
	for _, i := range idx {
		if err := fn(i); err != nil {
			return err
		}
	}
	return nil
}

// ReserveSerial implements catalog.Store.
func (m *MemStore) ReserveSerial(_ context.Context, name string) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq[name]++
	return m.seq[name], nil
}

// Close implements catalog.Store.
func (m *MemStore) Close() error { return nil }
