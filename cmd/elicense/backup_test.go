package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"elicense/api"
)

// TestBackupRestore: a backup taken by the CLI and one taken over HTTP from
// the running service restore into new data directories that hold the same
// licenses, whose sealed files still verify; a backup with a changed byte,
// a missing manifest or a path outside the directory is refused.
func TestBackupRestore(t *testing.T) {
	e := newAPIEnv(t, api.Limits{KeyRate: 1000, KeyBurst: 1000})
	id := e.issue("deptX", "special-operations", specialOps(holderA, "皖A042025000601"))
	e.issue("deptX", "special-operations", specialOps(holderB, "皖A042025000602"))
	work := t.TempDir()

	// Over HTTP while the service runs: admin only.
	e.must("deptX", req{method: "GET", path: "/api/v1/backup"}, 403)
	res := e.must("admin", req{method: "GET", path: "/api/v1/backup"}, 200)
	if ct := res.header.Get("Content-Type"); ct != "application/x-tar" {
		t.Fatalf("Content-Type %q", ct)
	}
	names := tarNames(t, res.body)
	if names[0] != "elicense.db" || names[len(names)-1] != "backup.json" || !hasPrefix(names, "files/") || !hasPrefix(names, "pki/") || hasPrefix(names, "secrets/") {
		t.Fatalf("entries %v", names)
	}
	httpTar := filepath.Join(work, "http.tar")
	os.WriteFile(httpTar, res.body, 0o600)
	restored := filepath.Join(work, "from-http")
	if out, stderr, code := cli(t, "restore", "--in", httpTar, "--to", restored); code != 0 || !strings.Contains(out, "every SM3 matches") {
		t.Fatalf("restore: exit %d\n%s%s", code, out, stderr)
	}
	e.app.Close()

	// With the CLI, the service stopped.
	cliTar := filepath.Join(work, "cli.tar")
	mustCLI(t, "backup", "--data-dir", e.app.cfg.DataDir, "--out", cliTar)
	if _, _, code := cli(t, "backup", "--data-dir", e.app.cfg.DataDir, "--out", cliTar); code != 3 {
		t.Fatalf("a second backup over the first file: exit %d", code)
	}
	restored2 := filepath.Join(work, "from-cli")
	mustCLI(t, "restore", "--in", cliTar, "--to", restored2)

	for _, dir := range []string{restored, restored2} {
		// The key password is kept apart from backups: bring it along.
		os.MkdirAll(filepath.Join(dir, "secrets"), 0o700)
		pw, _ := os.ReadFile(filepath.Join(e.app.cfg.DataDir, "secrets", "key-password"))
		os.WriteFile(filepath.Join(dir, "secrets", "key-password"), pw, 0o600)
		list := mustCLI(t, "license", "list", "--data-dir", dir)
		if !strings.Contains(list, id) || strings.Count(list, "1.2.156.3005.2.") != 2 {
			t.Fatalf("%s: licenses\n%s", dir, list)
		}
		shown := mustCLI(t, "license", "show", "--data-dir", dir, id)
		if !strings.Contains(shown, "皖A042025000601") {
			t.Fatalf("%s: license show\n%s", dir, shown)
		}
	}
	// The restored PDF verifies against the restored registry.
	var pdf string
	filepath.WalkDir(filepath.Join(restored2, "files"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, id+".pdf") {
			pdf = p
		}
		return nil
	})
	if out, stderr, code := cli(t, "verify", "--data-dir", restored2, pdf); code != 0 {
		t.Fatalf("verify the restored file: exit %d\n%s%s", code, out, stderr)
	}

	// Refused: a flipped byte, no manifest, a path outside, a non-empty target.
	raw, _ := os.ReadFile(cliTar)
	flipped := bytes.Clone(raw)
	i := bytes.Index(flipped, []byte("%PDF-"))
	flipped[i+200] ^= 1
	noManifest := rewriteTar(t, raw, func(name string) (string, bool) { return name, name != "backup.json" })
	escape := rewriteTar(t, raw, func(name string) (string, bool) {
		if strings.HasPrefix(name, "templates/") || name == "elicense.toml" {
			return name, true
		}
		if strings.HasPrefix(name, "files/") {
			return "../" + name, true
		}
		return name, true
	})
	for name, body := range map[string][]byte{"flipped byte": flipped, "no manifest": noManifest, "path outside": escape} {
		p := filepath.Join(work, strings.ReplaceAll(name, " ", "-")+".tar")
		os.WriteFile(p, body, 0o600)
		if out, stderr, code := cli(t, "restore", "--in", p, "--to", filepath.Join(work, "bad-"+strings.ReplaceAll(name, " ", "-"))); code == 0 {
			t.Fatalf("%s: restored\n%s%s", name, out, stderr)
		}
	}
	if _, _, code := cli(t, "restore", "--in", cliTar, "--to", restored); code == 0 {
		t.Fatal("restored into a non-empty directory")
	}
	if _, err := os.Stat(filepath.Join(work, "files")); err == nil {
		t.Fatal("an entry escaped the target directory")
	}
}

func tarNames(t *testing.T, b []byte) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
}

func hasPrefix(names []string, p string) bool {
	for _, n := range names {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// rewriteTar copies a tar, renaming or dropping entries.
func rewriteTar(t *testing.T, b []byte, f func(string) (string, bool)) []byte {
	t.Helper()
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name, keep := f(h.Name)
		if !keep {
			continue
		}
		h.Name = name
		tw.WriteHeader(h)
		io.Copy(tw, tr)
	}
	tw.Close()
	return out.Bytes()
}

// FuzzRestore: any bytes given to restore are refused or restored, never
// a panic, and nothing is written outside the target directory.
func FuzzRestore(f *testing.F) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range []struct{ name, body string }{{"files/ab/x.pdf", "%PDF-1.7"}, {"backup.json", `{"format":"elicense-backup/1","entries":[]}`}} {
		tw.WriteHeader(&tar.Header{Name: e.name, Size: int64(len(e.body)), Mode: 0o600, Typeflag: tar.TypeReg})
		tw.Write([]byte(e.body))
	}
	tw.Close()
	f.Add(b.Bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		done := make(chan struct{})
		go func() { restoreBackup(bytes.NewReader(data), filepath.Join(parent, "to")); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Fatal("restore hangs")
		}
		ents, _ := os.ReadDir(parent)
		if len(ents) > 1 {
			t.Fatalf("written beside the target: %v", ents)
		}
	})
}
