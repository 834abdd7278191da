package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// exitError carries a process exit status other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// exitCode prints err (if any) and returns the process exit status.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "elicense:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "elicense:", err)
	return 1
}

// run is the whole program: main only calls it, and tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := NewRootCommand(stdout, stderr)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// globalFlags are the flags every subcommand has.
type globalFlags struct {
	dataDir    string
	configFile string
}

// NewRootCommand builds the command tree. It holds no package-level state.
func NewRootCommand(stdout, stderr io.Writer) *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "elicense",
		Short:         "Electronic licenses (电子证照): catalog, issuing, sealing, verification",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	pf := root.PersistentFlags()
	pf.StringVar(&g.dataDir, "data-dir", "", "data directory (env ELICENSE_DATA_DIR, default ./data)")
	pf.StringVar(&g.configFile, "config", "", "config file in TOML (env ELICENSE_CONFIG, default <data-dir>/elicense.toml when present)")
	root.AddCommand(
		newServeCommand(g),
		newLicenseCommand(g),
		newIssueCommand(g),
		newBatchCommand(g),
		newRenderCommand(g),
		newTemplatesCommand(g),
		newPKICommand(g),
		newSealCommand(g),
		newSignCommand(g),
		newQRCommand(g),
		newVerifyCommand(g),
		newKeysCommand(g),
		newBackupCommand(g),
		newRestoreCommand(),
		newVersionCommand(),
	)
	return root
}
