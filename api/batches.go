package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"elicense/catalog"
)

// Batches runs batch issuing (批量签发) jobs in the background.
type Batches interface {
	// Start checks the request and starts the job; a *catalog.ValidationError
	// for a bad source or type, catalog.ErrForbidden when the department
	// may not issue the type.
	Start(ctx context.Context, req BatchStart) (BatchStatus, error)
	// Status returns the job's progress, catalog.ErrNotFound for an unknown ID.
	Status(ctx context.Context, id string) (BatchStatus, error)
}

// BatchStart asks for one batch.
type BatchStart struct {
	TypeKey    string
	Actor      catalog.Actor // Actor.Dept: USCC of the issuing department
	SourceName string        // the uploaded file's name; .csv or .jsonl
	Data       []byte
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
	who := callerOf(c)
	data, fields, err := s.readUpload(c)
	if err == nil && strings.TrimSpace(fields["type"]) == "" {
		err = fieldRequired("type", "必须指定证照类型 (type)")
	}
	var st BatchStatus
	if err == nil {
		name := fields["name"]
		if name == "" {
			name = "upload.csv"
		}
		st, err = s.Batches.Start(c.Request.Context(), BatchStart{TypeKey: strings.TrimSpace(fields["type"]), Actor: who.actor(), SourceName: name, Data: data})
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.lists.invalidate()
	c.Header("Location", "/api/v1/batches/"+url.PathEscape(st.ID))
	c.JSON(http.StatusAccepted, st)
}

func (s *server) getBatch(c *gin.Context) {
	if s.Batches == nil {
		s.fail(c, errUnavailable)
		return
	}
	who := callerOf(c)
	st, err := s.Batches.Status(c.Request.Context(), c.Param("id"))
	if err == nil && st.Dept != who.deptUSCC {
		err = fmt.Errorf("api: batch %s: %w", st.ID, errForbidden)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if st.Done > 0 {
		s.lists.invalidate()
	}
	c.JSON(http.StatusOK, st)
}
