package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"elicense/api"
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
	base, _, stderr, stop := startServeOut(t, dataDir)
	return base, stderr, stop
}

// startServeOut is startServe that also returns what serve printed on
// stdout.
func startServeOut(t *testing.T, dataDir string) (string, *syncBuffer, *syncBuffer, func()) {
	t.Helper()
	stdout := &syncBuffer{}
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
			stdout.Write([]byte(sc.Text() + "\n"))
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
	return base, stdout, stderr, func() {
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

// TestConfigLimits: the [limits] table reaches the HTTP service: with a
// burst of 2 the third request of a key in a row gets 429; bad values are
// refused.
func TestConfigLimits(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.toml", "[limits]\nkey_rate = 0.5\nkey_burst = 2\npublic_burst = 3\nmax_upload_mb = 2\nmax_batch_mb = 64\nmax_body_kb = 64\nsession_ttl = \"45m\"\nstatus_list_ttl = \"2m\"\n")
	cfg, err := loadConfig(&globalFlags{configFile: good}, nil)
	if err != nil {
		t.Fatal(err)
	}
	lim, err := cfg.Limits.apiLimits()
	want := api.Limits{KeyRate: 0.5, KeyBurst: 2, PublicBurst: 3, MaxUpload: 2 << 20, MaxBatchUpload: 64 << 20, MaxBody: 64 << 10,
		SessionTTL: 45 * time.Minute, StatusTTL: 2 * time.Minute}
	if err != nil || lim != want {
		t.Fatalf("limits %+v (%v), want %+v", lim, err, want)
	}
	cfg, err = loadConfig(&globalFlags{configFile: write("neg.toml", "[limits]\nkey_rate = -1\nmax_upload_mb = -2\n")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Limits.apiLimits(); err == nil || !strings.Contains(err.Error(), "key_rate, max_upload_mb") {
		t.Fatalf("negative limits: %v", err)
	}
	for name, body := range map[string]string{"unknown key": "[limits]\nkey_rates = 1\n", "bad duration": "[limits]\nsession_ttl = \"soon\"\n"} {
		if _, err := loadConfig(&globalFlags{configFile: write("bad.toml", body)}, nil); err == nil {
			t.Fatalf("%s accepted", name)
		}
	}

	// serve applies them.
	data := demoData(t)
	write2 := filepath.Join(data, "elicense.toml")
	if err := os.WriteFile(write2, []byte("[limits]\nkey_rate = 0.01\nkey_burst = 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base, logs, stop := startServe(t, data)
	defer stop()
	key, err := os.ReadFile(filepath.Join(data, "secrets", "demo-admin-key"))
	if err != nil {
		t.Fatal(err)
	}
	var codes []int
	for i := 0; i < 3; i++ {
		r, _ := http.NewRequest("GET", base+"/api/v1/keys", nil)
		r.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(key)))
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		codes = append(codes, res.StatusCode)
	}
	if !reflect.DeepEqual(codes, []int{200, 200, 429}) {
		t.Fatalf("three requests with key_burst = 2: %v\n%s", codes, logs)
	}
}

// TestMetricsAddr: with metrics_addr the metrics are served there only;
// the service's address answers 404 for /metrics.
func TestMetricsAddr(t *testing.T) {
	data := demoData(t)
	if err := os.WriteFile(filepath.Join(data, "elicense.toml"), []byte("metrics_addr = \"127.0.0.1:0\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base, stdout, logs, stop := startServeOut(t, data)
	defer stop()
	re := regexp.MustCompile(`metrics\s+(http://\S+/metrics)`)
	var murl string
	for deadline := time.Now().Add(10 * time.Second); murl == ""; time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			murl = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no metrics address printed:\n%s\n%s", stdout, logs)
		}
	}
	if murl == base+"/metrics" {
		t.Fatalf("metrics on the service address %s", murl)
	}
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	if code, _ := get(t, base+"/metrics"); code != 404 {
		t.Fatalf("GET /metrics on the service address: %d, want 404", code)
	}
	// The internal address serves the service's counters (the requests
	// above are in them).
	if code, body := get(t, murl); code != 200 || !strings.Contains(body, `elicense_http_requests_total{`) {
		t.Fatalf("GET %s: %d %.300s", murl, code, body)
	}
}
