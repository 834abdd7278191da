package boltstore_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"elicense/catalog"
	"elicense/catalog/boltstore"
	"elicense/catalog/catalogtest"
)

func TestConformance(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T) catalog.Store {
		s, err := boltstore.Open(filepath.Join(t.TempDir(), "elicense.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestMemStoreConformance(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T) catalog.Store { return catalogtest.NewMemStore() })
}

// TestSecondProcessLocked opens the file in a child process while this one
// holds it: the child must fail fast with ErrLocked, not hang.
func TestSecondProcessLocked(t *testing.T) {
	if path := os.Getenv("BOLTSTORE_LOCK_CHILD"); path != "" {
		start := time.Now()
		_, err := boltstore.Open(path, &boltstore.Options{Timeout: 200 * time.Millisecond})
		if !errors.Is(err, catalog.ErrLocked) {
			t.Fatalf("child open: %v, want ErrLocked", err)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("child waited too long")
		}
		if !strings.Contains(err.Error(), "locked by another elicense process") {
			t.Fatalf("message %q lacks the plain explanation", err)
		}
		return
	}
	path := filepath.Join(t.TempDir(), "elicense.db")
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestSecondProcessLocked$")
	cmd.Env = append(os.Environ(), "BOLTSTORE_LOCK_CHILD="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
	// After the holder closes, a new process may open it.
	s.Close()
	s2, err := boltstore.Open(path, &boltstore.Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("reopen after close: %v", err)
	}
	s2.Close()
}

// TestPersistence writes, closes, reopens the same file and reads back.
func TestPersistence(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "elicense.db")
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := catalogtest.SampleLicense("2026000777", 1)
	if err := s.Create(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Get(ctx, l.ID)
	if err != nil || got.Number != l.Number || got.Holder.Name != "张三" {
		t.Fatalf("after reopen: %+v %v", got, err)
	}
}

func TestAccessConformance(t *testing.T) {
	catalogtest.RunAccess(t, func(t *testing.T) catalog.AccessStore {
		s, err := boltstore.Open(filepath.Join(t.TempDir(), "elicense.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestMemAccessConformance(t *testing.T) {
	catalogtest.RunAccess(t, func(t *testing.T) catalog.AccessStore { return catalogtest.NewMemAccess() })
}
