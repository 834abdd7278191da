package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/pflag"
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
