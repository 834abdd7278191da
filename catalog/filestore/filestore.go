// Package filestore keeps sealed license files in a folder tree, one file per
// identifier, written atomically (temporary file, fsync, rename) so that a
// crash never leaves a partial file under a final name.
package filestore

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"elicense/catalog"
)

// Dir stores files under a root folder, sharded by the last two characters of
// the identifier's serial to keep folders small.
type Dir struct {
	Root string
	// NoSync skips fsync; for benchmarks only.
	NoSync bool
}

var _ catalog.Files = (*Dir)(nil)

// ErrBadName is returned for an identifier that cannot be a file name.
var ErrBadName = errors.New("filestore: bad identifier")

// Path returns where the file of id lives.
func (d *Dir) Path(id string) (string, error) {
	if id == "" || strings.ContainsAny(id, "/\\\x00") || strings.HasPrefix(id, ".") {
		return "", fmt.Errorf("%w: %q", ErrBadName, id)
	}
	shard := "00"
	if p, _, err := catalog.ParseIdentifier(id); err == nil && len(p.Serial) >= 2 {
		shard = p.Serial[len(p.Serial)-2:]
	}
	return filepath.Join(d.Root, shard, id+".pdf"), nil
}

// Put implements catalog.Files.
func (d *Dir) Put(id string, data []byte) error {
	path, err := d.Path(id)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("filestore: put %s: %w", id, err)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(dir, ".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("filestore: put %s: %w", id, err)
	}
	_, werr := f.Write(data)
	if werr == nil && !d.NoSync {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("filestore: put %s: %w", id, werr)
	}
	return nil
}

// Get implements catalog.Files.
func (d *Dir) Get(id string) ([]byte, error) {
	path, err := d.Path(id)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("filestore: %s: %w", id, catalog.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("filestore: get %s: %w", id, err)
	}
	return b, nil
}
