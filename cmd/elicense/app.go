package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"elicense/catalog"
	"elicense/catalog/boltstore"
	"elicense/catalog/filestore"
)

// app is the wired program: configuration, storage and the domain service.
type app struct {
	cfg   Config
	log   *slog.Logger
	store *boltstore.Store
	files *filestore.Dir
	svc   *catalog.Service
	components
}

// openApp opens the data directory. With bootstrap set, an empty data
// directory receives the demo city.
func openApp(ctx context.Context, cfg Config, stderr io.Writer, bootstrap bool) (*app, error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	st, err := boltstore.Open(filepath.Join(cfg.DataDir, "elicense.db"), &boltstore.Options{Timeout: time.Second})
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, store: st, files: &filestore.Dir{Root: filepath.Join(cfg.DataDir, "files")}}
	a.svc = &catalog.Service{Store: st, Files: a.files, Now: time.Now}
	if bootstrap {
		if err := bootstrapDemo(ctx, a); err != nil {
			st.Close()
			return nil, fmt.Errorf("demo city: %w", err)
		}
	}
	return a, nil
}

func (a *app) Close() error { return a.store.Close() }
