package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a goroutine-safe buffer for captured output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs `elicense serve` on a random port and returns its base URL
// and a stop function that waits for a clean exit.
func startServe(t *testing.T, dataDir string) (string, *syncBuffer, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir}, pw, stderr)
		pw.Close()
	}()
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`serving on (http://\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	var base string
	select {
	case base = <-urlc:
	case err := <-done:
		t.Fatalf("serve exited: %v\n%s", err, stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start\n%s", stderr)
	}
	return base, stderr, func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeHealthAndRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	base, logs, stop := startServe(t, dir)
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, body := get(t, base+p); code != 200 {
			t.Fatalf("%s = %d %s", p, code, body)
		}
	}
	if !strings.Contains(logs.String(), "demo city: created department") {
		t.Fatalf("bootstrap not logged:\n%s", logs)
	}
	stop()
	if _, err := os.Stat(filepath.Join(dir, "elicense.db")); err != nil {
		t.Fatal(err)
	}
	// Second start: data kept, nothing created again.
	base, logs, stop = startServe(t, dir)
	defer stop()
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("readyz after restart = %d", code)
	}
	if strings.Contains(logs.String(), "demo city: created") {
		t.Fatalf("demo city created twice:\n%s", logs)
	}
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "elicense.toml")
	if err := os.WriteFile(file, []byte("addr = \":7000\"\npublic_base = \"HTTPS://FILE.EXAMPLE/\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		env      map[string]string
		args     []string
		wantAddr string
		wantBase string
	}{
		{"File", nil, nil, ":7000", "HTTPS://FILE.EXAMPLE"},
		{"EnvOverFile", map[string]string{"ELICENSE_ADDR": ":7001"}, nil, ":7001", "HTTPS://FILE.EXAMPLE"},
		{"FlagOverEnv", map[string]string{"ELICENSE_ADDR": ":7001"}, []string{"--addr", ":7002"}, ":7002", "HTTPS://FILE.EXAMPLE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cmd := newServeCommand(&globalFlags{dataDir: dir})
			if err := cmd.ParseFlags(tc.args); err != nil {
				t.Fatal(err)
			}
			cfg, err := loadConfig(&globalFlags{dataDir: dir}, cmd.Flags())
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Addr != tc.wantAddr || cfg.PublicBase != tc.wantBase || cfg.DataDir != dir {
				t.Fatalf("cfg = %+v", cfg)
			}
		})
	}
	// An unknown key in the file is an error, not silently ignored.
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("adress = \":1\"\n"), 0o600)
	if _, err := loadConfig(&globalFlags{configFile: bad}, nil); err == nil {
		t.Fatal("unknown config key accepted")
	}
	if _, err := loadConfig(&globalFlags{configFile: filepath.Join(dir, "missing.toml")}, nil); err == nil {
		t.Fatal("missing explicit config file accepted")
	}
}

func TestVersionAndUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, &errb); err != nil || !strings.HasPrefix(out.String(), "elicense ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, &out, &errb); err == nil {
		t.Fatal("unknown command accepted")
	}
}
