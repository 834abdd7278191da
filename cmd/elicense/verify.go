package main

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"elicense/catalog"
	"elicense/verify"
)

func newVerifyCommand(g *globalFlags) *cobra.Command {
	var asJSON bool
	var roots string
	cmd := &cobra.Command{
		Use:   "verify [--json] [--roots FILE] FILE",
		Short: "Verify a sealed PDF or OFD; exit 0 authentic and valid, 1 not authentic, 2 authentic but not valid now, 3 usage or read error",
		Long: `Verify a sealed PDF or OFD file: structure (C1-C14), seal and signature (S1-S4, G1-G7),
trust, and the registry record (REG, STATUS). Without --roots the data directory's city root is
trusted and its registry consulted; with --roots only those roots are trusted and no registry is
read, so Valid needs the registry of the issuing city.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return usageErr(err)
			}
			pool, err := trustPool(cmd, g, roots)
			if err != nil {
				return err
			}
			opts := verify.Options{Now: time.Now(), TrustedRoots: pool}
			if roots == "" {
				cfg, err := loadConfig(g, cmd.Flags())
				if err != nil {
					return err
				}
				if _, err := os.Stat(cfg.DataDir); err == nil {
					a, err := openApp(cmd.Context(), cfg, cmd.ErrOrStderr(), false)
					if err != nil {
						return err
					}
					defer a.Close()
					opts.Registry = a.store
				}
			}
			res := verify.Verify(cmd.Context(), data, opts)
			out := cmd.OutOrStdout()
			if asJSON {
				if err := writeJSON(out, res); err != nil {
					return err
				}
			} else {
				printVerify(out, args[0], &res)
			}
			switch {
			case res.Valid:
				return nil
			case res.Authentic:
				return &exitError{code: 2}
			default:
				return &exitError{code: 1}
			}
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (documented in docs/formats.md)")
	cmd.Flags().StringVar(&roots, "roots", "", "PEM file of trusted roots (default: the data directory's city root, with its registry)")
	return cmd
}

func printVerify(out io.Writer, name string, r *verify.Result) {
	verdict := "NOT AUTHENTIC 无法验证"
	switch {
	case r.Valid:
		verdict = "AUTHENTIC AND VALID 真实有效"
	case r.Authentic:
		verdict = "AUTHENTIC, NOT VALID NOW 真实但非有效状态"
	}
	fmt.Fprintf(out, "%s: %s (reason: %s, format: %s)\n", name, verdict, r.Reason, r.Format)
	if r.License != nil {
		fmt.Fprintf(out, "license  %s  %s  %s  %s\n", r.License.Identifier, r.License.Number, r.License.TypeName, statusName(r.License.Status))
	}
	if r.Seal != nil {
		fmt.Fprintf(out, "seal     %s (esID %s, V%d, %s .. %s)\n", r.Seal.Name, r.Seal.ESID, r.Seal.Version,
			r.Seal.ValidStart.Format("2006-01-02"), r.Seal.ValidEnd.Format("2006-01-02"))
	}
	if r.Signer != nil {
		fmt.Fprintf(out, "signer   %s (serial %s)\n", r.Signer.Subject, r.Signer.Serial)
	}
	if !r.SignTime.IsZero() {
		fmt.Fprintf(out, "signed   %s\n", r.SignTime.Format(time.RFC3339))
	}
	tw := tabwriter.NewWriter(out, 0, 2, 2, ' ', 0)
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.ID, c.Status, c.Detail)
	}
	for _, s := range r.Signatures {
		fmt.Fprintf(tw, "signature %s (%s)\t%v\t%s\n", s.ID, s.Type, s.Authentic, s.Reason)
		for _, c := range s.Checks {
			fmt.Fprintf(tw, "    %s\t%s\t%s\n", c.ID, c.Status, c.Detail)
		}
	}
	tw.Flush()
}

func statusName(s catalog.Status) string {
	return map[catalog.Status]string{
		catalog.StatusIssued: "有效", catalog.StatusSuspended: "已停用", catalog.StatusRevoked: "已注销",
		catalog.StatusSuperseded: "已更新为新版本", catalog.StatusExpired: "已过期",
	}[s] + " (" + string(s) + ")"
}
