package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"elicense/catalog"
	"elicense/catalog/batchio"
	"elicense/signer"
)

func newBatchCommand(g *globalFlags) *cobra.Command {
	var o batchOptions
	cmd := &cobra.Command{
		Use:   "batch --type KEY --input FILE [--dept KEY] [--out DIR] [--report FILE] [--workers N]",
		Short: "Issue licenses from a CSV, XLSX or JSON Lines file: resumable, with a per-row report and a signed manifest",
		Long: `Issue one license per row of FILE (.csv with a header row naming the items by key or label, UTF-8 or
GB18030; .xlsx, first sheet, the same header; .jsonl, one JSON object per line). A header with
a column that is no item of the type, or without a required item, is refused before any row
(exit 3, one line per problem). Running the same file again resumes the
batch: rows already issued are reported as existing and nothing is issued twice.
The report (CSV, default FILE.report.csv) has one line per row, or per problem of a rejected
row; the manifest (default FILE.manifest.json) is signed with the department's signer key.
Exit status 1 when any row was rejected.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.typeKey == "" || o.input == "" {
				return usageErr(fmt.Errorf("batch: --type and --input are required"))
			}
			a, err := openCLI(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			return a.runBatch(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.typeKey, "type", "", "license type key")
	f.StringVar(&o.input, "input", "", "rows: .csv, .xlsx or .jsonl")
	f.StringVar(&o.dept, "dept", "", "issuing department key (default: the type's only issuing department)")
	f.StringVar(&o.out, "out", "", "also write each sealed PDF here as <identifier>.pdf")
	f.StringVar(&o.report, "report", "", "per-row report (default <input>.report.csv)")
	f.StringVar(&o.manifest, "manifest", "", "signed batch manifest (default <input>.manifest.json)")
	f.IntVar(&o.workers, "workers", 0, "render and seal goroutines (default: the number of cores plus one)")
	f.StringVar(&o.actor, "actor", defaultActor(), "who issues (recorded)")
	f.StringVar(&o.progress, "progress", "auto", "progress display: auto, bar, lines or none")
	f.DurationVar(&o.every, "progress-every", 5*time.Second, "interval of progress lines when not on a terminal")
	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the run here (diagnostics)")
	cmd.AddCommand(newBatchVerifyCommand(g), newBatchTemplateCommand(g), newBatchCheckCommand(g))
	return cmd
}

type batchOptions struct {
	typeKey, input, dept, out, report, manifest, actor, progress, cpuProfile string
	workers                                                                  int
	every                                                                    time.Duration
}

// sourceDigest returns the SM3 of the file and its number of lines.
func sourceDigest(path string) (string, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := signer.NewSM3()
	buf := make([]byte, 256<<10)
	lines := 0
	for {
		n, err := f.Read(buf)
		h.Write(buf[:n])
		for _, c := range buf[:n] {
			if c == '\n' {
				lines++
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", 0, err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), lines, nil
}

// batchID names a batch after what it issues from: the same type,
// department and file bytes give the same batch, so a rerun resumes it.
func batchID(typeKey, deptKey, srcDigest string) string {
	h := signer.NewSM3()
	io.WriteString(h, "elicense-batch\x00"+typeKey+"\x00"+deptKey+"\x00"+srcDigest)
	return "B" + hex.EncodeToString(h.Sum(nil))[:24]
}

func (a *app) runBatch(ctx context.Context, o batchOptions, stdout, stderr io.Writer) error {
	if o.report == "" {
		o.report = o.input + ".report.csv"
	}
	if o.manifest == "" {
		o.manifest = o.input + ".manifest.json"
	}
	if o.cpuProfile != "" {
		pf, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	digest, lines, err := sourceDigest(o.input)
	if err != nil {
		return usageErr(fmt.Errorf("batch: %w", err))
	}
	src, err := batchio.Open(o.input)
	if err != nil {
		return usageErr(fmt.Errorf("batch: %w", err))
	}
	defer src.Close()
	total := -1
	switch strings.ToLower(filepath.Ext(o.input)) {
	case ".csv":
		total = lines - 1 // an estimate: quoted fields may span lines
	case ".jsonl", ".ndjson":
		total = lines
	}
	t, err := a.store.GetType(ctx, o.typeKey)
	if err != nil {
		return fmt.Errorf("batch: type %q: %w", o.typeKey, err)
	}
	if err := matchColumns(src, t); err != nil {
		return headerErr(err, o.input, t, stderr)
	}
	deptKey := o.dept
	if deptKey == "" && len(t.IssuingDepts) == 1 {
		deptKey = t.IssuingDepts[0]
	}
	// Decrypting a key costs one scrypt run and its 64 MB; the department's
	// two keys are decrypted side by side before the pipeline starts, then
	// the memory is handed back, so the peak RSS of a batch is that of the
	// pipeline, not of the key loading.
	err = a.issuing(ctx)
	if err == nil && deptKey != "" {
		err = a.unlockDept(ctx, deptKey)
	}
	debug.FreeOSMemory()
	if err != nil {
		return err
	}
	defer batchGC()()
	if o.out != "" {
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			return err
		}
	}
	rep, err := batchio.CreateReport(o.report)
	if err != nil {
		return err
	}
	defer rep.Close()
	files := &batchio.GroupFiles{Root: a.files.Root, Path: a.files.Path, OutDir: o.out}
	job, err := a.svc.StartBatch(ctx, catalog.BatchRequest{
		Batch: catalog.Batch{ID: batchID(t.Key, deptKey, digest), TypeKey: t.Key, DeptKey: deptKey,
			SourceName: filepath.Base(o.input), SourceDigest: digest, Actor: o.actor},
		Source: src, Total: total, Journal: a.store, Files: files,
		Report: rep.Write, Workers: o.workers,
	})
	var ve *catalog.ValidationError
	if errors.As(err, &ve) {
		return usageErr(err)
	}
	if err != nil {
		return err
	}
	showProgress(job, o, stderr)
	b, runErr := job.Wait()
	p := job.Progress()
	if err := rep.Sync(); err != nil {
		return err
	}
	if runErr != nil {
		return fmt.Errorf("batch stopped after %d rows (rerun the same command to resume): %w", p.Done, runErr)
	}
	m, err := a.writeManifest(ctx, b, t, p, o.manifest)
	if err != nil {
		return fmt.Errorf("batch manifest: %w", err)
	}
	fmt.Fprintf(stdout, "batch %s: %d rows: %d issued, %d existing, %d rejected in %s (%.0f rows/s)\nreport %s\nmanifest %s (%d licenses, root %s)\n",
		b.ID, p.Done, p.Issued, p.Existing, p.Rejected, p.Elapsed.Round(time.Millisecond), p.Rate,
		o.report, o.manifest, m.Merkle.Leaves, m.Merkle.Root)
	if p.Rejected > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d row(s) rejected: see %s", p.Rejected, o.report)}
	}
	return nil
}

// showProgress draws a bar with rate and ETA on a terminal, or prints a
// line every o.every otherwise, until the job stops.
func showProgress(job *catalog.BatchJob, o batchOptions, w io.Writer) {
	mode := o.progress
	if mode == "auto" {
		mode = "lines"
		if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			mode = "bar"
		}
	}
	switch mode {
	case "none":
		<-job.Done()
	case "bar":
		total := job.Progress().Total
		bar := progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("batch"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("licenses"),
			progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-job.Done():
				bar.Set(job.Progress().Done)
				bar.Finish()
				return
			case <-tick.C:
				bar.Set(job.Progress().Done)
			}
		}
	default:
		tick := time.NewTicker(o.every)
		defer tick.Stop()
		for {
			select {
			case <-job.Done():
				return
			case <-tick.C:
				fmt.Fprintln(w, progressLine(job.Progress()))
			}
		}
	}
}

func progressLine(p catalog.BatchProgress) string {
	of, eta := "", ""
	if p.Total > 0 {
		of = fmt.Sprintf("/%d", p.Total)
		if p.Rate > 0 && p.Total > p.Done {
			eta = ", ETA " + time.Duration(float64(p.Total-p.Done)/p.Rate*float64(time.Second)).Round(time.Second).String()
		}
	}
	return fmt.Sprintf("batch: %d%s rows (issued %d, existing %d, rejected %d), %.0f rows/s%s",
		p.Done, of, p.Issued, p.Existing, p.Rejected, p.Rate, eta)
}

// batchGC sets the collector's target to 200 % for a batch pipeline and
// returns the function that sets it back; an operator's GOGC is left alone.
// The pipeline's live heap is small (tens of MB) and its garbage is mostly
// per-license buffers: collecting at 3× the live heap instead of 2× halves
// the collector's share of the CPU for a few tens of MB. (serve keeps Go's
// default for its API jobs: there it gained no clear speed and cost 70 MB
// of peak RSS, see docs/performance.md.)
func batchGC() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	prev := debug.SetGCPercent(200)
	return func() { debug.SetGCPercent(prev) }
}

// matchColumns names the columns of a CSV or XLSX source by the type's item
// keys (see catalog.MatchColumns) before anything is written for the batch.
func matchColumns(src catalog.RowSource, t *catalog.LicenseType) error {
	cs, ok := src.(catalog.ColumnSource)
	if !ok {
		return nil
	}
	keys, err := catalog.MatchColumns(t, cs.Columns())
	if err != nil {
		return err
	}
	cs.SetColumns(keys)
	return nil
}

func newBatchTemplateCommand(g *globalFlags) *cobra.Command {
	var typeKey, out string
	cmd := &cobra.Command{
		Use:   "template --type KEY --out FILE.xlsx|FILE.csv",
		Short: "Write an empty batch file for a type: the header row of item labels (XLSX: text columns, drop-down lists, a sheet of notes)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ext := strings.ToLower(filepath.Ext(out))
			if typeKey == "" || out == "" || ext != ".xlsx" && ext != ".csv" {
				return usageErr(fmt.Errorf("batch template: --type and --out FILE.xlsx or FILE.csv are required"))
			}
			a, err := openCLI(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			t, err := a.store.GetType(cmd.Context(), typeKey)
			if err != nil {
				return fmt.Errorf("batch template: type %q: %w", typeKey, err)
			}
			var buf bytes.Buffer
			if ext == ".csv" {
				err = batchio.WriteCSVTemplate(&buf, t)
			} else {
				err = batchio.WriteXLSXTemplate(&buf, t)
			}
			if err == nil {
				err = os.WriteFile(out, buf.Bytes(), 0o644)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d columns of %s (%s)\n", out, len(t.Items), t.Key, t.Name)
			return nil
		},
	}
	cmd.Flags().StringVar(&typeKey, "type", "", "license type key")
	cmd.Flags().StringVar(&out, "out", "", "where to write: .xlsx or .csv")
	return cmd
}

// headerErr prints the problems of a header row that does not fit t, one
// per line, and returns exit 3.
func headerErr(err error, input string, t *catalog.LicenseType, stderr io.Writer) error {
	var ve *catalog.ValidationError
	if errors.As(err, &ve) {
		fmt.Fprintf(stderr, "the columns of %s do not fit %s (%s):\n", filepath.Base(input), t.Key, t.Name)
		for _, p := range ve.Problems {
			fmt.Fprintf(stderr, "  %s\t%s\t%s\n", p.Item, p.Code, p.Message)
		}
		err = fmt.Errorf("batch: %d problem(s) with the header row; nothing done", len(ve.Problems))
	}
	return usageErr(err)
}

func newBatchCheckCommand(g *globalFlags) *cobra.Command {
	var typeKey, input, dept, report, actor string
	cmd := &cobra.Command{
		Use:   "check --type KEY --input FILE [--dept KEY] [--report FILE]",
		Short: "Check a batch file without issuing: per row, valid (would be issued), existing or rejected with its problems",
		Long: `Read every row of FILE as "elicense batch" would and write what issuing it would do to the
report (default FILE.check.csv, the batch report's columns with the outcome valid, existing or
rejected): nothing is rendered, sealed or stored. Exit status 1 when any row would be rejected.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if typeKey == "" || input == "" {
				return usageErr(fmt.Errorf("batch check: --type and --input are required"))
			}
			if report == "" {
				report = input + ".check.csv"
			}
			a, err := openCLI(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			ctx := cmd.Context()
			t, err := a.store.GetType(ctx, typeKey)
			if err != nil {
				return fmt.Errorf("batch check: type %q: %w", typeKey, err)
			}
			src, err := batchio.Open(input)
			if err != nil {
				return usageErr(fmt.Errorf("batch check: %w", err))
			}
			defer src.Close()
			if err := matchColumns(src, t); err != nil {
				return headerErr(err, input, t, cmd.ErrOrStderr())
			}
			if dept == "" && len(t.IssuingDepts) == 1 {
				dept = t.IssuingDepts[0]
			}
			// The template's checks (characters the font lacks, text that
			// does not fit) need the renderer; no key is used.
			e, err := a.Engine()
			if err != nil {
				return err
			}
			a.svc.Renderer = renderer{e: e, now: a.svc.Now}
			rep, err := batchio.CreateReport(report)
			if err != nil {
				return err
			}
			start := time.Now()
			n, err := a.svc.CheckBatch(ctx, t.Key, dept, actor, src, rep.Write)
			if cerr := rep.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "checked %d rows of %s as %s in %s: %d valid, %d existing, %d rejected; report %s\n",
				n.Rows, filepath.Base(input), t.Key, time.Since(start).Round(time.Millisecond), n.Valid, n.Existing, n.Rejected, report)
			if n.Rejected > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d row(s) would be rejected; see %s", n.Rejected, report)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&typeKey, "type", "", "license type key")
	f.StringVar(&input, "input", "", "rows: .csv, .xlsx or .jsonl")
	f.StringVar(&dept, "dept", "", "issuing department key (default: the type's only issuing department)")
	f.StringVar(&report, "report", "", "per-row report (default <input>.check.csv)")
	f.StringVar(&actor, "actor", defaultActor(), "who checks (for the department's permission)")
	return cmd
}
