package qrtoken

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"sync"
	"time"

	"elicense/catalog"
)

// DeptKey is one department's QR signing key as the Authority holds it.
type DeptKey struct {
	Signer              crypto.Signer
	DeptName, DeptUSCC  string
	TypeCodes           []string
	NotBefore, NotAfter time.Time
}

// Authority issues the QR tokens of a city and publishes its key list and
// status list. It implements catalog.QRIssuer. Safe for concurrent use.
type Authority struct {
	root    crypto.Signer
	base    string
	rnd     io.Reader
	keys    map[string]DeptKey // by department USCC
	list    *KeyList
	listDoc []byte
	mu      sync.Mutex
}

var _ catalog.QRIssuer = (*Authority)(nil)

// NewAuthority builds an authority over one key per department. root signs
// the key list and the status lists; base is the public base URL printed in
// front of every token (PUBLIC_BASE); issued is the key list's issue time
// and its version the Unix second of it.
func NewAuthority(root crypto.Signer, base string, keys []DeptKey, issued time.Time, rnd io.Reader) (*Authority, error) {
	a := &Authority{root: root, base: base, rnd: rnd}
	byDept := map[string]DeptKey{}
	for _, k := range keys {
		if _, ok := k.Signer.Public().(*ecdsa.PublicKey); !ok {
			return nil, invalidf("department %s: QR key is not SM2", k.DeptUSCC)
		}
		if _, dup := byDept[k.DeptUSCC]; dup {
			return nil, invalidf("department %s has two QR keys", k.DeptUSCC)
		}
		byDept[k.DeptUSCC] = k
	}
	if err := a.resign(byDept, uint64(issued.Unix()), issued); err != nil {
		return nil, err
	}
	return a, nil
}

// resign makes keys the authority's keys and signs their list (a
// department that issues no type yet is left out) as version. The caller
// holds a.mu or owns a alone; the keys are SM2 (checked by NewAuthority).
func (a *Authority) resign(keys map[string]DeptKey, version uint64, issued time.Time) error {
	var list []Key
	for _, k := range keys {
		if len(k.TypeCodes) == 0 {
			continue
		}
		list = append(list, Key{Public: k.Signer.Public().(*ecdsa.PublicKey), DeptName: k.DeptName, DeptUSCC: k.DeptUSCC,
			TypeCodes: k.TypeCodes, NotBefore: k.NotBefore, NotAfter: k.NotAfter, Status: KeyActive})
	}
	kl, err := NewKeyList(version, issued, list)
	if err != nil {
		return err
	}
	doc, err := kl.Sign(a.root, a.rnd)
	if err != nil {
		return err
	}
	a.keys, a.list, a.listDoc = keys, kl, doc
	return nil
}

// KeyList returns the key list.
func (a *Authority) KeyList() *KeyList {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.list
}

// KeyListDocument returns the signed key-list document.
func (a *Authority) KeyListDocument() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]byte(nil), a.listDoc...)
}

// SetTypeCodes replaces the license type codes each department's key may
// sign (by department USCC; a department not named keeps its codes) and
// re-signs the key list as the next version, issued at issued. Use it
// when a license type is created, changed or published, so that offline
// verifiers fetching the list accept the new type without a restart.
func (a *Authority) SetTypeCodes(codes map[string][]string, issued time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	keys := map[string]DeptKey{}
	for uscc, k := range a.keys {
		if c, ok := codes[uscc]; ok {
			k.TypeCodes = append([]string(nil), c...)
		}
		keys[uscc] = k
	}
	return a.resign(keys, a.list.Version()+1, issued)
}

// RootPublic returns the public key that verifies the lists.
func (a *Authority) RootPublic() crypto.PublicKey { return a.root.Public() }

// keyFor returns the key of l's issuing department. The token leaves the
// issuer code out of the identifier (the verifier takes the key's
// department), so the issuer code inside l.ID must be that department.
func (a *Authority) keyFor(l *catalog.License) (DeptKey, error) {
	if l == nil {
		return DeptKey{}, invalidf("nil license")
	}
	a.mu.Lock()
	k, ok := a.keys[l.IssuerUSCC]
	a.mu.Unlock()
	if !ok {
		return k, fmt.Errorf("%w: no QR key for department %s", ErrSign, l.IssuerUSCC)
	}
	_, issuer, err := SplitIdentifier(l.ID)
	if err != nil {
		return k, err
	}
	if issuer != k.DeptUSCC {
		return k, invalidf("license %s: issuer code %s is not the signing department %s", l.ID, issuer, k.DeptUSCC)
	}
	return k, nil
}

// StaticText implements catalog.QRIssuer: the printed QR text of l, signed
// with the key of l.IssuerUSCC. The issuer code inside l.ID must be that
// department (ErrInvalidInput otherwise).
func (a *Authority) StaticText(_ context.Context, d *catalog.Department, l *catalog.License) (string, error) {
	k, err := a.keyFor(l)
	if err != nil {
		return "", err
	}
	c, err := NewStatic(l)
	if err != nil {
		return "", err
	}
	tok, err := Sign(c, k.Signer, a.rnd)
	if err != nil {
		return "", err
	}
	return Text(tok, a.base), nil
}

// DynamicText returns a fresh dynamic token for the holder's "show" view,
// made at now and valid for lifetime (0 means MaxLifetime), with the same
// key and issuer rule as StaticText.
func (a *Authority) DynamicText(l *catalog.License, now time.Time, lifetime time.Duration) (string, *Claims, error) {
	k, err := a.keyFor(l)
	if err != nil {
		return "", nil, err
	}
	c, err := NewDynamic(l, now, lifetime, a.rnd)
	if err != nil {
		return "", nil, err
	}
	tok, err := Sign(c, k.Signer, a.rnd)
	if err != nil {
		return "", nil, err
	}
	return Text(tok, a.base), c, nil
}

// StatusFlag is the status-list entry of a license at now: revoked for a
// revoked or superseded version, suspended for a suspended one. Expiry is
// not a flag: tokens carry their validity.
func StatusFlag(l *catalog.License) Flag {
	switch l.Status {
	case catalog.StatusRevoked, catalog.StatusSuperseded:
		return FlagRevoked
	case catalog.StatusSuspended:
		return FlagSuspended
	}
	return 0
}

// BuildStatusList reads every license of the store and returns the signed
// status-list document, with sequence the Unix second of now. The list has
// StatusBlock entries or the next multiple of it above the largest index.
func (a *Authority) BuildStatusList(ctx context.Context, st catalog.Store, now time.Time) ([]byte, *StatusList, error) {
	type entry struct {
		idx int
		f   Flag
	}
	var entries []entry
	maxIdx := -1
	cursor := ""
	for {
		page, err := st.List(ctx, catalog.Filter{}, cursor, catalog.MaxPageSize)
		if err != nil {
			return nil, nil, fmt.Errorf("qrtoken: status list: %w", err)
		}
		for _, l := range page.Licenses {
			if l.StatusIndex < 0 {
				continue
			}
			if f := StatusFlag(l); f != 0 {
				entries = append(entries, entry{l.StatusIndex, f})
			}
			maxIdx = max(maxIdx, l.StatusIndex)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	size := StatusBlock
	for size <= maxIdx {
		size += StatusBlock
	}
	sl, err := NewStatusList(size)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		if err := sl.Set(e.idx, e.f); err != nil {
			return nil, nil, err
		}
	}
	doc, err := sl.Sign(a.root, a.rnd, uint64(now.Unix()), now)
	if err != nil {
		return nil, nil, err
	}
	return doc, sl, nil
}

// FileTicketCache is a TicketCache kept in a JSON file, for a verifier that
// runs as one command at a time (elicense qr verify). Each Use reads and
// rewrites the file; expired tickets are dropped.
type FileTicketCache struct {
	Path string
	mu   sync.Mutex
}

// Use implements TicketCache.
func (c *FileTicketCache) Use(t Ticket, expires, now time.Time) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string]int64{}
	b, err := os.ReadFile(c.Path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("qrtoken: ticket cache: %w", err)
	}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			return false, fmt.Errorf("qrtoken: ticket cache %s: %w", c.Path, err)
		}
	}
	key := t.String()
	if exp, ok := m[key]; ok && now.Unix() < exp {
		return false, nil
	}
	for k, exp := range m {
		if now.Unix() >= exp {
			delete(m, k)
		}
	}
	m[key] = expires.Unix()
	out, _ := json.Marshal(m)
	if err := os.MkdirAll(filepath.Dir(c.Path), 0o700); err != nil {
		return false, fmt.Errorf("qrtoken: ticket cache: %w", err)
	}
	tmp := c.Path + ".tmp"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return false, fmt.Errorf("qrtoken: ticket cache: %w", err)
	}
	if err := os.Rename(tmp, c.Path); err != nil {
		return false, fmt.Errorf("qrtoken: ticket cache: %w", err)
	}
	return true, nil
}
