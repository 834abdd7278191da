package main

import (
	"crypto"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"elicense/signer"
	"elicense/signer/qrtoken"
)

func newQRCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "qr", Short: "QR tokens: export the signed key and status lists, verify a scan offline, make a dynamic token"}
	keys := &cobra.Command{Use: "keys", Short: "The QR key list signed by the city root"}
	keys.AddCommand(&cobra.Command{
		Use:   "export FILE",
		Short: "Write the signed key list",
		Args:  cobra.ExactArgs(1),
		RunE: withApp(g, func(cmd *cobra.Command, args []string, a *app) error {
			qr, err := a.QR(cmd.Context())
			if err != nil {
				return err
			}
			doc := qr.KeyListDocument()
			if err := os.WriteFile(args[0], doc, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d keys, version %d, %d bytes\n", args[0], len(qr.KeyList().Keys()), qr.KeyList().Version(), len(doc))
			return nil
		}),
	})
	status := &cobra.Command{Use: "status", Short: "The QR status list (revoked and suspended bits) signed by the city root"}
	status.AddCommand(&cobra.Command{
		Use:   "export FILE",
		Short: "Build the status list from the registry now and write it",
		Args:  cobra.ExactArgs(1),
		RunE: withApp(g, func(cmd *cobra.Command, args []string, a *app) error {
			qr, err := a.QR(cmd.Context())
			if err != nil {
				return err
			}
			doc, sl, err := qr.BuildStatusList(cmd.Context(), a.store, time.Now())
			if err != nil {
				return err
			}
			if err := os.WriteFile(args[0], doc, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d entries, sequence %d, %d bytes\n", args[0], sl.Size(), sl.Sequence(), len(doc))
			return nil
		}),
	})
	cmd.AddCommand(keys, status, newQRVerifyCommand(g), newQRTokenCommand(g))
	return cmd
}

func newQRVerifyCommand(g *globalFlags) *cobra.Command {
	var asJSON bool
	var keysFile, statusFile, rootFile string
	cmd := &cobra.Command{
		Use:   "verify [--json] [--keys FILE] [--status FILE] TEXT",
		Short: "Verify a scanned QR text offline (URL or digits); exit 0 valid, 1 not authentic, 2 authentic but not valid now, 3 usage",
		Args:  cobra.ExactArgs(1),
		RunE: withApp(g, func(cmd *cobra.Command, args []string, a *app) error {
			ctx := cmd.Context()
			now := time.Now()
			opts := qrtoken.VerifyOptions{Now: now, Seen: &qrtoken.FileTicketCache{Path: filepath.Join(a.cfg.DataDir, "qr-seen-tickets.json")}}
			var rootPub crypto.PublicKey
			var err error
			if keysFile != "" || statusFile != "" {
				if rootPub, err = rootPublic(a, rootFile); err != nil {
					return err
				}
			}
			var qr *qrtoken.Authority
			if keysFile == "" || statusFile == "" {
				if qr, err = a.QR(ctx); err != nil {
					return err
				}
			}
			if keysFile != "" {
				b, err := os.ReadFile(keysFile)
				if err != nil {
					return usageErr(err)
				}
				if opts.Keys, err = qrtoken.ParseKeyList(b, rootPub); err != nil {
					return usageErr(fmt.Errorf("--keys %s: %w", keysFile, err))
				}
			} else {
				opts.Keys = qr.KeyList()
			}
			if statusFile != "" {
				b, err := os.ReadFile(statusFile)
				if err != nil {
					return usageErr(err)
				}
				if opts.Status, err = qrtoken.ParseStatusList(b, rootPub); err != nil {
					return usageErr(fmt.Errorf("--status %s: %w", statusFile, err))
				}
			} else if _, opts.Status, err = qr.BuildStatusList(ctx, a.store, now); err != nil {
				return err
			}
			res := qrtoken.Verify(args[0], opts)
			return reportQR(cmd, res, asJSON)
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.StringVar(&keysFile, "keys", "", "signed key list (default: the data directory's current keys)")
	f.StringVar(&statusFile, "status", "", "signed status list (default: built from the registry now)")
	f.StringVar(&rootFile, "root", "", "PEM root certificate that signed the lists (default: the data directory's city root)")
	return cmd
}

// rootPublic reads the key that verifies the lists.
func rootPublic(a *app, path string) (crypto.PublicKey, error) {
	if path == "" {
		path = filepath.Join(a.pkiDir(), "root.crt")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr(err)
	}
	certs, err := signer.ParseCertificatesPEM(b)
	if err != nil || len(certs) == 0 {
		return nil, usageErr(fmt.Errorf("%s: no PEM certificate: %v", path, err))
	}
	return certs[0].PublicKey(), nil
}

// qrExitCode maps a QR result to the exit statuses of `elicense verify`.
func qrExitCode(res qrtoken.Result) int {
	if res.Valid {
		return 0
	}
	switch res.Reason {
	case qrtoken.CheckValidity, qrtoken.CheckLicenseStatus, qrtoken.CheckWindow, qrtoken.CheckTicket:
		return 2
	}
	return 1
}

type qrCheckJSON struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Detail string `json:"detail"`
}

func reportQR(cmd *cobra.Command, res qrtoken.Result, asJSON bool) error {
	code := qrExitCode(res)
	out := cmd.OutOrStdout()
	var lic map[string]any
	format := "qr"
	if res.Token != nil && code != 1 {
		c := res.Token.Claims
		format = "qr-" + c.Profile.String()
		lic = map[string]any{"identifier": c.Identifier, "holder": map[string]string{"name": c.HolderName, "code": c.HolderCode}}
		if c.Number != "" {
			lic["number"] = c.Number
		}
		if c.ValidUntil != 0 || c.ValidFrom != 0 {
			lic["validFrom"], lic["validUntil"] = c.ValidFrom.String(), c.ValidUntil.String()
		}
		if res.Key != nil {
			lic["issuer"] = map[string]string{"name": res.Key.DeptName, "code": res.Key.DeptUSCC}
		}
	}
	if asJSON {
		checks := make([]qrCheckJSON, 0, len(res.Checks))
		for _, c := range res.Checks {
			checks = append(checks, qrCheckJSON{string(c.ID), string(c.Status), c.Detail})
		}
		doc := map[string]any{"authentic": code != 1, "valid": res.Valid, "reason": string(res.Reason), "format": format, "checks": checks}
		if lic != nil {
			doc["license"] = lic
		}
		if err := writeJSON(out, doc); err != nil {
			return err
		}
	} else {
		verdict := map[int]string{0: "VALID 真实有效", 1: "NOT AUTHENTIC 无法验证", 2: "AUTHENTIC BUT NOT VALID NOW 非有效状态"}[code]
		fmt.Fprintf(out, "%s (reason: %s)\n", verdict, orDash(string(res.Reason)))
		if lic != nil {
			h := lic["holder"].(map[string]string)
			fmt.Fprintf(out, "identifier  %v\nholder      %s %s\n", lic["identifier"], h["name"], h["code"])
		}
		tw := tabwriter.NewWriter(out, 0, 2, 2, ' ', 0)
		for _, c := range res.Checks {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.ID, c.Status, c.Detail)
		}
		tw.Flush()
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newQRTokenCommand(g *globalFlags) *cobra.Command {
	var lifetime time.Duration
	cmd := &cobra.Command{
		Use:   "token IDENTIFIER",
		Short: "Print a fresh dynamic token (the citizen's 亮证 QR text) for a license in force",
		Args:  cobra.ExactArgs(1),
		RunE: withApp(g, func(cmd *cobra.Command, args []string, a *app) error {
			l, err := a.store.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			now := time.Now()
			if st := l.StatusAt(now); st != "issued" {
				return &exitError{code: 2, err: fmt.Errorf("license %s is %s: no token", l.ID, st)}
			}
			qr, err := a.QR(cmd.Context())
			if err != nil {
				return err
			}
			text, _, err := qr.DynamicText(l, now, lifetime)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), text)
			return nil
		}),
	}
	cmd.Flags().DurationVar(&lifetime, "lifetime", 120*time.Second, "token lifetime (at most 120s)")
	return cmd
}
