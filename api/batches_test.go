package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"elicense/api"
	"elicense/catalog"
	"elicense/catalog/catalogtest"
)

// fakeBatches records what the handler streams to it.
type fakeBatches struct {
	received  []byte
	limit     int64
	discarded []string
	started   []api.BatchStart
}

func (f *fakeBatches) Receive(_ context.Context, r io.Reader, limit int64) (string, error) {
	f.limit = limit
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return "", err
	}
	if int64(len(b)) > limit {
		return "", &http.MaxBytesError{Limit: limit}
	}
	f.received = b
	return "upload-1", nil
}

func (f *fakeBatches) Discard(u string) { f.discarded = append(f.discarded, u) }

func (f *fakeBatches) Start(_ context.Context, req api.BatchStart) (api.BatchStatus, error) {
	f.started = append(f.started, req)
	return api.BatchStatus{ID: "B1", Dept: req.Actor.Dept}, nil
}

func (f *fakeBatches) Status(context.Context, string) (api.BatchStatus, error) {
	return api.BatchStatus{}, catalog.ErrNotFound
}

func (f *fakeBatches) Report(context.Context, string) (io.ReadCloser, error) {
	return nil, catalog.ErrNotFound
}

func (f *fakeBatches) Manifest(context.Context, string) (io.ReadCloser, error) {
	return nil, catalog.ErrNotFound
}

func (f *fakeBatches) Check(_ context.Context, req api.BatchStart) (api.BatchCheck, error) {
	f.started = append(f.started, req)
	return api.BatchCheck{Rows: 200, Valid: 200}, nil
}

type part struct{ name, file, value string }

// TestBatchUpload: the file part is streamed to Batches.Receive whatever
// the order of the parts, the name defaults to the file part's name, and an
// upload over the limit, without a type or without a file is refused
// (a received file is then discarded).
func TestBatchUpload(t *testing.T) {
	ms := catalogtest.NewMemStore()
	ctx := context.Background()
	if err := ms.PutDepartment(ctx, &catalog.Department{Key: "d", Name: "部门", USCC: "11340200MB1A23457N"}); err != nil {
		t.Fatal(err)
	}
	p := &catalog.Principal{Name: "部门", Role: catalog.RoleIssuer, Dept: "d"}
	key, err := api.NewKey(rand.Reader, time.Unix(0, 0), p)
	if err != nil {
		t.Fatal(err)
	}
	acc := catalogtest.NewMemAccess()
	if err := acc.PutPrincipal(ctx, p); err != nil {
		t.Fatal(err)
	}
	rows := "holder_name,license_no\n" + strings.Repeat("张三,JY1\n", 200)
	for _, tc := range []struct {
		name     string
		parts    []part
		want     int
		code     string
		source   string
		discards int
	}{
		{"file first", []part{{"file", "a.csv", rows}, {"type", "", "t"}, {"name", "", "rows.jsonl"}}, 202, "", "rows.jsonl", 0},
		{"file last, name from the part", []part{{"type", "", "t"}, {"file", "sheet.xlsx", rows}}, 202, "", "sheet.xlsx", 0},
		{"too large", []part{{"type", "", "t"}, {"file", "a.csv", rows + strings.Repeat("x", 2000)}}, 413, "too_large", "", 0},
		{"no type", []part{{"file", "a.csv", rows}}, 400, "missing_field", "", 1},
		{"no file", []part{{"type", "", "t"}}, 400, "missing_field", "", 0},
		{"two files", []part{{"file", "a.csv", rows}, {"file", "b.csv", rows}, {"type", "", "t"}}, 400, "bad_multipart", "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fb := &fakeBatches{}
			h := api.New(api.Deps{Store: ms, Access: acc, Batches: fb, Limits: api.Limits{MaxBatchUpload: int64(len(rows) + 100)}})
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			for _, p := range tc.parts {
				var w io.Writer
				if p.file != "" {
					w, _ = mw.CreateFormFile(p.name, p.file)
				} else {
					w, _ = mw.CreateFormField(p.name)
				}
				io.WriteString(w, p.value)
			}
			mw.Close()
			r := httptest.NewRequest("POST", "/api/v1/batches", &body)
			r.Header.Set("Content-Type", mw.FormDataContentType())
			r.Header.Set("Authorization", "Bearer "+key)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			var eb struct{ Error struct{ Code string } }
			json.Unmarshal(rec.Body.Bytes(), &eb)
			if rec.Code != tc.want || eb.Error.Code != tc.code {
				t.Fatalf("%d %s, want %d %s", rec.Code, rec.Body, tc.want, tc.code)
			}
			if len(fb.discarded) != tc.discards {
				t.Fatalf("discarded %v, want %d", fb.discarded, tc.discards)
			}
			if tc.want != 202 {
				if len(fb.started) != 0 {
					t.Fatal("a refused upload was started")
				}
				return
			}
			if string(fb.received) != rows || fb.limit != int64(len(rows)+100) {
				t.Fatalf("received %d bytes with limit %d", len(fb.received), fb.limit)
			}
			if len(fb.started) != 1 || fb.started[0].SourceName != tc.source || fb.started[0].Upload != "upload-1" || fb.started[0].TypeKey != "t" {
				t.Fatalf("started %+v", fb.started)
			}
			if loc := rec.Header().Get("Location"); loc != "/api/v1/batches/B1" {
				t.Fatalf("Location %q", loc)
			}
		})
	}
}
