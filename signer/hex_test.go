package signer

import (
	"encoding/hex"
	"math/rand/v2"
	"testing"
)

func TestHexEncode(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n <= 70; n++ {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(r.IntN(256))
		}
		if n > 0 {
			src[0], src[n-1] = 0x09, 0xfa // digit/letter boundaries
		}
		dst := make([]byte, 2*n)
		hexEncode(dst, src)
		if got, want := string(dst), hex.EncodeToString(src); got != want {
			t.Fatalf("%d bytes: got %s want %s", n, got, want)
		}
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	dst := make([]byte, 512)
	hexEncode(dst, all)
	if string(dst) != hex.EncodeToString(all) {
		t.Fatal("byte values 0..255")
	}
}
