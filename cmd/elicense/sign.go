package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"elicense/signer"
)

func newSignCommand(g *globalFlags) *cobra.Command {
	var in, out, seal, format, dept string
	cmd := &cobra.Command{
		Use:   "sign --in IN.pdf --out OUT.pdf [--seal FILE|DEPT] [--format ses|pkcs7]",
		Short: "Seal a PDF: one incremental revision with a certification signature and the seal's picture",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in == "" || out == "" {
				return usageErr(fmt.Errorf("sign: --in and --out are required"))
			}
			f, err := signer.ParseFormat(format)
			if err != nil {
				return usageErr(err)
			}
			pdf, err := os.ReadFile(in)
			if err != nil {
				return usageErr(err)
			}
			a, err := openCLI(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			z, err := a.cliSealer(cmd, seal, dept)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			res, err := signer.Sign(&buf, pdf, signer.SignOptions{Sealer: z, Format: f, Now: time.Now(), Rand: rand.Reader})
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: sealed with %q (%s), %d bytes, SM3 %s\n", out, z.Seal().Name, f, res.Size, hex.EncodeToString(res.Digest[:]))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in, "in", "", "input PDF")
	fl.StringVar(&out, "out", "", "output PDF")
	fl.StringVar(&seal, "seal", "", "a seal file (.esl) or a department key; default: the only department's seal")
	fl.StringVar(&dept, "dept", "", "department whose signer key signs (default: the department of --seal, or the only one)")
	fl.StringVar(&format, "format", "ses", "signature container: ses (GB/T 38540 SES_Signature) or pkcs7 (GB/T 35275 SignedData)")
	return cmd
}

// cliSealer picks the seal: a department key, a .esl file (signed by the
// department given or the one whose certificate it lists), or the only
// department's default seal.
func (a *app) cliSealer(cmd *cobra.Command, seal, dept string) (*signer.Sealer, error) {
	ctx := cmd.Context()
	p, err := a.PKI(ctx, false)
	if err != nil {
		return nil, err
	}
	if seal != "" {
		if _, ok := p.Department(seal); ok {
			return a.sealer(ctx, seal)
		}
		der, err := os.ReadFile(seal)
		if err != nil {
			return nil, usageErr(fmt.Errorf("--seal %s: neither a department key nor a readable file: %w", seal, err))
		}
		for _, d := range sortedDepts(p) {
			if dept != "" && d.Key != dept {
				continue
			}
			if z, err := signer.NewSealer(der, d.SignerKey, d.SignerCert, signer.SealerOptions{}); err == nil {
				return z, nil
			}
		}
		return nil, fmt.Errorf("--seal %s: no department's signer certificate is listed in the seal", seal)
	}
	if dept != "" {
		return a.sealer(ctx, dept)
	}
	if len(p.Departments) != 1 {
		var keys []string
		for _, d := range sortedDepts(p) {
			keys = append(keys, d.Key)
		}
		return nil, usageErr(fmt.Errorf("several departments (%v): choose one with --seal or --dept", keys))
	}
	return a.sealer(ctx, sortedDepts(p)[0].Key)
}
