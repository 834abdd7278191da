// Command gen regenerates the TEST-ONLY PKI in testdata/pki: a city root CA,
// a seal maker and two departments with signer certificates, QR keys and
// seals. Randomness is a fixed-seed generator so the output is
// reproducible; never use these keys for anything but tests.
//
//	go run ./testdata/pki/gen            (from the module root)
package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"elicense/signer"
)

// TestPassword protects the test-only key files.
const TestPassword = "test-only-password"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run() error {
	font, err := os.ReadFile("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
	if err != nil {
		return fmt.Errorf("CJK font (fonts-wqy-microhei) needed: %w", err)
	}
	dir := filepath.Join("testdata", "pki", "test-only")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := signer.InitPKI(dir, signer.PKIOptions{
		Password: []byte(TestPassword),
		City:     "测试市",
		Departments: []signer.Department{
			{Key: "amr", Name: "测试市市场监督管理局", USCC: "11110000000000000A"},
			{Key: "hrss", Name: "测试市人力资源和社会保障局", USCC: "11110000000000000B"},
		},
		Font:          font,
		Rand:          rand.NewChaCha8([32]byte{'e', 'l', 'i', 'c', 'e', 'n', 's', 'e', '-', 't', 'e', 's', 't'}),
		Now:           time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		ValidYears:    20,
		KeyProtection: &signer.KeyProtection{ScryptLogN: 10},
	})
	if err != nil {
		return err
	}
	fmt.Printf("test-only PKI in %s: root %q, %d departments\n", p.Dir, p.Root.CommonName(), len(p.Departments))
	return nil
}
