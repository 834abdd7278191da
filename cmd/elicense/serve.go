package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"elicense/api"
)

func newServeCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API and pages (creates the demo city on an empty data directory)",
		Args:  cobra.NoArgs,
	}
	cmd.Flags().String("addr", ":8080", "listen address (env ELICENSE_ADDR)")
	cmd.Flags().String("public-base", "", "public base URL printed in QR codes (env ELICENSE_PUBLIC_BASE)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := loadConfig(g, cmd.Flags())
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		a, err := openApp(ctx, cfg, cmd.ErrOrStderr(), true)
		if err != nil {
			return err
		}
		defer a.Close()
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		srv := &http.Server{
			Handler:           api.New(api.Deps{Store: a.store, Logger: a.log, Version: version}),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
		}
		fmt.Fprintf(cmd.OutOrStdout(), "elicense %s serving on %s (data in %s)\n", version, displayURL(ln.Addr()), cfg.DataDir)
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		select {
		case err := <-errc:
			return fmt.Errorf("serve: %w", err)
		case <-ctx.Done():
		}
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: shutdown: %w", err)
		}
		a.log.Info("stopped")
		return nil
	}
	return cmd
}

// displayURL turns a listen address into a URL a person can open.
func displayURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if host == "" || host == "::" || host == "0.0.0.0" || strings.HasPrefix(host, "[::") {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
