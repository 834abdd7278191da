package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"elicense/catalog"
	"elicense/templates"
)

func newRenderCommand(g *globalFlags) *cobra.Command {
	var typeKey, input, out string
	cmd := &cobra.Command{
		Use:   "render --type KEY --input ROW.json --out FILE.pdf",
		Short: "Render an unsealed preview (marked 样本 / SPECIMEN) of one data row",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if typeKey == "" || input == "" || out == "" {
				return usageErr(fmt.Errorf("render: --type, --input and --out are required"))
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
			e, err := a.Engine()
			if err != nil {
				return err
			}
			t, ok := e.Type(typeKey)
			if !ok {
				return usageErr(fmt.Errorf("no template %q (see `elicense templates list`)", typeKey))
			}
			now := a.svc.Now()
			if ve := catalog.ValidateRow(&t, row, now); ve != nil {
				return rowErr(cmd, ve)
			}
			if ve := e.Check(&t, row, now); ve != nil {
				return rowErr(cmd, ve)
			}
			var serial [4]byte
			rand.Read(serial[:])
			issuer := catalog.Department{Name: "（样本）", USCC: "11340200MB1A23457N"}
			if len(t.IssuingDepts) > 0 {
				if d, err := a.store.GetDepartment(cmd.Context(), t.IssuingDepts[0]); err == nil {
					issuer = *d
				}
			}
			lic := &catalog.License{
				ID:     catalog.FormatIdentifier(t.Code, issuer.USCC, fmt.Sprintf("SPECIMEN%X", serial), 1),
				Number: row[t.NumberKey()], TypeKey: t.Key, TypeCode: t.Code, TypeName: t.Name,
				IssuerUSCC: issuer.USCC, IssuerName: issuer.Name,
				Holder: catalog.Holder{Name: row["holder_name"], Code: row["holder_code"], CodeType: t.Holder.CodeType()},
				Values: row, ValidFrom: row["valid_from"], ValidUntil: row["valid_until"], IssuedAt: now, Version: 1,
				Status: catalog.StatusIssued, StatusIndex: -1,
			}
			var buf bytes.Buffer
			if err := e.Render(&buf, lic, templates.RenderOptions{Specimen: true}); err != nil {
				return err
			}
			if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: specimen of %s (%d bytes)\n", out, t.Name, buf.Len())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&typeKey, "type", "", "license type key")
	f.StringVar(&input, "input", "", "data row as a JSON object of item keys")
	f.StringVar(&out, "out", "", "output PDF")
	return cmd
}

// rowErr prints every problem of a row, one per line, and returns exit 1.
func rowErr(cmd *cobra.Command, ve *catalog.ValidationError) error {
	w := cmd.ErrOrStderr()
	fmt.Fprintln(w, "the row has problems:")
	for _, p := range ve.Problems {
		item := p.Item
		if item == "" {
			item = "-"
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\n", item, p.Code, p.Message)
	}
	return &exitError{code: 1, err: fmt.Errorf("%d problem(s); nothing written", len(ve.Problems))}
}
