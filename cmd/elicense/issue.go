package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"elicense/catalog"
)

func newIssueCommand(g *globalFlags) *cobra.Command {
	var typeKey, input, dept, out, actor string
	cmd := &cobra.Command{
		Use:   "issue --type KEY --input ROW.json [--dept KEY] [--out FILE.pdf]",
		Short: "Validate, render, seal and store one license; prints its identifier",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if typeKey == "" || input == "" {
				return usageErr(fmt.Errorf("issue: --type and --input are required"))
			}
			row, err := readRow(input)
			if err != nil {
				return err
			}
			a, err := openCLI(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			if err := a.issuing(cmd.Context()); err != nil {
				return err
			}
			l, err := a.svc.Issue(cmd.Context(), catalog.IssueRequest{TypeKey: typeKey, DeptKey: dept, Values: row, Actor: catalog.Actor{Name: actor}})
			var ve *catalog.ValidationError
			switch {
			case errors.As(err, &ve):
				return rowErr(cmd, ve)
			case errors.Is(err, catalog.ErrExists) && l != nil:
				return &exitError{code: 1, err: fmt.Errorf("license number %s is already issued as %s (%s)", l.Number, l.ID, l.Status)}
			case err != nil:
				return err
			}
			if out != "" {
				data, err := a.files.Get(l.ID)
				if err != nil {
					return err
				}
				if err := os.WriteFile(out, data, 0o644); err != nil {
					return err
				}
			}
			fmt.Fprintln(cmd.OutOrStdout(), l.ID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&typeKey, "type", "", "license type key")
	f.StringVar(&input, "input", "", "data row as a JSON object of item keys")
	f.StringVar(&dept, "dept", "", "issuing department key (default: the type's only issuing department)")
	f.StringVar(&out, "out", "", "also write the sealed PDF here")
	f.StringVar(&actor, "actor", defaultActor(), "who issues (recorded)")
	return cmd
}
