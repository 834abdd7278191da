package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"elicense/catalog"
)

func newLicenseCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "license", Short: "List, show and manage issued licenses (证照库)"}
	cmd.AddCommand(newLicenseListCommand(g), newLicenseShowCommand(g))
	for _, a := range []struct {
		name, short string
		act         catalog.Action
		needReason  bool
	}{
		{"suspend", "Suspend (停用) an issued license; --reason required", catalog.ActionSuspend, true},
		{"resume", "Resume a suspended license", catalog.ActionResume, false},
		{"revoke", "Revoke (注销) a license for good; --reason required", catalog.ActionRevoke, true},
	} {
		cmd.AddCommand(newLicenseChangeCommand(g, a.name, a.short, a.act, a.needReason))
	}
	return cmd
}

func newLicenseListCommand(g *globalFlags) *cobra.Command {
	var f catalog.Filter
	var status, cursor string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List licenses, newest identifier last, a page at a time",
		Args:  cobra.NoArgs,
		RunE: withApp(g, func(cmd *cobra.Command, _ []string, a *app) error {
			f.Status = catalog.Status(status)
			if status != "" && !validStatus(f.Status) {
				return usageErr(fmt.Errorf("--status: want one of %v", catalog.Statuses()))
			}
			page, err := a.store.List(cmd.Context(), f, cursor, limit)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(out, map[string]any{"licenses": licenseViews(page.Licenses, a), "next": page.Next})
			}
			tw := tabwriter.NewWriter(out, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "IDENTIFIER\tNUMBER\tTYPE\tHOLDER\tVALID UNTIL\tSTATUS")
			now := a.svc.Now()
			for _, l := range page.Licenses {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.ID, l.Number, l.TypeKey, l.Holder.Name, l.ValidUntil, l.StatusAt(now))
			}
			tw.Flush()
			if page.Next != "" {
				fmt.Fprintf(out, "more: --cursor %s\n", page.Next)
			}
			return nil
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.HolderCode, "holder", "", "holder code (ID number or USCC)")
	fl.StringVar(&f.TypeKey, "type", "", "license type key")
	fl.StringVar(&f.Batch, "batch", "", "batch id")
	fl.StringVar(&f.IssuerUSCC, "issuer", "", "issuing department's USCC")
	fl.StringVar(&status, "status", "", "stored status: issued, suspended, revoked, superseded")
	fl.StringVar(&cursor, "cursor", "", "continue after this identifier")
	fl.IntVar(&limit, "limit", 50, "page size (at most 1000)")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func validStatus(s catalog.Status) bool {
	for _, v := range catalog.Statuses() {
		if v == s {
			return true
		}
	}
	return false
}

func newLicenseShowCommand(g *globalFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show IDENTIFIER",
		Short: "Show one license with its values, status history and versions",
		Args:  cobra.ExactArgs(1),
		RunE: withApp(g, func(cmd *cobra.Command, args []string, a *app) error {
			l, err := a.store.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			versions, _ := a.store.Versions(cmd.Context(), l.ID)
			out := cmd.OutOrStdout()
			if asJSON {
				v := licenseViews([]*catalog.License{l}, a)[0]
				v["values"] = l.Values
				v["history"] = l.History
				var vs []string
				for _, x := range versions {
					vs = append(vs, x.ID)
				}
				v["versions"] = vs
				return writeJSON(out, v)
			}
			printLicense(out, l, a)
			if len(versions) > 1 {
				fmt.Fprintln(out, "versions:")
				for _, x := range versions {
					fmt.Fprintf(out, "  %03d %s %s\n", x.Version, x.ID, x.Status)
				}
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printLicense(out io.Writer, l *catalog.License, a *app) {
	tw := tabwriter.NewWriter(out, 0, 2, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("identifier", l.ID)
	row("number", l.Number)
	row("type", l.TypeName+" ("+l.TypeKey+", "+l.TypeCode+")")
	row("issuer", l.IssuerName+" ("+l.IssuerUSCC+")")
	row("holder", l.Holder.Name+" "+l.Holder.Code+" (type "+l.Holder.CodeType+")")
	row("validity", l.ValidFrom+" .. "+l.ValidUntil)
	row("issued", l.IssuedAt.Format("2006-01-02 15:04:05 -0700"))
	row("version", fmt.Sprintf("%03d", l.Version))
	row("status", string(l.StatusAt(a.svc.Now())))
	if l.Supersedes != "" {
		row("supersedes", l.Supersedes)
	}
	if l.SupersededBy != "" {
		row("superseded by", l.SupersededBy)
	}
	row("sm3", l.Digest)
	if l.BatchID != "" {
		row("batch", l.BatchID+" row "+l.SourceKey)
	}
	keys := make([]string, 0, len(l.Values))
	for k := range l.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := l.Values[k]
		if len(v) > 80 {
			v = v[:40] + "…"
		}
		row("  "+k, v)
	}
	tw.Flush()
	fmt.Fprintln(out, "history:")
	for _, h := range l.History {
		from := string(h.From)
		if from == "" {
			from = "-"
		}
		fmt.Fprintf(out, "  %s  %s → %s  by %s  %s\n", h.At.Format("2006-01-02 15:04:05"), from, h.To, h.Actor, h.Reason)
	}
}

func licenseViews(ls []*catalog.License, a *app) []map[string]any {
	now := a.svc.Now()
	out := make([]map[string]any, 0, len(ls))
	for _, l := range ls {
		out = append(out, map[string]any{
			"identifier": l.ID, "number": l.Number, "type": l.TypeKey, "typeCode": l.TypeCode, "typeName": l.TypeName,
			"issuer":    map[string]string{"name": l.IssuerName, "code": l.IssuerUSCC},
			"holder":    map[string]string{"name": l.Holder.Name, "code": l.Holder.Code, "codeType": l.Holder.CodeType},
			"validFrom": l.ValidFrom, "validUntil": l.ValidUntil, "issuedAt": l.IssuedAt, "version": l.Version,
			"status": l.StatusAt(now), "storedStatus": l.Status, "sm3": l.Digest,
			"supersedes": l.Supersedes, "supersededBy": l.SupersededBy, "batch": l.BatchID,
		})
	}
	return out
}

func newLicenseChangeCommand(g *globalFlags, name, short string, act catalog.Action, needReason bool) *cobra.Command {
	var reason, actor string
	cmd := &cobra.Command{
		Use:   name + " IDENTIFIER",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if needReason && strings.TrimSpace(reason) == "" {
				return usageErr(fmt.Errorf("%s: --reason is required", name))
			}
			a, err := openCLI(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			who := catalog.Actor{Name: actor}
			var l *catalog.License
			switch act {
			case catalog.ActionSuspend:
				l, err = a.svc.Suspend(cmd.Context(), args[0], who, reason)
			case catalog.ActionResume:
				l, err = a.svc.Resume(cmd.Context(), args[0], who, reason)
			case catalog.ActionRevoke:
				l, err = a.svc.Revoke(cmd.Context(), args[0], who, reason)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", l.ID, l.Status)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "reason recorded in the status history")
	cmd.Flags().StringVar(&actor, "actor", defaultActor(), "who makes the change (recorded)")
	return cmd
}

func defaultActor() string {
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}

// usageErr marks a usage problem: exit status 3 (as elicense verify documents).
func usageErr(err error) error { return &exitError{code: 3, err: err} }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// openCLI opens the data directory for a one-shot command (no demo bootstrap).
func openCLI(cmd *cobra.Command, g *globalFlags) (*app, error) {
	cfg, err := loadConfig(g, cmd.Flags())
	if err != nil {
		return nil, err
	}
	return openApp(cmd.Context(), cfg, cmd.ErrOrStderr(), false)
}

// withApp makes a RunE that opens the data directory (no demo bootstrap)
// before fn and closes it after.
func withApp(g *globalFlags, fn func(cmd *cobra.Command, args []string, a *app) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a, err := openCLI(cmd, g)
		if err != nil {
			return err
		}
		defer a.Close()
		return fn(cmd, args, a)
	}
}
