package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/pflag"

	"elicense/api"
)

// Config is the whole configuration. Precedence: flags > environment > config
// file > defaults. Secrets are never flag values: the key password comes from
// ELICENSE_KEY_PASSWORD or from the file named by key_password_file.
type Config struct {
	DataDir         string   `toml:"data_dir"`
	Addr            string   `toml:"addr"`
	PublicBase      string   `toml:"public_base"`
	FontPaths       []string `toml:"font_paths"`
	KeyPasswordFile string   `toml:"key_password_file"`
	// KeyScryptLogN is the scrypt cost (log2 N) of newly written key files;
	// 0 means the default 16 (64 MiB per unlock). Lower only for tests.
	KeyScryptLogN int `toml:"key_scrypt_log_n"`

	// DevLogin enables the development holder login (ID number + name + a
	// one-time code printed in the server log). Never in production.
	DevLogin bool `toml:"dev_login"`
	// IdentityPublicKeyFile is the PEM certificate or public key of the
	// government app's identity service, whose SM2-signed assertions log
	// holders in; IdentityIssuer and IdentityAudience must match them.
	IdentityPublicKeyFile string `toml:"identity_public_key_file"`
	IdentityIssuer        string `toml:"identity_issuer"`
	IdentityAudience      string `toml:"identity_audience"`
	// TrustedProxies may set X-Forwarded-For (client IPs for rate limits).
	TrustedProxies []string `toml:"trusted_proxies"`
	// MetricsAddr, when set, is the only address that serves /metrics
	// (an internal one, e.g. "127.0.0.1:9464"); otherwise /metrics is on
	// the service's address, without authentication.
	MetricsAddr string `toml:"metrics_addr"`
	// Limits are the HTTP service's rate and size limits ([limits]); an
	// absent or zero value keeps the default.
	Limits LimitsConfig `toml:"limits"`
}

// LimitsConfig is the [limits] table: api.Limits in the units an operator
// writes.
type LimitsConfig struct {
	KeyRate     float64  `toml:"key_rate"`        // requests/s per API key or holder session (20)
	KeyBurst    int      `toml:"key_burst"`       // (40)
	PublicRate  float64  `toml:"public_rate"`     // requests/s per client IP on public verification (1)
	PublicBurst int      `toml:"public_burst"`    // (10)
	MaxBodyKB   int64    `toml:"max_body_kb"`     // JSON request bodies (1024)
	MaxUploadMB int64    `toml:"max_upload_mb"`   // files uploaded for verification (16)
	MaxBatchMB  int64    `toml:"max_batch_mb"`    // batch source files, streamed to disk (512)
	SessionTTL  Duration `toml:"session_ttl"`     // holder sessions ("30m")
	StatusTTL   Duration `toml:"status_list_ttl"` // the status list is rebuilt at least this often ("10m")
}

// Duration is a time.Duration written as a Go duration string ("30m").
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// apiLimits checks the [limits] table and converts it. Negative values
// are errors (zero keeps the default).
func (c LimitsConfig) apiLimits() (api.Limits, error) {
	var bad []string
	for name, v := range map[string]float64{"key_rate": c.KeyRate, "key_burst": float64(c.KeyBurst),
		"public_rate": c.PublicRate, "public_burst": float64(c.PublicBurst), "max_body_kb": float64(c.MaxBodyKB),
		"max_upload_mb": float64(c.MaxUploadMB), "max_batch_mb": float64(c.MaxBatchMB),
		"session_ttl": float64(c.SessionTTL), "status_list_ttl": float64(c.StatusTTL)} {
		if v < 0 {
			bad = append(bad, name)
		}
	}
	if bad != nil {
		sort.Strings(bad)
		return api.Limits{}, fmt.Errorf("config: [limits] %s must not be negative", strings.Join(bad, ", "))
	}
	return api.Limits{
		KeyRate: c.KeyRate, KeyBurst: c.KeyBurst, PublicRate: c.PublicRate, PublicBurst: c.PublicBurst,
		MaxBody: c.MaxBodyKB << 10, MaxUpload: c.MaxUploadMB << 20, MaxBatchUpload: c.MaxBatchMB << 20,
		SessionTTL: time.Duration(c.SessionTTL), StatusTTL: time.Duration(c.StatusTTL),
	}, nil
}

func defaultConfig() Config {
	return Config{
		DataDir:    "data",
		Addr:       ":8080",
		PublicBase: "HTTP://127.0.0.1:8080",
	}
}

// loadConfig resolves the configuration for a command whose flags are fs.
// Command-specific flags (addr, public-base) are applied when flags set them.
func loadConfig(g *globalFlags, flags *pflag.FlagSet) (Config, error) {
	cfg := defaultConfig()
	file := firstNonEmpty(g.configFile, os.Getenv("ELICENSE_CONFIG"))
	explicit := file != ""
	dataDir := firstNonEmpty(g.dataDir, os.Getenv("ELICENSE_DATA_DIR"))
	if !explicit {
		file = filepath.Join(firstNonEmpty(dataDir, cfg.DataDir), "elicense.toml")
	}
	if err := readConfigFile(file, &cfg); err != nil {
		if explicit || !errors.Is(err, fs.ErrNotExist) {
			return cfg, err
		}
	}
	envs := []struct {
		name string
		dst  *string
	}{
		{"ELICENSE_DATA_DIR", &cfg.DataDir},
		{"ELICENSE_ADDR", &cfg.Addr},
		{"ELICENSE_PUBLIC_BASE", &cfg.PublicBase},
		{"ELICENSE_KEY_PASSWORD_FILE", &cfg.KeyPasswordFile},
	}
	for _, e := range envs {
		if v := os.Getenv(e.name); v != "" {
			*e.dst = v
		}
	}
	if v := os.Getenv("ELICENSE_KEY_SCRYPT_LOG_N"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10 || n > 22 {
			return cfg, fmt.Errorf("config: ELICENSE_KEY_SCRYPT_LOG_N=%q: want 10 to 22", v)
		}
		cfg.KeyScryptLogN = n
	}
	if v := os.Getenv("ELICENSE_DEV_LOGIN"); v != "" {
		cfg.DevLogin = v == "1" || strings.EqualFold(v, "true")
	}
	if v := os.Getenv("ELICENSE_FONT_PATHS"); v != "" {
		cfg.FontPaths = filepath.SplitList(v)
	}
	if g.dataDir != "" {
		cfg.DataDir = g.dataDir
	}
	if flags != nil {
		if f := flags.Lookup("addr"); f != nil && f.Changed {
			cfg.Addr = f.Value.String()
		}
		if f := flags.Lookup("public-base"); f != nil && f.Changed {
			cfg.PublicBase = f.Value.String()
		}
	}
	cfg.PublicBase = strings.TrimRight(cfg.PublicBase, "/")
	if cfg.DataDir == "" {
		return cfg, fmt.Errorf("config: empty data directory")
	}
	return cfg, nil
}

func readConfigFile(path string, cfg *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	return nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
