package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"elicense/api"
	"elicense/catalog"
	"elicense/signer"
)

func newServeCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API and pages (creates the demo city on an empty data directory)",
		Long: `Serve the HTTP API (docs/api.md). On an empty data directory the demo city is created,
and with the demo key password (no key_password_file) a demo admin API key is written to
<data-dir>/secrets/demo-admin-key (0600). Holder login needs an identity provider: the
government app's signed assertions (identity_public_key_file), or, for demonstrations only,
dev_login = true / ELICENSE_DEV_LOGIN=1 (one-time codes printed in the log).`,
		Args: cobra.NoArgs,
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
		deps, err := a.apiDeps(ctx)
		if err != nil {
			return err
		}
		if err := a.demoAdminKey(ctx); err != nil {
			return err
		}
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		deps.MetricsApart = cfg.MetricsAddr != ""
		handler, metrics := api.NewHandlers(deps)
		srv := &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
		}
		base := displayURL(ln.Addr())
		out := cmd.OutOrStdout()
		fmt.Fprintf(out, "elicense %s serving on %s (data in %s)\n", version, base, cfg.DataDir)
		fmt.Fprintf(out, "  pages    %s/  (console: department keys · counter: clerk keys · my: holders)\n", base)
		fmt.Fprintf(out, "  API      %s/api/v1/openapi.json  (docs/api.md)\n", base)
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "secrets", "demo-keys.txt")); err == nil {
			fmt.Fprintf(out, "  keys     demo keys (admin, departments, clerk, user unit) in %s and demo-admin-key\n", filepath.Join(cfg.DataDir, "secrets", "demo-keys.txt"))
		}
		if cfg.DevLogin {
			fmt.Fprintln(out, "  holders  development login is ON: one-time codes appear in this log")
		}
		errc := make(chan error, 2)
		if cfg.MetricsAddr != "" {
			mln, err := net.Listen("tcp", cfg.MetricsAddr)
			if err != nil {
				ln.Close()
				return fmt.Errorf("serve: metrics_addr: %w", err)
			}
			mux := http.NewServeMux()
			mux.Handle("GET /metrics", metrics)
			msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
			defer msrv.Close()
			go func() { errc <- msrv.Serve(mln) }()
			fmt.Fprintf(out, "  metrics  %s/metrics  (metrics_addr; not on the service address)\n", displayURL(mln.Addr()))
		}
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

// apiDeps wires the HTTP layer: the issuing service, files, QR authority,
// trusted roots, the holder identity provider and batch jobs.
func (a *app) apiDeps(ctx context.Context) (api.Deps, error) {
	if err := a.issuing(ctx); err != nil {
		return api.Deps{}, err
	}
	p, err := a.PKI(ctx, false)
	if err != nil {
		return api.Deps{}, err
	}
	// Keys are decrypted at first use; a wrong password fails here, not at
	// the first request.
	if err := p.CheckPassword(); err != nil {
		return api.Deps{}, fmt.Errorf("key password: %w", err)
	}
	qr, err := a.QR(ctx)
	if err != nil {
		return api.Deps{}, err
	}
	e, err := a.Engine()
	if err != nil {
		return api.Deps{}, err
	}
	batches := &apiBatches{a: a}
	// Uploads a previous process received but never started are orphans.
	if err := os.RemoveAll(batches.incoming()); err != nil {
		return api.Deps{}, err
	}
	lim, err := a.cfg.Limits.apiLimits()
	if err != nil {
		return api.Deps{}, err
	}
	d := api.Deps{
		Limits: lim,
		Store:  a.store, Access: a.store, Licenses: a.svc, Files: a.files, QR: qr, Templates: e,
		Roots: p.Roots(), Logger: a.log, Version: version, TrustedProxies: a.cfg.TrustedProxies,
		Now: time.Now, Rand: rand.Reader, Batches: batches, TypesChanged: a.refreshQRTypes,
		Backup: func(ctx context.Context, w io.Writer) error { _, err := a.writeBackup(ctx, w); return err },
	}
	switch {
	case a.cfg.IdentityPublicKeyFile != "":
		pub, err := readPublicKey(a.cfg.IdentityPublicKeyFile)
		if err != nil {
			return api.Deps{}, fmt.Errorf("identity_public_key_file: %w", err)
		}
		if a.cfg.IdentityIssuer == "" || a.cfg.IdentityAudience == "" {
			return api.Deps{}, fmt.Errorf("identity_public_key_file needs identity_issuer and identity_audience")
		}
		d.Identity = &api.GovAppIdentity{PublicKey: pub, Issuer: a.cfg.IdentityIssuer, Audience: a.cfg.IdentityAudience, Now: time.Now}
		a.log.Info("holder login: government app assertions", "issuer", a.cfg.IdentityIssuer)
	case a.cfg.DevLogin:
		d.Identity = &api.DevIdentity{Now: time.Now, Rand: rand.Reader, Logger: a.log}
		a.log.Warn("holder login: DEVELOPMENT provider enabled (dev_login): one-time codes are printed in this log; never use in production")
	default:
		a.log.Info("holder login disabled: set identity_public_key_file, or dev_login = true for a demonstration")
	}
	return d, nil
}

// readPublicKey reads a PEM certificate or an SM2 public key (PKIX DER in a
// PUBLIC KEY block).
func readPublicKey(path string) (crypto.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if certs, err := signer.ParseCertificatesPEM(b); err == nil && len(certs) > 0 {
		return certs[0].PublicKey(), nil
	}
	der := pemBlock(b, "PUBLIC KEY")
	if der == nil {
		return nil, fmt.Errorf("%s: no CERTIFICATE or PUBLIC KEY block", path)
	}
	return signer.ParsePublicKey(der)
}

// demoAdminKey gives the demo city an admin API key: when the key password is
// the demo's generated one and no active admin key exists, a key is made and
// written to <data-dir>/secrets/demo-admin-key (0600). Production deployments
// (key_password_file or ELICENSE_KEY_PASSWORD set) create keys with
// `elicense keys create` instead.
func (a *app) demoAdminKey(ctx context.Context) error {
	if a.cfg.KeyPasswordFile != "" || os.Getenv("ELICENSE_KEY_PASSWORD") != "" {
		return nil
	}
	path := filepath.Join(a.cfg.DataDir, "secrets", "demo-admin-key")
	ps, err := a.store.ListPrincipals(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.Role == catalog.RoleAdmin && p.Active() {
			if _, err := os.Stat(path); err == nil {
				a.log.Info("demo city: admin API key in "+path, "id", p.ID)
			}
			return nil
		}
	}
	p := &catalog.Principal{Name: "数据管理部门 (demo admin)", Role: catalog.RoleAdmin}
	text, err := api.NewKey(rand.Reader, time.Now(), p)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(text+"\n"), 0o600); err != nil {
		return err
	}
	if err := a.store.PutPrincipal(ctx, p); err != nil {
		return err
	}
	a.log.Warn("demo city: created an admin API key; production deployments use `elicense keys create`", "id", p.ID, "file", path)
	return a.demoStaffKeys(ctx)
}

// demoStaffKeys gives the demo city one key per role a newcomer wants to try:
// an issuer key per department (the console), a counter clerk (the counter
// page) and a user unit allowed every type (the verify API), listed in
// <data-dir>/secrets/demo-keys.txt (0600).
func (a *app) demoStaffKeys(ctx context.Context) error {
	depts, err := a.store.ListDepartments(ctx)
	if err != nil {
		return err
	}
	types, err := a.store.ListTypes(ctx)
	if err != nil {
		return err
	}
	var all []string
	for _, t := range types {
		all = append(all, t.Key)
	}
	ps := []*catalog.Principal{
		{Name: "芜湖市政务服务中心窗口 (demo clerk)", Role: catalog.RoleClerk},
		{Name: "芜湖市人民医院 (demo user unit)", Role: catalog.RoleVerifier, Types: all},
	}
	for _, d := range depts {
		ps = append(ps, &catalog.Principal{Name: d.Name + " (demo issuer)", Role: catalog.RoleIssuer, Dept: d.Key})
	}
	var b strings.Builder
	b.WriteString("# Demo API keys (never for production). role\tname\tkey\n")
	for _, p := range ps {
		text, err := api.NewKey(rand.Reader, time.Now(), p)
		if err != nil {
			return err
		}
		if err := a.store.PutPrincipal(ctx, p); err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\n", p.Role, p.Name, text)
	}
	path := filepath.Join(a.cfg.DataDir, "secrets", "demo-keys.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return err
	}
	a.log.Warn("demo city: created issuer, clerk and user-unit API keys", "file", path)
	return nil
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
