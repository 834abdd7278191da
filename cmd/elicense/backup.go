package main

import (
	"archive/tar"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"elicense/catalog/boltstore"
	"elicense/signer"
)

// A backup is a tar stream of the data directory: elicense.db first (a
// consistent snapshot taken while the store is in use), then files/, pki/,
// templates/, batches/ (not uploads being received) and elicense.toml, and
// last backup.json listing every entry with its size and SM3. secrets/
// (the demo key password and API keys) is left out. docs/formats.md
// ("Backup") describes it.

const backupFormat = "elicense-backup/1"

// backupManifest is backup.json.
type backupManifest struct {
	Format  string        `json:"format"`
	Created time.Time     `json:"created"`
	Version string        `json:"version"`
	Entries []backupEntry `json:"entries"`
}

type backupEntry struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
	SM3  string `json:"sm3"`
}

// backupDirs are the folders of the data directory a backup holds.
var backupDirs = []string{"files", "pki", "templates", "batches"}

// writeBackup writes the backup of a's data directory to w.
func (a *app) writeBackup(ctx context.Context, w io.Writer) (*backupManifest, error) {
	tw := tar.NewWriter(w)
	m := &backupManifest{Format: backupFormat, Created: time.Now().UTC().Truncate(time.Second), Version: version}
	header := func(name string, size, mode int64) error {
		return tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: mode, ModTime: m.Created, Typeflag: tar.TypeReg, Format: tar.FormatPAX})
	}
	add := func(name string, size int64, mode int64, body func(io.Writer) error) error {
		if err := header(name, size, mode); err != nil {
			return err
		}
		h := signer.NewSM3()
		if err := body(io.MultiWriter(tw, h)); err != nil {
			return err
		}
		m.Entries = append(m.Entries, backupEntry{Path: name, Size: size, SM3: hex.EncodeToString(h.Sum(nil))})
		return nil
	}
	var snap hash.Hash
	err := a.store.Snapshot(func(size int64) (io.Writer, error) {
		if err := header("elicense.db", size, 0o600); err != nil {
			return nil, err
		}
		snap = signer.NewSM3()
		m.Entries = append(m.Entries, backupEntry{Path: "elicense.db", Size: size})
		return io.MultiWriter(tw, snap), nil
	})
	if err != nil {
		return nil, fmt.Errorf("backup: elicense.db: %w", err)
	}
	m.Entries[0].SM3 = hex.EncodeToString(snap.Sum(nil))
	root := a.cfg.DataDir
	for _, dir := range backupDirs {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && p == filepath.Join(root, dir) {
					return fs.SkipDir
				}
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			rel = filepath.ToSlash(rel)
			if d.IsDir() {
				if rel == "batches/incoming" {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() || strings.HasSuffix(rel, ".tmp") {
				return nil
			}
			return a.backupFile(p, rel, add)
		})
		if err != nil {
			return nil, fmt.Errorf("backup: %s: %w", dir, err)
		}
	}
	if err := a.backupFile(filepath.Join(root, "elicense.toml"), "elicense.toml", add); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("backup: %w", err)
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := header("backup.json", int64(len(raw)), 0o644); err != nil {
		return nil, err
	}
	if _, err := tw.Write(raw); err != nil {
		return nil, err
	}
	return m, tw.Close()
}

// backupFile adds one file as it is when opened (its size fixed then).
func (a *app) backupFile(p, rel string, add func(string, int64, int64, func(io.Writer) error) error) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	return add(rel, fi.Size(), int64(fi.Mode().Perm()), func(w io.Writer) error {
		_, err := io.Copy(w, io.LimitReader(f, fi.Size()))
		return err
	})
}

// restoreBackup extracts a backup into dir, which must not exist or be
// empty, and checks every entry against backup.json and the store file.
func restoreBackup(r io.Reader, dir string) (*backupManifest, error) {
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("restore: %s is not empty", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	tr := tar.NewReader(r)
	got := map[string]backupEntry{}
	var m *backupManifest
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
		name := hdr.Name
		clean := path.Clean(name)
		if hdr.Typeflag != tar.TypeReg || clean != name || path.IsAbs(name) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(name, "\\") {
			return nil, fmt.Errorf("restore: entry %q is not a plain relative file", name)
		}
		if name == "backup.json" {
			m = &backupManifest{}
			if err := json.NewDecoder(io.LimitReader(tr, 64<<20)).Decode(m); err != nil || m.Format != backupFormat {
				return nil, fmt.Errorf("restore: backup.json: not a %s manifest (%v)", backupFormat, err)
			}
			continue
		}
		if _, dup := got[name]; dup {
			return nil, fmt.Errorf("restore: entry %q twice", name)
		}
		top, _, _ := strings.Cut(name, "/")
		if name != "elicense.db" && name != "elicense.toml" && !slices.Contains(backupDirs, top) {
			return nil, fmt.Errorf("restore: entry %q is not part of a data directory", name)
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fs.FileMode(hdr.Mode).Perm()|0o600)
		if err != nil {
			return nil, err
		}
		h := signer.NewSM3()
		n, err := io.Copy(io.MultiWriter(f, h), tr)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("restore: %s: %w", name, err)
		}
		got[name] = backupEntry{Path: name, Size: n, SM3: hex.EncodeToString(h.Sum(nil))}
	}
	if m == nil {
		return nil, errors.New("restore: no backup.json: the backup is incomplete")
	}
	if len(m.Entries) != len(got) {
		return nil, fmt.Errorf("restore: backup.json lists %d files, the backup holds %d", len(m.Entries), len(got))
	}
	for _, e := range m.Entries {
		if g, ok := got[e.Path]; !ok || g != e {
			return nil, fmt.Errorf("restore: %s does not match backup.json (size or SM3)", e.Path)
		}
	}
	if _, ok := got["elicense.db"]; !ok {
		return nil, errors.New("restore: no elicense.db in the backup")
	}
	st, err := boltstore.Open(filepath.Join(dir, "elicense.db"), &boltstore.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("restore: elicense.db: %w", err)
	}
	defer st.Close()
	if _, err := st.ListDepartments(context.Background()); err != nil {
		return nil, fmt.Errorf("restore: elicense.db: %w", err)
	}
	return m, nil
}

func newBackupCommand(g *globalFlags) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "backup --out FILE.tar",
		Short: "Write a backup of the data directory (a consistent database snapshot, license files, PKI, templates, batch outputs) as tar",
		Long: `Write a tar of the data directory: elicense.db as one consistent snapshot, then files/, pki/
(keys stay encrypted), templates/, batches/ and elicense.toml, and backup.json with the size and SM3
of every entry. secrets/ is left out: keep the key password apart. While "elicense serve" runs, take
the backup from it instead: GET /api/v1/backup with an admin key. "elicense restore" reads it back.
--out - writes to standard output.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageErr(errors.New("backup: --out is required"))
			}
			a, err := openCLI(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			var w io.Writer = cmd.OutOrStdout()
			var f *os.File
			if out != "-" {
				if f, err = os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
					return usageErr(fmt.Errorf("backup: %w", err))
				}
				w = f
			}
			m, err := a.writeBackup(cmd.Context(), w)
			if f != nil {
				if err == nil {
					err = f.Sync()
				}
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					os.Remove(out)
				}
			}
			if err != nil {
				return err
			}
			if out != "-" {
				fmt.Fprintf(cmd.OutOrStdout(), "backup %s: %d files (database %s, SM3 %s)\n", out, len(m.Entries), humanBytes(m.Entries[0].Size), m.Entries[0].SM3[:16])
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the tar file to create (- for standard output)")
	return cmd
}

func newRestoreCommand() *cobra.Command {
	var in, dir string
	cmd := &cobra.Command{
		Use:   "restore --in FILE.tar --to DIR",
		Short: "Restore a backup into a new data directory, checking every file against its SM3 and the database",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in == "" || dir == "" {
				return usageErr(errors.New("restore: --in and --to are required"))
			}
			f, err := os.Open(in)
			if err != nil {
				return usageErr(fmt.Errorf("restore: %w", err))
			}
			defer f.Close()
			m, err := restoreBackup(f, dir)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored %d files of the backup of %s into %s; every SM3 matches; set the key password (key_password_file) before serving\n",
				len(m.Entries), m.Created.Format(time.RFC3339), dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&in, "in", "", "the backup tar")
	cmd.Flags().StringVar(&dir, "to", "", "the data directory to create (must not exist or be empty)")
	return cmd
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
