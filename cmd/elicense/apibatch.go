package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"elicense/api"
	"elicense/catalog"
	"elicense/catalog/batchio"
)

// apiBatches runs the batches uploaded through the API (POST /api/v1/batches)
// and the console in the background of the server process. An upload is
// streamed to <data-dir>/batches/incoming while it arrives; a finished job
// leaves its per-row report and, when every row was processed, its signed
// manifest in <data-dir>/batches/<batch ID>/. Running jobs are kept in
// memory; any other batch is described from its journal and those files,
// and uploading the same file again resumes it.
type apiBatches struct {
	a    *app
	mu   sync.Mutex
	jobs map[string]*apiJob
}

type apiJob struct {
	job      *catalog.BatchJob
	typeKey  string
	deptUSCC string
	done     chan struct{} // closed when the report (and manifest) are written
	mu       sync.Mutex
	problems []api.BatchProblem
	report   bool // report.csv written
	manifest bool // manifest.json written
}

const maxReportedProblems = 100

func (b *apiBatches) dir() string { return filepath.Join(b.a.cfg.DataDir, "batches") }

func (b *apiBatches) incoming() string { return filepath.Join(b.dir(), "incoming") }

var uploadName = regexp.MustCompile(`^upload-[0-9a-f]{24}$`)

// Receive implements api.Batches: the file is written to the incoming
// folder as it arrives.
func (b *apiBatches) Receive(_ context.Context, r io.Reader, limit int64) (string, error) {
	if err := os.MkdirAll(b.incoming(), 0o700); err != nil {
		return "", err
	}
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", err
	}
	name := "upload-" + hex.EncodeToString(rnd[:])
	path := filepath.Join(b.incoming(), name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	n, err := io.Copy(f, io.LimitReader(r, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > limit {
		err = &http.MaxBytesError{Limit: limit}
	}
	if err != nil {
		os.Remove(path)
		return "", fmt.Errorf("batch upload: %w", err)
	}
	return name, nil
}

// Discard implements api.Batches.
func (b *apiBatches) Discard(upload string) {
	if uploadName.MatchString(upload) {
		os.Remove(filepath.Join(b.incoming(), upload))
	}
}

// sourceKinds are the extensions a batch source may have.
var sourceKinds = map[string]bool{".csv": true, ".xlsx": true, ".jsonl": true, ".ndjson": true}

func badFile(msg string) error {
	return &catalog.ValidationError{Problems: []catalog.FieldError{{Item: "file", Code: catalog.CodeBadValue, Message: msg}}}
}

// prepare checks what Start and Check share: the file kind by the
// source's name (the extension batchio will read it by), the type, and
// that the caller's department issues it.
func (b *apiBatches) prepare(ctx context.Context, req api.BatchStart) (ext string, t *catalog.LicenseType, deptKey string, err error) {
	ext = strings.ToLower(filepath.Ext(req.SourceName))
	switch {
	case ext == ".xls" || ext == ".et":
		return "", nil, "", badFile("不支持旧版 Excel/WPS 表格格式，请另存为 .xlsx 或 .csv 后上传")
	case !sourceKinds[ext]:
		ext = ".csv" // any other name is read as CSV
	}
	t, err = b.a.store.GetType(ctx, req.TypeKey)
	if err != nil {
		return "", nil, "", fmt.Errorf("batch: type %q: %w", req.TypeKey, err)
	}
	depts, err := b.a.store.ListDepartments(ctx)
	if err != nil {
		return "", nil, "", err
	}
	for _, d := range depts {
		if d.USCC == req.Actor.Dept {
			deptKey = d.Key
		}
	}
	allowed := false
	for _, k := range t.IssuingDepts {
		allowed = allowed || k == deptKey && deptKey != ""
	}
	if !allowed {
		return "", nil, "", fmt.Errorf("batch: department may not issue %q: %w", t.Key, catalog.ErrForbidden)
	}
	return ext, t, deptKey, nil
}

// Check implements api.Batches: the rows are checked as a batch would
// issue them, nothing is issued, and the upload is removed.
func (b *apiBatches) Check(ctx context.Context, req api.BatchStart) (api.BatchCheck, error) {
	if !uploadName.MatchString(req.Upload) {
		return api.BatchCheck{}, fmt.Errorf("batch: no such upload: %w", catalog.ErrInvalid)
	}
	upload := filepath.Join(b.incoming(), req.Upload)
	defer os.Remove(upload)
	ext, t, deptKey, err := b.prepare(ctx, req)
	if err != nil {
		return api.BatchCheck{}, err
	}
	src := upload + ext // batchio reads by extension
	if err := os.Rename(upload, src); err != nil {
		return api.BatchCheck{}, err
	}
	defer os.Remove(src)
	rows, err := batchio.Open(src)
	if err != nil {
		return api.BatchCheck{}, badFile(err.Error())
	}
	defer rows.Close()
	out := api.BatchCheck{Type: t.Key, Dept: req.Actor.Dept}
	n, err := b.a.svc.CheckBatch(ctx, t.Key, deptKey, req.Actor.Name, rows, func(r catalog.BatchResult) error {
		if r.Outcome == catalog.OutcomeRejected && len(out.Problems) < maxReportedProblems {
			out.Problems = append(out.Problems, api.NewBatchProblem(r.Row, r.SourceKey, r.Problems))
		}
		return nil
	})
	if err != nil {
		return api.BatchCheck{}, err
	}
	out.Rows, out.Valid, out.Existing, out.Rejected = n.Rows, n.Valid, n.Existing, n.Rejected
	return out, nil
}

// Start implements api.Batches.
func (b *apiBatches) Start(ctx context.Context, req api.BatchStart) (api.BatchStatus, error) {
	if !uploadName.MatchString(req.Upload) {
		return api.BatchStatus{}, fmt.Errorf("batch: no such upload: %w", catalog.ErrInvalid)
	}
	upload := filepath.Join(b.incoming(), req.Upload)
	started := false
	defer func() {
		if !started {
			os.Remove(upload)
		}
	}()
	ext, t, deptKey, err := b.prepare(ctx, req)
	if err != nil {
		return api.BatchStatus{}, err
	}
	digest, lines, err := sourceDigest(upload)
	if err != nil {
		return api.BatchStatus{}, err
	}
	id := batchID(t.Key, deptKey, digest)
	b.mu.Lock()
	defer b.mu.Unlock()
	if j, ok := b.jobs[id]; ok {
		select {
		case <-j.done:
		default:
			return b.status(id, j), nil // already running
		}
	}
	// The source keeps its extension, by which batchio reads it.
	src := upload + ext
	if err := os.Rename(upload, src); err != nil {
		return api.BatchStatus{}, err
	}
	upload = src
	rows, err := batchio.Open(src)
	if err != nil {
		return api.BatchStatus{}, badFile(err.Error())
	}
	if err := matchColumns(rows, t); err != nil {
		rows.Close()
		return api.BatchStatus{}, err
	}
	total := -1
	switch ext {
	case ".csv":
		total = lines - 1
	case ".jsonl", ".ndjson":
		total = lines
	}
	out := filepath.Join(b.dir(), id)
	if err := os.MkdirAll(out, 0o700); err != nil {
		rows.Close()
		return api.BatchStatus{}, err
	}
	rep, err := batchio.CreateReport(filepath.Join(out, "report.csv.tmp"))
	if err != nil {
		rows.Close()
		return api.BatchStatus{}, err
	}
	j := &apiJob{typeKey: t.Key, deptUSCC: req.Actor.Dept, done: make(chan struct{})}
	files := &batchio.GroupFiles{Root: b.a.files.Root, Path: b.a.files.Path}
	// The job outlives the request that started it.
	bg := context.WithoutCancel(ctx)
	job, err := b.a.svc.StartBatch(bg, catalog.BatchRequest{
		Batch: catalog.Batch{ID: id, TypeKey: t.Key, DeptKey: deptKey, SourceName: filepath.Base(req.SourceName),
			SourceDigest: digest, Actor: req.Actor.Name},
		Source: rows, Total: total, Journal: b.a.store, Files: files,
		Report: func(r catalog.BatchResult) error {
			if r.Outcome == catalog.OutcomeRejected {
				j.mu.Lock()
				if len(j.problems) < maxReportedProblems {
					j.problems = append(j.problems, api.NewBatchProblem(r.Row, r.SourceKey, r.Problems))
				}
				j.mu.Unlock()
			}
			return rep.Write(r)
		},
	})
	if err != nil {
		rows.Close()
		rep.Close()
		os.Remove(rep.Name())
		return api.BatchStatus{}, err
	}
	started = true
	j.job = job
	if b.jobs == nil {
		b.jobs = map[string]*apiJob{}
	}
	b.jobs[id] = j
	go func() {
		defer close(j.done)
		defer os.Remove(upload)
		bt, runErr := job.Wait()
		rows.Close()
		err := errors.Join(rep.Sync(), rep.Close())
		if err == nil {
			err = os.Rename(rep.Name(), filepath.Join(out, "report.csv"))
		}
		if err != nil {
			b.a.log.Error("batch report", "batch", id, "err", err)
			return
		}
		j.mu.Lock()
		j.report = true
		j.mu.Unlock()
		// The final status outlives the process (see Status).
		defer func() {
			st := b.status(id, j)
			st.Finished = true
			if runErr != nil {
				st.Error = runErr.Error()
			}
			if err := writeFinalStatus(filepath.Join(out, finalStatusName), bt, st); err != nil {
				b.a.log.Error("batch status", "batch", id, "err", err)
			}
		}()
		if runErr != nil {
			return
		}
		if _, err := b.a.writeManifest(bg, bt, t, job.Progress(), filepath.Join(out, "manifest.json")); err != nil {
			b.a.log.Error("batch manifest", "batch", id, "err", err)
			return
		}
		j.mu.Lock()
		j.manifest = true
		j.mu.Unlock()
	}()
	return b.status(id, j), nil
}

// Status implements api.Batches. A batch this process has not run (one
// started before a restart, or by `elicense batch`) is described by the
// status its last run left in status.json when that run was an API run that
// ended (same counts, problems and error as before the restart); otherwise
// from its journal: the rows it has issued over all its runs, and whether
// its last run completed.
func (b *apiBatches) Status(ctx context.Context, id string) (api.BatchStatus, error) {
	if j, err := b.job(id); err == nil {
		return b.status(id, j), nil
	}
	bt, err := b.a.store.GetBatch(ctx, id)
	if err != nil {
		return api.BatchStatus{}, err
	}
	d, err := b.a.store.GetDepartment(ctx, bt.DeptKey)
	if err != nil {
		return api.BatchStatus{}, err
	}
	if st, ok := readFinalStatus(filepath.Join(b.dir(), id, finalStatusName), bt); ok {
		return st, nil
	}
	st := api.BatchStatus{ID: id, Type: bt.TypeKey, Dept: d.USCC, Total: -1, Finished: true}
	err = b.a.store.BatchEntries(ctx, id, func(catalog.BatchEntry) error { st.Issued++; return nil })
	if err != nil {
		return api.BatchStatus{}, err
	}
	st.Done = st.Issued
	if bt.Finished.IsZero() {
		st.Error = "batch interrupted; upload the same file again to resume it"
	}
	if fileExists(filepath.Join(b.dir(), id, "report.csv")) {
		st.Report = "/api/v1/batches/" + id + "/report"
	}
	if !bt.Finished.IsZero() && fileExists(filepath.Join(b.dir(), id, "manifest.json")) {
		st.Manifest = "/api/v1/batches/" + id + "/manifest"
	}
	return st, nil
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

func (b *apiBatches) job(id string) (*apiJob, error) {
	b.mu.Lock()
	j, ok := b.jobs[id]
	b.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("batch %s: %w", id, catalog.ErrNotFound)
	}
	return j, nil
}

// Report implements api.Batches.
func (b *apiBatches) Report(ctx context.Context, id string) (io.ReadCloser, error) {
	return b.output(ctx, id, "report.csv", func(j *apiJob) bool { return j.report }, false)
}

// Manifest implements api.Batches.
func (b *apiBatches) Manifest(ctx context.Context, id string) (io.ReadCloser, error) {
	return b.output(ctx, id, "manifest.json", func(j *apiJob) bool { return j.manifest }, true)
}

// output opens one of the batch's files: for a job of this process once it
// has written it, for any other batch in the journal when it is on disk
// (the manifest only when the batch's last run completed).
func (b *apiBatches) output(ctx context.Context, id, name string, written func(*apiJob) bool, needsFinish bool) (io.ReadCloser, error) {
	ok := false
	if j, err := b.job(id); err == nil {
		j.mu.Lock()
		ok = written(j)
		j.mu.Unlock()
	} else {
		bt, err := b.a.store.GetBatch(ctx, id)
		if err != nil {
			return nil, err
		}
		ok = !needsFinish || !bt.Finished.IsZero()
	}
	var f *os.File
	err := fmt.Errorf("batch %s: no %s (yet): %w", id, name, catalog.ErrNotFound)
	if ok {
		if f, err = os.Open(filepath.Join(b.dir(), id, name)); errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("batch %s: %s: %w", id, name, catalog.ErrNotFound)
		}
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (b *apiBatches) status(id string, j *apiJob) api.BatchStatus {
	p := j.job.Progress()
	st := api.BatchStatus{ID: id, Type: j.typeKey, Dept: j.deptUSCC, Total: p.Total, Done: p.Done, Issued: p.Issued,
		Existing: p.Existing, Rejected: p.Rejected, Rate: p.Rate}
	select {
	case <-j.done:
		st.Finished = true
		if _, err := j.job.Wait(); err != nil {
			st.Error = err.Error()
		}
	default:
	}
	j.mu.Lock()
	st.Problems = append([]api.BatchProblem(nil), j.problems...)
	if j.report {
		st.Report = "/api/v1/batches/" + id + "/report"
	}
	if j.manifest {
		st.Manifest = "/api/v1/batches/" + id + "/manifest"
	}
	j.mu.Unlock()
	return st
}

// finalStatusName is the file in which an API batch run that ended leaves
// its last status.
const finalStatusName = "status.json"

// finalStatus is status.json: the status and the journal's run number it
// belongs to, so that a later run (say from the CLI, or one killed before
// it ended) makes it stale.
type finalStatus struct {
	Run    int             `json:"run"`
	Status api.BatchStatus `json:"status"`
}

func writeFinalStatus(path string, bt *catalog.Batch, st api.BatchStatus) error {
	if bt == nil {
		return errors.New("no batch")
	}
	b, err := json.Marshal(finalStatus{Run: bt.Runs, Status: st})
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// readFinalStatus returns the stored status when it belongs to the batch's
// last run; the links are kept only for files that are still there.
func readFinalStatus(path string, bt *catalog.Batch) (api.BatchStatus, bool) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return api.BatchStatus{}, false
	}
	var saved finalStatus
	if json.Unmarshal(raw, &saved) != nil || saved.Run != bt.Runs || saved.Status.ID != bt.ID {
		return api.BatchStatus{}, false
	}
	st := saved.Status
	dir := filepath.Dir(path)
	if st.Report != "" && !fileExists(filepath.Join(dir, "report.csv")) {
		st.Report = ""
	}
	if st.Manifest != "" && (bt.Finished.IsZero() || !fileExists(filepath.Join(dir, "manifest.json"))) {
		st.Manifest = ""
	}
	return st, true
}
