package signer

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"
)

// minimalPDF is a one-page PDF with a classic cross-reference table.
const minimalPDF = "%PDF-1.7\n1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n2 0 obj\n<</Type/Pages/Kids[3 0 R]/Count 1>>\nendobj\n3 0 obj\n<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>\nendobj\nxref\n0 4\n0000000000 65535 f\r\n0000000009 00000 n\r\n0000000054 00000 n\r\n0000000105 00000 n\r\ntrailer\n<</Size 4/Root 1 0 R>>\nstartxref\n170\n%%EOF\n"

// TestSelfCheckCatchesWrongBytes changes one byte of the finished output
// before the self-check runs, as a bug writing after the digests were taken
// would: Sign must fail with ErrVerify wherever the byte is.
func TestSelfCheckCatchesWrongBytes(t *testing.T) {
	p, err := LoadPKI(filepath.Join("..", "testdata", "pki", "test-only"), []byte("test-only-password"))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := p.Department("amr")
	z, err := d.NewSealer(SealerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	after := func(marker string, skip int) func([]byte) int {
		return func(out []byte) int { return bytes.Index(out, []byte(marker)) + len(marker) + skip }
	}
	tests := []struct {
		name string
		pos  func(out []byte) int // -1: leave the output alone
	}{
		{"unchanged", func([]byte) int { return -1 }},
		{"input prefix", func([]byte) int { return 20 }},
		{"image stream", after("/Subtype/Image", 200)},
		{"signing time", after("/M(D:", 3)},
		{"ByteRange digit", after("/ByteRange[0 ", 1)},
		{"container", after("/Contents<", 100)},
		{"container end", func(out []byte) int { return bytes.Index(out, []byte("/Contents<")) + 10 + 2*len(z.sealDER) }},
		{"padding", func(out []byte) int {
			i := bytes.Index(out, []byte("/Contents<"))
			return i + bytes.IndexByte(out[i:], '>') - 1
		}},
		{"cross-reference", after("\nxref\n", 2)},
		{"last byte", func(out []byte) int { return len(out) - 2 }},
	}
	for _, format := range []Format{FormatSES, FormatPKCS7} {
		for _, tc := range tests {
			t.Run(format.String()+"/"+tc.name, func(t *testing.T) {
				testHookSealed = func(out []byte) {
					if i := tc.pos(out); i >= 0 {
						out[i] ^= 0x01
					}
				}
				defer func() { testHookSealed = nil }()
				_, err := Sign(&bytes.Buffer{}, []byte(minimalPDF), SignOptions{Sealer: z, Format: format, Now: time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC), Rand: rand.NewChaCha8([32]byte{1})})
				if tc.name == "unchanged" {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				t.Log(err)
				if !errors.Is(err, ErrVerify) {
					t.Fatalf("got %v, want ErrVerify", err)
				}
			})
		}
	}
}
