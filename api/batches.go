package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/gin-gonic/gin"

	"elicense/catalog"
)

// Batches runs batch issuing (批量签发) jobs in the background.
type Batches interface {
	// Receive stores an uploaded source file while it streams in and
	// returns a handle for Start or Discard. A file of more than limit
	// bytes is not kept; the error is then an *http.MaxBytesError.
	Receive(ctx context.Context, r io.Reader, limit int64) (upload string, err error)
	// Discard removes a received file that will not be started.
	Discard(upload string)
	// Start checks the request and starts the job; a *catalog.ValidationError
	// for a bad source or type, catalog.ErrForbidden when the department
	// may not issue the type. Start owns the upload, also when it fails.
	Start(ctx context.Context, req BatchStart) (BatchStatus, error)
	// Status returns the job's progress, catalog.ErrNotFound for an unknown ID.
	Status(ctx context.Context, id string) (BatchStatus, error)
	// Report and Manifest open the finished job's per-row report (CSV) and
	// signed manifest (JSON); catalog.ErrNotFound while the job runs, for
	// an unknown ID, and for the manifest of a job that stopped early.
	Report(ctx context.Context, id string) (io.ReadCloser, error)
	Manifest(ctx context.Context, id string) (io.ReadCloser, error)
	// Check reads every row as Start would issue it and says what issuing
	// would do, issuing nothing; errors as Start's. Check owns the upload.
	Check(ctx context.Context, req BatchStart) (BatchCheck, error)
}

// BatchCheck is the answer of POST /api/v1/batches/check.
type BatchCheck struct {
	Type     string         `json:"type"`
	Dept     string         `json:"dept"`
	Rows     int            `json:"rows"`
	Valid    int            `json:"valid"`    // would be issued
	Existing int            `json:"existing"` // number already in force
	Rejected int            `json:"rejected"`
	Problems []BatchProblem `json:"problems,omitempty"` // the first rejected rows
}

// BatchStart asks for one batch.
type BatchStart struct {
	TypeKey    string
	Actor      catalog.Actor // Actor.Dept: USCC of the issuing department
	SourceName string        // the uploaded file's name: .csv, .xlsx, .jsonl
	Upload     string        // the handle Receive returned
}

// BatchStatus is the job resource.
type BatchStatus struct {
	ID       string         `json:"id"`
	Type     string         `json:"type"`
	Dept     string         `json:"dept"` // USCC of the issuing department
	Total    int            `json:"total"`
	Done     int            `json:"done"`
	Issued   int            `json:"issued"`
	Existing int            `json:"existing"`
	Rejected int            `json:"rejected"`
	Rate     float64        `json:"rate"`
	Finished bool           `json:"finished"`
	Report   string         `json:"report,omitempty"`   // path of the per-row report, once finished
	Manifest string         `json:"manifest,omitempty"` // path of the signed manifest, once finished without error
	Error    string         `json:"error,omitempty"`
	Problems []BatchProblem `json:"problems,omitempty"`
}

// BatchProblem is one rejected row (the first ones only).
type BatchProblem struct {
	Row    int          `json:"row"`
	Key    string       `json:"key,omitempty"`
	Fields []fieldError `json:"fields"`
}

// NewBatchProblem converts a rejected row's problems.
func NewBatchProblem(row int, key string, probs []catalog.FieldError) BatchProblem {
	f := toFields(probs)
	if f == nil {
		f = []fieldError{}
	}
	return BatchProblem{Row: row, Key: key, Fields: f}
}

func (s *server) startBatch(c *gin.Context) {
	if s.Batches == nil {
		s.fail(c, errUnavailable)
		return
	}
	req, err := s.batchStart(c)
	var st BatchStatus
	if err == nil {
		st, err = s.Batches.Start(c.Request.Context(), req)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.lists.invalidate()
	c.Header("Location", "/api/v1/batches/"+url.PathEscape(st.ID))
	c.JSON(http.StatusAccepted, st)
}

// checkBatch checks an uploaded batch file without issuing (预校验).
func (s *server) checkBatch(c *gin.Context) {
	if s.Batches == nil {
		s.fail(c, errUnavailable)
		return
	}
	req, err := s.batchStart(c)
	var out BatchCheck
	if err == nil {
		out, err = s.Batches.Check(c.Request.Context(), req)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// batchStart reads the upload and the type of a batch request.
func (s *server) batchStart(c *gin.Context) (BatchStart, error) {
	upload, fields, err := s.readBatchUpload(c)
	if err != nil {
		return BatchStart{}, err
	}
	if strings.TrimSpace(fields["type"]) == "" {
		s.Batches.Discard(upload)
		return BatchStart{}, fieldRequired("type", "必须指定证照类型 (type)")
	}
	return BatchStart{TypeKey: strings.TrimSpace(fields["type"]), Actor: callerOf(c).actor(), SourceName: fields["name"], Upload: upload}, nil
}

// readBatchUpload streams the "file" part of a multipart body to
// Batches.Receive (up to Limits.MaxBatchUpload) and returns the handle and
// the small text parts (type, name) in whatever order they come. The name
// defaults to the file part's file name, then to upload.csv.
func (s *server) readBatchUpload(c *gin.Context) (string, map[string]string, error) {
	upload, fileName := "", ""
	fields, err := s.readMultipart(c, s.lim.MaxBatchUpload, func(part *multipart.Part) error {
		if upload != "" {
			return badRequest("bad_multipart", "只能上传一个文件")
		}
		fileName = part.FileName()
		var err error
		upload, err = s.Batches.Receive(c.Request.Context(), part, s.lim.MaxBatchUpload)
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			err = &http.MaxBytesError{Limit: s.lim.MaxBatchUpload}
		}
		return err
	})
	if err == nil && upload == "" {
		err = fieldRequired("file", "请选择要上传的批量文件 (file)")
	}
	if err != nil {
		if upload != "" {
			s.Batches.Discard(upload)
		}
		return "", nil, err
	}
	if strings.TrimSpace(fields["name"]) == "" {
		fields["name"] = fileName
	}
	if fields["name"] = filepath.Base(strings.TrimSpace(fields["name"])); fields["name"] == "." || fields["name"] == "/" {
		fields["name"] = "upload.csv"
	}
	return upload, fields, nil
}

// ownBatch returns the status of the caller's department's batch :id.
func (s *server) ownBatch(c *gin.Context) (BatchStatus, error) {
	if s.Batches == nil {
		return BatchStatus{}, errUnavailable
	}
	st, err := s.Batches.Status(c.Request.Context(), c.Param("id"))
	if err == nil && st.Dept != callerOf(c).deptUSCC {
		err = fmt.Errorf("api: batch %s: %w", st.ID, errForbidden)
	}
	return st, err
}

// getBatchReport sends the finished batch's per-row report (CSV).
func (s *server) getBatchReport(c *gin.Context) {
	s.batchFile(c, "text/csv; charset=utf-8", ".report.csv", s.Batches.Report)
}

// getBatchManifest sends the finished batch's signed manifest (JSON).
func (s *server) getBatchManifest(c *gin.Context) {
	s.batchFile(c, "application/json", ".manifest.json", s.Batches.Manifest)
}

func (s *server) batchFile(c *gin.Context, ctype, suffix string, open func(context.Context, string) (io.ReadCloser, error)) {
	st, err := s.ownBatch(c)
	var rc io.ReadCloser
	if err == nil {
		rc, err = open(c.Request.Context(), st.ID)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	defer rc.Close()
	c.DataFromReader(http.StatusOK, -1, ctype, rc, map[string]string{
		"Content-Disposition": `attachment; filename="` + st.ID + suffix + `"`})
}

func (s *server) getBatch(c *gin.Context) {
	st, err := s.ownBatch(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if st.Done > 0 {
		s.lists.invalidate()
	}
	c.JSON(http.StatusOK, st)
}
