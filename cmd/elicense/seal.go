package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"elicense/signer"
)

func newSealCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "seal", Short: "Make and inspect GB/T 38540 electronic seals (电子印章)"}
	cmd.AddCommand(newSealMakeCommand(g), newSealInspectCommand(g))
	return cmd
}

func newSealMakeCommand(g *globalFlags) *cobra.Command {
	var dept, out, name, text, png string
	var width, height, years int
	cmd := &cobra.Command{
		Use:   "make --dept KEY --out FILE.esl",
		Short: "Make a V4 seal for a department, signed by the seal maker (picture generated, or --png)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dept == "" || out == "" {
				return usageErr(fmt.Errorf("seal make: --dept and --out are required"))
			}
			a, err := openCLI(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			p, err := a.PKI(cmd.Context(), false)
			if err != nil {
				return err
			}
			o := signer.DeptSealOptions{Name: name, Text: text, WidthMM: width, HeightMM: height, Now: time.Now(), Rand: rand.Reader}
			if png != "" {
				if o.PNG, err = os.ReadFile(png); err != nil {
					return usageErr(err)
				}
			} else if o.Font, err = a.fontData(); err != nil {
				return err
			}
			if years > 0 {
				o.ValidUntil = o.Now.AddDate(years, 0, 0)
			}
			der, err := p.MakeDepartmentSeal(dept, o)
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, der, 0o644); err != nil {
				return err
			}
			s, err := signer.ParseSeal(der)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: seal %q esID %s valid %s .. %s (%d bytes)\n", out, s.Name, s.ESID,
				s.ValidStart.Format("2006-01-02"), s.ValidEnd.Format("2006-01-02"), len(der))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dept, "dept", "", "department key")
	f.StringVar(&out, "out", "", "output .esl file")
	f.StringVar(&name, "name", "", "seal name (default: department name + 电子证照专用章)")
	f.StringVar(&text, "text", "", "text below the star of a generated picture (default 电子证照专用章)")
	f.StringVar(&png, "png", "", "use this PNG as the picture instead of generating one")
	f.IntVar(&width, "width-mm", 0, "picture width in mm (with --png; default 42)")
	f.IntVar(&height, "height-mm", 0, "picture height in mm (with --png; default 42)")
	f.IntVar(&years, "years", 0, "validity in years (default: until the seal maker certificate ends)")
	return cmd
}

func newSealInspectCommand(g *globalFlags) *cobra.Command {
	var asJSON bool
	var roots, png string
	cmd := &cobra.Command{
		Use:   "inspect [--json] FILE",
		Short: "Print a seal's fields and the S1–S4 check results (V1 and V4 seals)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			der, err := os.ReadFile(args[0])
			if err != nil {
				return usageErr(err)
			}
			s, err := signer.ParseSeal(der)
			if err != nil {
				return &exitError{code: 1, err: fmt.Errorf("%s: %w", args[0], err)}
			}
			pool, err := trustPool(cmd, g, roots)
			if err != nil {
				return err
			}
			info := s.Info(signer.CheckOptions{Roots: pool, At: time.Now()})
			if png != "" {
				if err := os.WriteFile(png, s.Picture.Data, 0o644); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := writeJSON(out, info); err != nil {
					return err
				}
			} else {
				tw := tabwriter.NewWriter(out, 0, 2, 2, ' ', 0)
				fmt.Fprintf(tw, "file\t%s\nversion\tV%d\nname\t%s\nesID\t%s\nvid\t%s\nvalid\t%s .. %s\npicture\t%s %d×%d\n",
					filepath.Base(args[0]), info.Version, info.Name, info.ESID, info.VID,
					info.ValidStart.Format(time.RFC3339), info.ValidEnd.Format(time.RFC3339),
					info.Picture.Type, info.Picture.Width, info.Picture.Height)
				for _, c := range info.Checks {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", c.ID, c.Status, c.Detail)
				}
				tw.Flush()
			}
			if !signer.Passed(info.Checks) {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&roots, "roots", "", "PEM file of trusted seal-maker roots (default: the data directory's city root)")
	cmd.Flags().StringVar(&png, "picture-out", "", "also write the seal picture to this file")
	return cmd
}

// trustPool returns the roots from a PEM file, or the data directory's city
// root, or an empty pool when there is no PKI yet.
func trustPool(cmd *cobra.Command, g *globalFlags, path string) (*signer.CertPool, error) {
	pool := signer.NewCertPool()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, usageErr(err)
		}
		certs, err := signer.ParseCertificatesPEM(b)
		if err != nil || len(certs) == 0 {
			return nil, usageErr(fmt.Errorf("%s: no PEM certificates: %v", path, err))
		}
		for _, c := range certs {
			pool.Add(c)
		}
		return pool, nil
	}
	cfg, err := loadConfig(g, cmd.Flags())
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(cfg.DataDir, "pki", "root.crt"))
	if err != nil {
		return pool, nil
	}
	certs, err := signer.ParseCertificatesPEM(b)
	if err != nil {
		return nil, err
	}
	for _, c := range certs {
		pool.Add(c)
	}
	return pool, nil
}
