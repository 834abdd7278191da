package signer_test

import (
	"os"
	"path/filepath"
	"testing"
)

// moduleRoot walks up from the package directory to the directory holding
// go.mod.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the package directory")
		}
		dir = parent
	}
}

// fixture reads ../shared/fixtures/<rel> next to the module root, skipping
// the test when the shared fixture folder is absent.
func fixture(t testing.TB, rel string) []byte {
	t.Helper()
	base := filepath.Join(moduleRoot(t), "..", "shared", "fixtures")
	if _, err := os.Stat(base); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared fixtures folder %s missing", base)
		}
		t.Skipf("shared fixtures folder %s absent; skipping", base)
	}
	b, err := os.ReadFile(filepath.Join(base, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
