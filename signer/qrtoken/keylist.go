package qrtoken

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"fmt"
	"io"
	"slices"
	"time"

	"elicense/catalog"
)

// KeyStatus is the state of a QR signing key in the key list.
type KeyStatus uint8

// Key states. Only an active key makes valid tokens; tokens signed by a
// retired or revoked key fail verification.
const (
	// KeyActive: the key signs tokens and its tokens verify.
	KeyActive KeyStatus = 1
	// KeyRetired: the key no longer signs; its tokens no longer verify and
	// must be re-issued.
	KeyRetired KeyStatus = 2
	// KeyRevoked: the key is compromised or withdrawn; its tokens fail.
	KeyRevoked KeyStatus = 3
)

// String returns "active", "retired", "revoked" or the number.
func (s KeyStatus) String() string {
	switch s {
	case KeyActive:
		return "active"
	case KeyRetired:
		return "retired"
	case KeyRevoked:
		return "revoked"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Limits of the key list.
const (
	// MaxKeys is the largest number of keys in one key list.
	MaxKeys = 4096
	// MaxTypeCodes is the largest number of type codes of one key.
	MaxTypeCodes = 512
	// MaxKeyListSize is the largest key-list document accepted, in bytes.
	MaxKeyListSize = 4 << 20

	maxDeptName = 200
)

// Key is one QR signing key of the key list.
type Key struct {
	// Public is the SM2 public key.
	Public *ecdsa.PublicKey
	// DeptName and DeptUSCC name the issuing department (证照颁发机构);
	// DeptUSCC is the issuer code of every identifier the key signs: tokens
	// leave it out and Verify rebuilds the identifier with it.
	DeptName, DeptUSCC string
	// TypeCodes are the 21-character license type codes (证照类型代码) the
	// key may sign.
	TypeCodes []string
	// NotBefore and NotAfter bound the signing time of the key's tokens
	// (whole seconds).
	NotBefore, NotAfter time.Time
	// Status is the key's state.
	Status KeyStatus
}

// KID returns the key identifier of k.Public (zero if it is not SM2).
func (k *Key) KID() KID {
	id, _ := KeyID(k.Public)
	return id
}

// Allows reports whether typeCode is in k.TypeCodes.
func (k *Key) Allows(typeCode string) bool {
	_, ok := slices.BinarySearch(k.TypeCodes, typeCode)
	return ok
}

type keyEntry struct {
	key Key
	v   *verifier
}

// KeyList is the list of QR signing keys, signed by the city root. Make one
// with NewKeyList (trusted local data) or ParseKeyList (a signed document);
// it is immutable and safe for concurrent use.
type KeyList struct {
	version uint64
	issued  time.Time
	entries []*keyEntry
	byKID   map[KID][]*keyEntry
	root    KID
	signed  bool
}

// NewKeyList checks keys and builds a key list with the given version and
// issue time. Keys are copied, sorted by public key and their type codes
// sorted; a duplicate public key or type code is an error.
func NewKeyList(version uint64, issued time.Time, keys []Key) (*KeyList, error) {
	if len(keys) > MaxKeys {
		return nil, invalidf("%d keys, maximum %d", len(keys), MaxKeys)
	}
	if issued.Unix() < 0 {
		return nil, invalidf("issue time before 1970")
	}
	kl := &KeyList{version: version, issued: time.Unix(issued.Unix(), 0).UTC()}
	for i := range keys {
		k := keys[i]
		k.TypeCodes = slices.Clone(k.TypeCodes)
		slices.Sort(k.TypeCodes)
		k.NotBefore = time.Unix(k.NotBefore.Unix(), 0).UTC()
		k.NotAfter = time.Unix(k.NotAfter.Unix(), 0).UTC()
		e, err := newKeyEntry(k)
		if err != nil {
			return nil, invalidf("key %d: %w", i, err)
		}
		kl.entries = append(kl.entries, e)
	}
	slices.SortFunc(kl.entries, func(a, b *keyEntry) int { return comparePub(a, b) })
	if err := kl.index(); err != nil {
		return nil, invalidf("%w", err)
	}
	return kl, nil
}

func comparePub(a, b *keyEntry) int {
	pa, _ := PublicKeyBytes(a.key.Public)
	pb, _ := PublicKeyBytes(b.key.Public)
	return bytes.Compare(pa, pb)
}

func newKeyEntry(k Key) (*keyEntry, error) {
	if k.Public == nil {
		return nil, ErrNotSM2
	}
	v, err := newVerifier(k.Public)
	if err != nil {
		return nil, err
	}
	if err := checkText(k.DeptName, maxDeptName); err != nil {
		return nil, fmt.Errorf("department name: %v", err)
	}
	if code, msg := catalog.CheckUSCC(k.DeptUSCC); code != "" {
		return nil, fmt.Errorf("department USCC %q: %s", k.DeptUSCC, msg)
	}
	if len(k.TypeCodes) == 0 || len(k.TypeCodes) > MaxTypeCodes {
		return nil, fmt.Errorf("%d type codes, want 1..%d", len(k.TypeCodes), MaxTypeCodes)
	}
	for i, t := range k.TypeCodes {
		if len(t) != 21 || checkUpperAlnum(t) != nil {
			return nil, fmt.Errorf("type code %q must be 21 characters 0-9 A-Z", t)
		}
		if i > 0 && k.TypeCodes[i-1] >= t {
			return nil, fmt.Errorf("type codes not strictly ascending at %q", t)
		}
	}
	if k.NotBefore.Unix() < 0 || !k.NotBefore.Before(k.NotAfter) {
		return nil, fmt.Errorf("validity %v..%v is empty or before 1970", k.NotBefore, k.NotAfter)
	}
	if k.Status < KeyActive || k.Status > KeyRevoked {
		return nil, fmt.Errorf("unknown key status %d", k.Status)
	}
	return &keyEntry{key: k, v: v}, nil
}

// index builds byKID and rejects duplicate keys; entries must be sorted.
func (kl *KeyList) index() error {
	kl.byKID = make(map[KID][]*keyEntry, len(kl.entries))
	for i, e := range kl.entries {
		if i > 0 && comparePub(kl.entries[i-1], e) >= 0 {
			return fmt.Errorf("keys not strictly ascending by public key (duplicate key?)")
		}
		kl.byKID[e.v.kid] = append(kl.byKID[e.v.kid], e)
	}
	return nil
}

// Version returns the list's version number.
func (kl *KeyList) Version() uint64 { return kl.version }

// Issued returns the list's issue time.
func (kl *KeyList) Issued() time.Time { return kl.issued }

// Signed reports whether the list came from ParseKeyList, and the KID of
// the root key that signed it.
func (kl *KeyList) Signed() (KID, bool) { return kl.root, kl.signed }

// Keys returns a copy of the keys, sorted by public key.
func (kl *KeyList) Keys() []Key {
	out := make([]Key, len(kl.entries))
	for i, e := range kl.entries {
		out[i] = e.key
		out[i].TypeCodes = slices.Clone(e.key.TypeCodes)
	}
	return out
}

// Lookup returns copies of the keys with the given KID (several keys may
// share one).
func (kl *KeyList) Lookup(kid KID) []Key {
	var out []Key
	for _, e := range kl.byKID[kid] {
		k := e.key
		k.TypeCodes = slices.Clone(k.TypeCodes)
		out = append(out, k)
	}
	return out
}

// Key-list map keys.
const (
	klVersion = 1
	klIssued  = 2
	klKeys    = 3

	keyKID       = 1
	keyPublic    = 2
	keyDeptName  = 3
	keyDeptUSCC  = 4
	keyTypes     = 5
	keyNotBefore = 6
	keyNotAfter  = 7
	keyStatus    = 8
)

func (kl *KeyList) content() []byte {
	b := make([]byte, 0, 256*len(kl.entries)+32)
	b = appendHead(b, majorMap, 3)
	b = appendUint(b, klVersion)
	b = appendUint(b, kl.version)
	b = appendUint(b, klIssued)
	b = appendUint(b, uint64(kl.issued.Unix()))
	b = appendUint(b, klKeys)
	b = appendHead(b, majorArray, uint64(len(kl.entries)))
	for _, e := range kl.entries {
		k := &e.key
		pub, _ := PublicKeyBytes(k.Public)
		b = appendHead(b, majorMap, 8)
		b = appendUint(b, keyKID)
		b = appendBytes(b, e.v.kid[:])
		b = appendUint(b, keyPublic)
		b = appendBytes(b, pub)
		b = appendUint(b, keyDeptName)
		b = appendText(b, k.DeptName)
		b = appendUint(b, keyDeptUSCC)
		b = appendText(b, k.DeptUSCC)
		b = appendUint(b, keyTypes)
		b = appendHead(b, majorArray, uint64(len(k.TypeCodes)))
		for _, t := range k.TypeCodes {
			b = appendText(b, t)
		}
		b = appendUint(b, keyNotBefore)
		b = appendUint(b, uint64(k.NotBefore.Unix()))
		b = appendUint(b, keyNotAfter)
		b = appendUint(b, uint64(k.NotAfter.Unix()))
		b = appendUint(b, keyStatus)
		b = appendUint(b, uint64(k.Status))
	}
	return b
}

// Sign returns the key-list document signed by root (the city root key,
// through SignerOpts); rnd is handed to the key.
func (kl *KeyList) Sign(root crypto.Signer, rnd io.Reader) ([]byte, error) {
	return signDoc(KeyListContext, kl.content(), root, rnd)
}

// ParseKeyList parses a key-list document strictly and verifies its
// signature with root. Errors wrap ErrMalformed (and the specific parse
// sentinels) or ErrBadSignature.
func ParseKeyList(doc []byte, root crypto.PublicKey) (kl *KeyList, err error) {
	defer func() {
		if p := recover(); p != nil {
			kl, err = nil, fmt.Errorf("%w: panic while parsing key list: %v", ErrMalformed, p)
		}
	}()
	if len(doc) > MaxKeyListSize {
		return nil, fmt.Errorf("%w: %w: key list is %d bytes", ErrMalformed, ErrTooLarge, len(doc))
	}
	content, kid, err := openDoc(KeyListContext, doc, MaxKeyListSize, root)
	if err != nil {
		return nil, fmt.Errorf("qrtoken: key list: %w", err)
	}
	kl, err = parseKeyListContent(content)
	if err != nil {
		return nil, fmt.Errorf("qrtoken: key list: %w", err)
	}
	kl.root, kl.signed = kid, true
	return kl, nil
}

const maxUnix = 1 << 40

func parseKeyListContent(b []byte) (*KeyList, error) {
	kl := &KeyList{}
	r := &reader{b: b}
	n := r.mapHead("key list", 3)
	seen := r.keys("key list", n, func(k uint64) bool {
		switch k {
		case klVersion:
			kl.version = r.uint("version", 1<<63-1)
		case klIssued:
			kl.issued = time.Unix(int64(r.uint("issued", maxUnix)), 0).UTC()
		case klKeys:
			nk := r.array("keys", 0, MaxKeys)
			for i := 0; i < nk && r.err == nil; i++ {
				e := parseKey(r)
				if r.err == nil {
					kl.entries = append(kl.entries, e)
				}
			}
		default:
			return false
		}
		return true
	})
	r.requireKeys("key list", seen, keyBits(klVersion, klIssued, klKeys))
	r.end("key list")
	if r.err != nil {
		return nil, r.err
	}
	if err := kl.index(); err != nil {
		return nil, fmt.Errorf("%w: %w: %v", ErrMalformed, ErrNonCanonical, err)
	}
	return kl, nil
}

func parseKey(r *reader) *keyEntry {
	var k Key
	var kid, pub []byte
	n := r.mapHead("key", 8)
	seen := r.keys("key", n, func(f uint64) bool {
		switch f {
		case keyKID:
			kid = r.bytes("key kid", KIDSize, KIDSize)
		case keyPublic:
			pub = r.bytes("public key", 65, 65)
		case keyDeptName:
			k.DeptName = r.text("department name", 1, maxDeptName)
		case keyDeptUSCC:
			k.DeptUSCC = r.text("department USCC", 18, 18)
		case keyTypes:
			nt := r.array("type codes", 1, MaxTypeCodes)
			for i := 0; i < nt && r.err == nil; i++ {
				k.TypeCodes = append(k.TypeCodes, r.text("type code", 21, 21))
			}
		case keyNotBefore:
			k.NotBefore = time.Unix(int64(r.uint("not-before", maxUnix)), 0).UTC()
		case keyNotAfter:
			k.NotAfter = time.Unix(int64(r.uint("not-after", maxUnix)), 0).UTC()
		case keyStatus:
			k.Status = KeyStatus(r.uint("key status", 255))
		default:
			return false
		}
		return true
	})
	r.requireKeys("key", seen, keyBits(keyKID, keyPublic, keyDeptName, keyDeptUSCC, keyTypes, keyNotBefore, keyNotAfter, keyStatus))
	if r.err != nil {
		return nil
	}
	p, err := ParsePublicKeyBytes(pub)
	if err != nil {
		r.failf("%w: %w", ErrMalformed, err)
		return nil
	}
	k.Public = p
	e, err := newKeyEntry(k)
	if err != nil {
		r.failf("%w: key: %v", ErrMalformed, err)
		return nil
	}
	if !bytes.Equal(kid, e.v.kid[:]) {
		r.failf("%w: key kid %x does not match its public key (%v)", ErrMalformed, kid, e.v.kid)
		return nil
	}
	return e
}
