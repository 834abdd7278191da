package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newTemplatesCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "templates", Short: "List and show license templates (embedded defaults and <data-dir>/templates overrides)"}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the license types the templates define",
		Args:  cobra.NoArgs,
		RunE: withApp(g, func(cmd *cobra.Command, _ []string, a *app) error {
			e, err := a.Engine()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY\tCODE\tNAME\tKIND\tHOLDER\tPAGE (mm)\tITEMS")
			for _, t := range e.Types() {
				tp, _ := e.Template(t.Key)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.0f×%.0f\t%d\n", t.Key, t.Code, t.Name, t.Kind, t.Holder, tp.Page.Width, tp.Page.Height, len(t.Items))
			}
			return tw.Flush()
		}),
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "show KEY",
		Short: "Print a template (catalog entry and layout) as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: withApp(g, func(cmd *cobra.Command, args []string, a *app) error {
			e, err := a.Engine()
			if err != nil {
				return err
			}
			t, ok := e.Type(args[0])
			tp, ok2 := e.Template(args[0])
			if !ok || !ok2 {
				return usageErr(fmt.Errorf("no template %q (see `elicense templates list`)", args[0]))
			}
			return writeJSON(cmd.OutOrStdout(), map[string]any{"type": t, "layout": tp})
		}),
	})
	return cmd
}

// readRow reads one data row: a JSON object of item keys to string values.
func readRow(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, usageErr(fmt.Errorf("%s: not a JSON object of item values: %w", path, err))
	}
	row := make(map[string]string, len(raw))
	for k, v := range raw {
		switch x := v.(type) {
		case string:
			row[k] = x
		case nil:
		default:
			return nil, usageErr(fmt.Errorf("%s: item %q must be a string", path, k))
		}
	}
	return row, nil
}
