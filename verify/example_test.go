package verify_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"elicense/signer"
	"elicense/verify"
)

func ExampleVerify() {
	// The test-only PKI of testdata/pki: its root is the pinned trust anchor.
	pki, err := signer.LoadPKI(filepath.Join("..", "testdata", "pki", "test-only"), []byte("test-only-password"))
	if err != nil {
		fmt.Println(err)
		return
	}
	dept, _ := pki.Department("amr")
	sealer, err := dept.NewSealer(signer.SealerOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	doc, _ := os.ReadFile(filepath.Join("testdata", "minimal.pdf"))
	var out bytes.Buffer
	signed := time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC)
	if _, err := signer.Sign(&out, doc, signer.SignOptions{Sealer: sealer, Now: signed, Rand: rand.NewChaCha8([32]byte{})}); err != nil {
		fmt.Println(err)
		return
	}
	res := verify.Verify(context.Background(), out.Bytes(), verify.Options{
		Now:          signed.Add(24 * time.Hour),
		TrustedRoots: pki.Roots(),
		// Registry: a catalog.Store, to tell whether the license is in force.
	})
	fmt.Println(res.Format, res.Authentic, res.Valid, res.Reason)

	// One flipped byte inside the signed range.
	tampered := bytes.Clone(out.Bytes())
	tampered[12] ^= 1
	res = verify.Verify(context.Background(), tampered, verify.Options{Now: signed, TrustedRoots: pki.Roots()})
	fmt.Println(res.Authentic, res.Reason)
	// Output:
	// pdf-ses true false no_registry
	// false digest_mismatch
}
