package main

import (
	"fmt"
	"sort"

	"github.com/spf13/cobra"
)

func newPKICommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "pki", Short: "The city PKI: root CA → seal maker → department signer and QR keys, and seals"}
	cmd.AddCommand(&cobra.Command{
		Use:   "init",
		Short: "Create the demo PKI (and the demo city) in the data directory; an existing PKI is kept and gains keys for new departments",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(g, cmd.Flags())
			if err != nil {
				return err
			}
			a, err := openApp(cmd.Context(), cfg, cmd.ErrOrStderr(), true)
			if err != nil {
				return err
			}
			defer a.Close()
			p, err := a.PKI(cmd.Context(), true)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "PKI in %s\nroot        %s (until %s)\nseal maker  %s\n", p.Dir, p.Root.Subject(), p.Root.NotAfter().Format("2006-01-02"), p.SealMaker.Subject())
			keys := make([]string, 0, len(p.Departments))
			for k := range p.Departments {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				d := p.Departments[k]
				fmt.Fprintf(out, "department  %-10s %s  signer %s  seal %s/%s/seal.esl\n", k, d.Name, d.SignerCert.SerialNumber().Text(16), p.Dir, k)
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "root",
		Short: "Print the city root certificate (PEM): the trust anchor for verifiers",
		Args:  cobra.NoArgs,
		RunE: withApp(g, func(cmd *cobra.Command, _ []string, a *app) error {
			p, err := a.PKI(cmd.Context(), false)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(p.RootPEM())
			return err
		}),
	})
	return cmd
}
