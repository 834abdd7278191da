package qrtoken_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"elicense/signer/qrtoken"
)

func TestKeyListDocument(t *testing.T) {
	e := newEnv(t, keyEntry(genKey(t, 30), otherDept, qrtoken.KeyRetired, otherType, demoTypeCode))
	rootKID, _ := qrtoken.KeyID(pub(e.root))
	if root, ok := e.keys.Signed(); !ok || root != rootKID {
		t.Errorf("Signed() = %v %v", root, ok)
	}
	if e.keys.Version() != 7 || !e.keys.Issued().Equal(testNow.Add(-24*time.Hour)) || len(e.keys.Keys()) != 2 {
		t.Errorf("version %d issued %v keys %d", e.keys.Version(), e.keys.Issued(), len(e.keys.Keys()))
	}
	again, err := qrtoken.NewKeyList(e.keys.Version(), e.keys.Issued(), e.keys.Keys())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := again.Sign(e.root, seeded(100))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc[:len(doc)-64], e.keyDoc[:len(e.keyDoc)-64]) {
		t.Error("re-encoding the parsed list changes its content")
	}

	flipped := bytes.Clone(e.keyDoc)
	flipped[len(flipped)/2] ^= 0x01
	bad := []struct {
		name string
		doc  []byte
		want error
	}{
		{"changed byte", flipped, qrtoken.ErrBadSignature},
		{"trailing byte", append(bytes.Clone(e.keyDoc), 0), qrtoken.ErrTrailingData},
		{"truncated", e.keyDoc[:len(e.keyDoc)-1], qrtoken.ErrMalformed},
		{"empty", nil, qrtoken.ErrMalformed},
		{"status list instead", e.statusDoc, qrtoken.ErrBadSignature},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := qrtoken.ParseKeyList(tc.doc, pub(e.root)); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("other root", func(t *testing.T) {
		if _, err := qrtoken.ParseKeyList(e.keyDoc, pub(e.key)); !errors.Is(err, qrtoken.ErrBadSignature) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestNewKeyListRules(t *testing.T) {
	k := genKey(t, 40)
	good := keyEntry(k, deptUSCC, qrtoken.KeyActive, demoTypeCode)
	tests := []struct {
		name string
		mod  func(*qrtoken.Key) []qrtoken.Key
	}{
		{"duplicate key", func(x *qrtoken.Key) []qrtoken.Key { return []qrtoken.Key{*x, *x} }},
		{"bad department USCC", func(x *qrtoken.Key) []qrtoken.Key { x.DeptUSCC = "11340200MB12345670"; return []qrtoken.Key{*x} }},
		{"no type codes", func(x *qrtoken.Key) []qrtoken.Key { x.TypeCodes = nil; return []qrtoken.Key{*x} }},
		{"short type code", func(x *qrtoken.Key) []qrtoken.Key { x.TypeCodes = []string{"111"}; return []qrtoken.Key{*x} }},
		{"duplicate type code", func(x *qrtoken.Key) []qrtoken.Key {
			x.TypeCodes = []string{demoTypeCode, demoTypeCode}
			return []qrtoken.Key{*x}
		}},
		{"empty validity", func(x *qrtoken.Key) []qrtoken.Key { x.NotAfter = x.NotBefore; return []qrtoken.Key{*x} }},
		{"unknown status", func(x *qrtoken.Key) []qrtoken.Key { x.Status = 9; return []qrtoken.Key{*x} }},
		{"no public key", func(x *qrtoken.Key) []qrtoken.Key { x.Public = nil; return []qrtoken.Key{*x} }},
		{"no department name", func(x *qrtoken.Key) []qrtoken.Key { x.DeptName = ""; return []qrtoken.Key{*x} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := good
			x.TypeCodes = append([]string(nil), good.TypeCodes...)
			if _, err := qrtoken.NewKeyList(1, testNow, tc.mod(&x)); !errors.Is(err, qrtoken.ErrInvalidInput) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestStatusList(t *testing.T) {
	e := newEnv(t)
	sl, err := qrtoken.NewStatusList(qrtoken.StatusBlock)
	if err != nil {
		t.Fatal(err)
	}
	marks := map[int]qrtoken.Flag{0: qrtoken.FlagRevoked, 1: qrtoken.FlagSuspended, 3: qrtoken.FlagRevoked | qrtoken.FlagSuspended, 131071: qrtoken.FlagRevoked, 200000: qrtoken.FlagSuspended}
	if err := sl.Set(200000, qrtoken.FlagRevoked); !errors.Is(err, qrtoken.ErrIndexRange) {
		t.Errorf("Set beyond size: %v", err)
	}
	if err := sl.Grow(2 * qrtoken.StatusBlock); err != nil {
		t.Fatal(err)
	}
	for i, f := range marks {
		if err := sl.Set(i, f); err != nil {
			t.Fatal(err)
		}
	}
	doc, err := sl.Sign(e.root, seeded(5), 42, testNow)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("status list of %d entries, 5 set: %d bytes signed; empty list of %d entries: %d bytes; key list of 2 keys: %d bytes",
		sl.Size(), len(doc), qrtoken.StatusBlock, len(e.statusDoc), len(e.keyDoc))
	got, err := qrtoken.ParseStatusList(doc, pub(e.root))
	if err != nil {
		t.Fatal(err)
	}
	if got.Size() != 2*qrtoken.StatusBlock || got.Sequence() != 42 || !got.Issued().Equal(testNow) {
		t.Errorf("size %d seq %d issued %v", got.Size(), got.Sequence(), got.Issued())
	}
	for _, i := range []int{0, 1, 2, 3, 4, 131071, 131072, 200000, 262143} {
		f, err := got.Get(i)
		if err != nil || f != marks[i] {
			t.Errorf("entry %d: %v %v, want %v", i, f, err, marks[i])
		}
	}
	if err := got.Clear(3, qrtoken.FlagRevoked); err != nil {
		t.Fatal(err)
	}
	if f, _ := got.Get(3); f != qrtoken.FlagSuspended {
		t.Errorf("after Clear: %v", f)
	}
	for _, size := range []int{0, 1000, qrtoken.StatusBlock + 1, qrtoken.MaxStatusEntries + qrtoken.StatusBlock} {
		if _, err := qrtoken.NewStatusList(size); !errors.Is(err, qrtoken.ErrInvalidInput) {
			t.Errorf("size %d: %v", size, err)
		}
	}
	if err := sl.Grow(qrtoken.StatusBlock); !errors.Is(err, qrtoken.ErrInvalidInput) {
		t.Errorf("shrink: %v", err)
	}
	flipped := bytes.Clone(doc)
	flipped[len(flipped)-70] ^= 0x80
	if _, err := qrtoken.ParseStatusList(flipped, pub(e.root)); !errors.Is(err, qrtoken.ErrBadSignature) {
		t.Errorf("changed byte: %v", err)
	}
	if _, err := qrtoken.ParseStatusList(e.keyDoc, pub(e.root)); !errors.Is(err, qrtoken.ErrBadSignature) {
		t.Errorf("key list as status list: %v", err)
	}
}

func TestAllocator(t *testing.T) {
	a := qrtoken.NewAllocator()
	rnd := seeded(77)
	seen := make(map[int]bool)
	low := 0
	for n := 1; n <= qrtoken.StatusBlock/2+1; n++ {
		i, err := a.Allocate(rnd)
		if err != nil {
			t.Fatal(err)
		}
		if seen[i] || i < 0 || i >= a.Size() || !a.IsUsed(i) {
			t.Fatalf("allocation %d: index %d repeated or out of range", n, i)
		}
		seen[i] = true
		if n <= 1000 && i < 1000 {
			low++
		}
	}
	if low > 30 {
		t.Errorf("%d of the first 1000 indices below 1000: not random", low)
	}
	if a.Size() != 2*qrtoken.StatusBlock || a.Used() != qrtoken.StatusBlock/2+1 {
		t.Errorf("size %d used %d after half + 1", a.Size(), a.Used())
	}
	state, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var b qrtoken.Allocator
	if err := b.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	if b.Size() != a.Size() || b.Used() != a.Used() {
		t.Fatalf("restored size %d used %d", b.Size(), b.Used())
	}
	for i := range seen {
		if !b.IsUsed(i) {
			t.Fatalf("restored allocator lost %d", i)
		}
	}
	if err := b.MarkUsed(500000); err != nil || b.Size() != 4*qrtoken.StatusBlock {
		t.Errorf("MarkUsed beyond range: %v, size %d", err, b.Size())
	}
	if err := b.MarkUsed(500000); err == nil {
		t.Error("MarkUsed twice accepted")
	}
	for _, bad := range [][]byte{nil, []byte("WQA1"), state[:len(state)-1], append([]byte("XQA1"), state[4:]...)} {
		var c qrtoken.Allocator
		if err := c.UnmarshalBinary(bad); !errors.Is(err, qrtoken.ErrMalformed) {
			t.Errorf("UnmarshalBinary(%d bytes): %v", len(bad), err)
		}
	}
}
