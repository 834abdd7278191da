package main

import (
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"elicense/api"
	"elicense/catalog"
)

func newKeysCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "API keys of departments (issuer), user units (verifier), counter clerks (clerk) and the data authority (admin)",
		Long: `API keys are shown once at creation (elk_<id>_<secret>) and stored only as their SM3 digest.
These commands open the database directly, so they run while no server holds it; against a
running server use the admin API (POST /api/v1/keys, docs/api.md).`,
	}
	var name, role, dept, types, out string
	create := &cobra.Command{
		Use:   "create --name NAME --role issuer|verifier|clerk|admin [--dept KEY] [--types a,b] [--out FILE]",
		Short: "Create a key and print it once (or write it to --out, mode 0600)",
		Args:  cobra.NoArgs,
		RunE: withApp(g, func(cmd *cobra.Command, _ []string, a *app) error {
			p := &catalog.Principal{Name: strings.TrimSpace(name), Role: catalog.Role(role), Dept: dept}
			for _, t := range strings.Split(types, ",") {
				if t = strings.TrimSpace(t); t != "" {
					p.Types = append(p.Types, t)
				}
			}
			if err := api.CheckPrincipal(cmd.Context(), a.store, p); err != nil {
				return usageErr(err)
			}
			text, err := api.NewKey(rand.Reader, time.Now(), p)
			if err != nil {
				return err
			}
			if out != "" {
				if err := os.WriteFile(out, []byte(text+"\n"), 0o600); err != nil {
					return err
				}
			}
			if err := a.store.PutPrincipal(cmd.Context(), p); err != nil {
				return err
			}
			if out != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "%s (%s, %s): key written to %s\n", p.ID, p.Name, p.Role, out)
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), text)
				fmt.Fprintf(cmd.ErrOrStderr(), "%s (%s, %s): the key above is shown only once\n", p.ID, p.Name, p.Role)
			}
			return nil
		}),
	}
	f := create.Flags()
	f.StringVar(&name, "name", "", "who holds the key, e.g. 芜湖市人民医院")
	f.StringVar(&role, "role", "", "issuer, verifier, clerk or admin")
	f.StringVar(&dept, "dept", "", "department key (issuer: required; clerk: optional)")
	f.StringVar(&types, "types", "", "verifier: comma-separated license type keys it may query")
	f.StringVar(&out, "out", "", "write the key to this file (0600) instead of stdout")

	var asJSON bool
	list := &cobra.Command{
		Use:   "list [--json]",
		Short: "List keys (never the secrets)",
		Args:  cobra.NoArgs,
		RunE: withApp(g, func(cmd *cobra.Command, _ []string, a *app) error {
			ps, err := a.store.ListPrincipals(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				type row struct {
					ID, Name, Role, Dept string
					Types                []string
					Created, Revoked     string
				}
				rows := []row{}
				for _, p := range ps {
					r := row{p.ID, p.Name, string(p.Role), p.Dept, p.Types, p.CreatedAt.Format(time.RFC3339), ""}
					if !p.Active() {
						r.Revoked = p.RevokedAt.Format(time.RFC3339)
					}
					rows = append(rows, r)
				}
				return writeJSON(cmd.OutOrStdout(), rows)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tROLE\tDEPT\tTYPES\tNAME\tSTATE")
			for _, p := range ps {
				state := "active"
				if !p.Active() {
					state = "revoked " + p.RevokedAt.Format("2006-01-02")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Role, p.Dept, strings.Join(p.Types, ","), p.Name, state)
			}
			return tw.Flush()
		}),
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a key (it stops working at once)",
		Args:  cobra.ExactArgs(1),
		RunE: withApp(g, func(cmd *cobra.Command, args []string, a *app) error {
			p, err := a.store.GetPrincipal(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if p.Active() {
				p.RevokedAt = time.Now().UTC()
				if err := a.store.PutPrincipal(cmd.Context(), p); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s revoked\n", p.ID)
			return nil
		}),
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// pemBlock returns the bytes of the first PEM block of that type, or nil.
func pemBlock(data []byte, typ string) []byte {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil
		}
		if b.Type == typ {
			return b.Bytes
		}
	}
}
