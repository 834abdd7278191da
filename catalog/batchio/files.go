package batchio

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"

	"elicense/catalog"
)

// GroupFiles is a catalog.BatchFiles over the registry's file folder (Path
// gives each identifier's path, e.g. filestore.Dir.Path) and, optionally, a
// flat export folder (OutDir/<identifier>.pdf). Write writes in place without
// fsync; Sync calls syncfs(2) on the file systems of Root and OutDir.
type GroupFiles struct {
	Root   string                          // the registry's file folder
	Path   func(id string) (string, error) // where the registry keeps id
	OutDir string                          // optional export folder

	mu   sync.Mutex
	dirs map[string]bool
}

var _ catalog.BatchFiles = (*GroupFiles)(nil)

// Write implements catalog.BatchFiles.
func (g *GroupFiles) Write(id string, data []byte) error {
	p, err := g.Path(id)
	if err != nil {
		return err
	}
	if err := g.write(p, data); err != nil {
		return err
	}
	if g.OutDir != "" {
		return g.write(filepath.Join(g.OutDir, id+".pdf"), data)
	}
	return nil
}

func (g *GroupFiles) write(path string, data []byte) error {
	dir := filepath.Dir(path)
	g.mu.Lock()
	if !g.dirs[dir] {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			g.mu.Unlock()
			return fmt.Errorf("batchio: %w", err)
		}
		if g.dirs == nil {
			g.dirs = map[string]bool{}
		}
		g.dirs[dir] = true
	}
	g.mu.Unlock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("batchio: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("batchio: write %s: %w", path, err)
	}
	return nil
}

// Sync implements catalog.BatchFiles.
func (g *GroupFiles) Sync() error {
	for _, d := range []string{g.Root, g.OutDir} {
		if d == "" {
			continue
		}
		if err := syncfs(d); err != nil {
			return err
		}
	}
	return nil
}

func syncfs(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("batchio: %w", err)
	}
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("batchio: %w", err)
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("batchio: syncfs %s: %w", dir, err)
	}
	return nil
}
