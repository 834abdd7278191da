package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"elicense/api"
	"elicense/catalog"
	"elicense/catalog/batchio"
	"elicense/signer"
)

// apiBatches runs the batches uploaded through the API (POST /api/v1/batches)
// in the background of the server process. Jobs are kept in memory: after a
// restart GET answers 404, and uploading the same file again resumes the batch
// from its journal.
type apiBatches struct {
	a    *app
	mu   sync.Mutex
	jobs map[string]*apiJob
}

type apiJob struct {
	job      *catalog.BatchJob
	typeKey  string
	deptUSCC string
	mu       sync.Mutex
	problems []api.BatchProblem
}

const maxReportedProblems = 100

func (b *apiBatches) Start(ctx context.Context, req api.BatchStart) (api.BatchStatus, error) {
	t, err := b.a.store.GetType(ctx, req.TypeKey)
	if err != nil {
		return api.BatchStatus{}, fmt.Errorf("batch: type %q: %w", req.TypeKey, err)
	}
	depts, err := b.a.store.ListDepartments(ctx)
	if err != nil {
		return api.BatchStatus{}, err
	}
	deptKey := ""
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
		return api.BatchStatus{}, fmt.Errorf("batch: department may not issue %q: %w", t.Key, catalog.ErrForbidden)
	}
	var src catalog.RowSource
	total := bytes.Count(req.Data, []byte("\n"))
	switch strings.ToLower(filepath.Ext(req.SourceName)) {
	case ".jsonl", ".ndjson":
		src = batchio.NewJSONL(bytes.NewReader(req.Data))
	default:
		c, err := batchio.NewCSV(bytes.NewReader(req.Data))
		if err != nil {
			return api.BatchStatus{}, &catalog.ValidationError{Problems: []catalog.FieldError{{Item: "file", Code: catalog.CodeBadValue, Message: err.Error()}}}
		}
		src, total = c, total-1
	}
	h := signer.NewSM3()
	h.Write(req.Data)
	digest := hex.EncodeToString(h.Sum(nil))
	id := batchID(t.Key, deptKey, digest)
	b.mu.Lock()
	defer b.mu.Unlock()
	if j, ok := b.jobs[id]; ok {
		select {
		case <-j.job.Done():
		default:
			return b.status(id, j), nil // already running
		}
	}
	j := &apiJob{typeKey: t.Key, deptUSCC: req.Actor.Dept}
	files := &batchio.GroupFiles{Root: b.a.files.Root, Path: b.a.files.Path}
	// The job outlives the request that started it.
	job, err := b.a.svc.StartBatch(context.WithoutCancel(ctx), catalog.BatchRequest{
		Batch: catalog.Batch{ID: id, TypeKey: t.Key, DeptKey: deptKey, SourceName: filepath.Base(req.SourceName),
			SourceDigest: digest, Actor: req.Actor.Name},
		Source: src, Total: total, Journal: b.a.store, Files: files,
		Report: func(r catalog.BatchResult) error {
			if r.Outcome == catalog.OutcomeRejected {
				j.mu.Lock()
				if len(j.problems) < maxReportedProblems {
					j.problems = append(j.problems, api.NewBatchProblem(r.Row, r.SourceKey, r.Problems))
				}
				j.mu.Unlock()
			}
			return nil
		},
	})
	if err != nil {
		return api.BatchStatus{}, err
	}
	j.job = job
	if b.jobs == nil {
		b.jobs = map[string]*apiJob{}
	}
	b.jobs[id] = j
	return b.status(id, j), nil
}

func (b *apiBatches) Status(_ context.Context, id string) (api.BatchStatus, error) {
	b.mu.Lock()
	j, ok := b.jobs[id]
	b.mu.Unlock()
	if !ok {
		return api.BatchStatus{}, fmt.Errorf("batch %s: %w", id, catalog.ErrNotFound)
	}
	return b.status(id, j), nil
}

func (b *apiBatches) status(id string, j *apiJob) api.BatchStatus {
	p := j.job.Progress()
	st := api.BatchStatus{ID: id, Type: j.typeKey, Dept: j.deptUSCC, Total: p.Total, Done: p.Done, Issued: p.Issued,
		Existing: p.Existing, Rejected: p.Rejected, Rate: p.Rate, Finished: p.Finished}
	select {
	case <-j.job.Done():
		if _, err := j.job.Wait(); err != nil {
			st.Error = err.Error()
		}
	default:
	}
	j.mu.Lock()
	st.Problems = append([]api.BatchProblem(nil), j.problems...)
	j.mu.Unlock()
	return st
}
