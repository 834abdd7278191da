package catalog_test

import (
	"bytes"
	"crypto/sha256"
	"hash"
	"testing"

	"elicense/catalog"
)

func TestMerkleRoot(t *testing.T) {
	h := func(parts ...[]byte) []byte {
		s := sha256.New()
		for _, p := range parts {
			s.Write(p)
		}
		return s.Sum(nil)
	}
	a, b, c := []byte("a"), []byte("b"), []byte("c")
	leaf := func(x []byte) []byte { return h([]byte{0}, x) }
	node := func(l, r []byte) []byte { return h([]byte{1}, l, r) }
	tests := []struct {
		name   string
		leaves [][]byte
		want   []byte
	}{
		{"empty", nil, h()},
		{"one", [][]byte{a}, leaf(a)},
		{"two", [][]byte{a, b}, node(leaf(a), leaf(b))},
		{"three: the odd node is promoted", [][]byte{a, b, c}, node(node(leaf(a), leaf(b)), leaf(c))},
		{"five", [][]byte{a, b, c, a, b}, node(node(node(leaf(a), leaf(b)), node(leaf(c), leaf(a))), leaf(b))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := catalog.MerkleRoot(func() hash.Hash { return sha256.New() }, tc.leaves); !bytes.Equal(got, tc.want) {
				t.Fatalf("got %x, want %x", got, tc.want)
			}
		})
	}
}
