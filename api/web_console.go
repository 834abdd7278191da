package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"elicense/catalog"
)

// Issuer console (/console): the department's license types, issuing one
// license from a form generated from the type's items, batch uploads with
// their progress, search, and suspend / resume / revoke with a reason.

// deptTypes are the published types the caller's department issues.
func (s *server) deptTypes(ctx context.Context, who *caller) ([]*catalog.LicenseType, error) {
	ts, err := s.Store.ListTypes(ctx)
	if err != nil {
		return nil, err
	}
	var out []*catalog.LicenseType
	for _, t := range ts {
		if t.Status == catalog.TypePublished && slices.Contains(t.IssuingDepts, who.p.Dept) {
			out = append(out, t)
		}
	}
	return out, nil
}

type consoleHomeView struct {
	Dept     string
	Types    []*catalog.LicenseType
	Statuses []statusOption
}

type statusOption struct {
	Value, Label string
	Selected     bool
}

func statusOptions(sel string) []statusOption {
	out := []statusOption{{Value: "", Label: "全部状态"}}
	for _, st := range []catalog.Status{catalog.StatusIssued, catalog.StatusSuspended, catalog.StatusRevoked, catalog.StatusSuperseded, catalog.StatusExpired} {
		out = append(out, statusOption{Value: string(st), Label: statusText(st)})
	}
	for i := range out {
		out[i].Selected = out[i].Value == sel
	}
	return out
}

func (s *server) consoleHome(c *gin.Context) {
	who := callerOf(c)
	ts, err := s.deptTypes(c.Request.Context(), who)
	if err != nil {
		s.webError(c, err)
		return
	}
	s.page(c, http.StatusOK, "console", view{Title: "部门管理台", Area: areaConsole,
		Data: consoleHomeView{Dept: who.deptName, Types: ts, Statuses: statusOptions("")}})
}

type searchView struct {
	Query    string
	Statuses []statusOption
	Results  []licenseCard
	Searched bool
	Next     string // link to the next page
}

// consoleSearch finds the department's licenses by identifier, license
// number or holder code, optionally by status.
func (s *server) consoleSearch(c *gin.Context) {
	who := callerOf(c)
	ctx := c.Request.Context()
	q := strings.TrimSpace(c.Query("q"))
	status := catalog.Status(c.Query("status"))
	v := searchView{Query: q, Statuses: statusOptions(string(status)), Searched: true}
	now := s.Now()
	keep := func(l *catalog.License) {
		if l.IssuerUSCC == who.deptUSCC && (status == "" || l.StatusAt(now) == status) {
			v.Results = append(v.Results, cardOf(l, now))
		}
	}
	f := catalog.Filter{IssuerUSCC: who.deptUSCC, Status: status}
	if status == catalog.StatusExpired {
		f.Status = catalog.StatusIssued // expiry is computed, not stored
	}
	switch {
	case strings.HasPrefix(q, "1.2.156."):
		l, err := s.Store.Get(ctx, q)
		if err == nil {
			keep(l)
		} else if !errors.Is(err, catalog.ErrNotFound) {
			s.webError(c, err)
			return
		}
	case q == "" || looksLikeHolderCode(q):
		f.HolderCode = catalog.NormalizeIDNumber(q)
		page, err := s.Store.List(ctx, f, c.Query("cursor"), 50)
		if err != nil {
			s.webError(c, err)
			return
		}
		for _, l := range page.Licenses {
			keep(l)
		}
		if page.Next != "" {
			v.Next = "/console/licenses?" + url.Values{"q": {q}, "status": {string(status)}, "cursor": {page.Next}}.Encode()
		}
	default: // a license number, within each of the department's types
		ts, err := s.deptTypes(ctx, who)
		if err != nil {
			s.webError(c, err)
			return
		}
		for _, t := range ts {
			l, err := s.Store.GetByNumber(ctx, t.Key, q)
			if err == nil {
				keep(l)
			} else if !errors.Is(err, catalog.ErrNotFound) {
				s.webError(c, err)
				return
			}
		}
	}
	s.page(c, http.StatusOK, "console_search", view{Title: "查询证照", Area: areaConsole, Wide: true, Data: v})
}

// looksLikeHolderCode: an 18-character ID number or USCC.
func looksLikeHolderCode(q string) bool {
	if len(q) != 18 {
		return false
	}
	for _, r := range q {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}

// formField is one input of the issue form, made from a catalog item.
type formField struct {
	Key, Label, Input, Value, Error, Hint string
	Required                              bool
	MaxLength                             int
	Options                               []string
}

type issueView struct {
	Type   *catalog.LicenseType
	Fields []formField
	Error  string
}

// issueFields makes the form of t with the values and per-item problems.
func issueFields(t *catalog.LicenseType, values, problems map[string]string) []formField {
	var out []formField
	for _, it := range t.Items {
		f := formField{Key: it.Key, Label: it.Label, Required: it.Required, MaxLength: it.MaxLength,
			Value: values[it.Key], Error: problems[it.Key], Options: it.Options}
		if f.MaxLength == 0 {
			f.MaxLength = 200
		}
		switch it.Type {
		case catalog.TypeDate:
			f.Input = "date"
		case catalog.TypeDateLong:
			f.Input, f.Hint = "text", "格式 YYYY-MM-DD，或填写“长期”"
		case catalog.TypeEnum:
			f.Input = "select"
		case catalog.TypePhone:
			f.Input = "tel"
		case catalog.TypeImage:
			f.Input, f.Hint = "file", "PNG 或 JPEG 图片"
		case catalog.TypeIDNumber:
			f.Input, f.Hint = "text", "18 位公民身份号码"
		case catalog.TypeUSCC:
			f.Input, f.Hint = "text", "18 位统一社会信用代码"
		default:
			f.Input = "text"
			if f.MaxLength > 60 {
				f.Input = "textarea"
			}
		}
		out = append(out, f)
	}
	return out
}

// issuableType loads a type the caller's department may issue.
func (s *server) issuableType(c *gin.Context) (*catalog.LicenseType, error) {
	who := callerOf(c)
	t, err := s.Store.GetType(c.Request.Context(), c.Param("type"))
	if err != nil {
		return nil, err
	}
	if t.Status != catalog.TypePublished {
		return nil, fmt.Errorf("api: type %s: %w", t.Key, catalog.ErrUnpublished)
	}
	if !slices.Contains(t.IssuingDepts, who.p.Dept) {
		return nil, fmt.Errorf("api: type %s: not issued by %s: %w", t.Key, who.p.Dept, errForbidden)
	}
	return t, nil
}

func (s *server) consoleIssueForm(c *gin.Context) {
	t, err := s.issuableType(c)
	if err != nil {
		s.webError(c, err)
		return
	}
	s.page(c, http.StatusOK, "console_issue", view{Title: "签发 · " + t.Name, Area: areaConsole,
		Data: issueView{Type: t, Fields: issueFields(t, nil, nil)}})
}

// consoleIssue issues one license from the form (multipart: a photo item
// is a file). Problems come back next to their inputs.
func (s *server) consoleIssue(c *gin.Context) {
	who := callerOf(c)
	t, err := s.issuableType(c)
	if err != nil {
		s.webError(c, err)
		return
	}
	values := map[string]string{}
	var probs []catalog.FieldError
	for _, it := range t.Items {
		if it.Type == catalog.TypeImage {
			fh, ferr := c.FormFile(it.Key)
			if ferr != nil {
				continue
			}
			b, rerr := readFormFile(func() (fileReader, error) { return fh.Open() }, 2<<20)
			if rerr != nil {
				probs = append(probs, catalog.FieldError{Item: it.Key, Code: catalog.CodeBadValue, Message: "图片无法读取或超过 2 MiB"})
				continue
			}
			values[it.Key] = base64.StdEncoding.EncodeToString(b)
			continue
		}
		if v := strings.TrimSpace(c.PostForm(it.Key)); v != "" {
			values[it.Key] = v
		}
	}
	var l *catalog.License
	if len(probs) == 0 {
		l, err = s.Licenses.Issue(c.Request.Context(), catalog.IssueRequest{TypeKey: t.Key, DeptKey: who.p.Dept, Values: values, Actor: who.actor()})
	} else {
		err = &catalog.ValidationError{Problems: probs}
	}
	if err != nil {
		fields, msg := fieldMessages(err)
		shown := map[string]string{}
		for k, v := range values {
			if it, ok := t.Item(k); !ok || it.Type != catalog.TypeImage {
				shown[k] = v
			}
		}
		status := statusOf(err).status
		if status >= 500 {
			s.Logger.Error("web: issue", "err", err, "requestId", requestIDOf(c))
		}
		if other, ok := fields[""]; ok {
			msg += "：" + other
		}
		s.page(c, status, "console_issue", view{Title: "签发 · " + t.Name, Area: areaConsole,
			Data: issueView{Type: t, Fields: issueFields(t, shown, fields), Error: msg}})
		return
	}
	s.metrics.issued.WithLabelValues(l.TypeKey).Inc()
	s.lists.invalidate()
	c.Redirect(http.StatusSeeOther, "/console/l/"+url.PathEscape(l.ID)+"?done=issued")
}

func readFormFile(open func() (fileReader, error), limit int64) ([]byte, error) {
	f, err := open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = errors.New("too large")
	}
	return b, err
}

type fileReader = interface {
	io.Reader
	io.Closer
}

// ownLicense loads a license of the caller's department.
func (s *server) ownLicense(c *gin.Context) (*catalog.License, error) {
	if s.Licenses == nil {
		return nil, errUnavailable
	}
	l, err := s.Licenses.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		return nil, err
	}
	if err := mayRead(callerOf(c), l); err != nil {
		return nil, err
	}
	return l, nil
}

type consoleLicenseView struct {
	Face    *faceView
	Actions []catalog.Action
}

func (s *server) consoleLicense(c *gin.Context) {
	l, err := s.ownLicense(c)
	var f *faceView
	if err == nil {
		f, err = s.face(c.Request.Context(), l, s.Now(), true)
	}
	if err != nil {
		s.webError(c, err)
		return
	}
	var acts []catalog.Action
	for _, a := range []catalog.Action{catalog.ActionSuspend, catalog.ActionResume, catalog.ActionRevoke} {
		if _, err := catalog.Next(l.ID, l.Status, a); err == nil {
			acts = append(acts, a)
		}
	}
	s.page(c, http.StatusOK, "console_license", view{Title: l.TypeName + " " + l.Number, Area: areaConsole,
		Data: consoleLicenseView{Face: f, Actions: acts}})
}

func (s *server) consolePDF(c *gin.Context) {
	l, err := s.ownLicense(c)
	if err != nil {
		s.webError(c, err)
		return
	}
	s.sendFile(c, l, nil)
}

func actionText(a catalog.Action) string {
	switch a {
	case catalog.ActionSuspend:
		return "停用"
	case catalog.ActionResume:
		return "恢复"
	case catalog.ActionRevoke:
		return "注销"
	}
	return string(a)
}

type confirmView struct {
	Face       *faceView
	Action     string
	ActionText string
	Reason     string
	Error      string
	Final      bool // revoking cannot be undone
}

func (s *server) renderConfirm(c *gin.Context, status int, l *catalog.License, act catalog.Action, reason, msg string) {
	f, err := s.face(c.Request.Context(), l, s.Now(), false)
	if err != nil {
		s.webError(c, err)
		return
	}
	s.page(c, status, "console_confirm", view{Title: actionText(act) + "证照", Area: areaConsole,
		Data: confirmView{Face: f, Action: string(act), ActionText: actionText(act), Reason: reason, Error: msg, Final: act == catalog.ActionRevoke}})
}

// consoleConfirm is the confirmation step of a lifecycle change.
func (s *server) consoleConfirm(act catalog.Action) gin.HandlerFunc {
	return func(c *gin.Context) {
		l, err := s.ownLicense(c)
		if err != nil {
			s.webError(c, err)
			return
		}
		s.renderConfirm(c, http.StatusOK, l, act, "", "")
	}
}

// consoleAct suspends, resumes or revokes with the reason given.
func (s *server) consoleAct(act catalog.Action) gin.HandlerFunc {
	return func(c *gin.Context) {
		who := callerOf(c)
		l, err := s.ownLicense(c)
		if err != nil {
			s.webError(c, err)
			return
		}
		reason := strings.TrimSpace(c.PostForm("reason"))
		ctx := c.Request.Context()
		switch act {
		case catalog.ActionSuspend:
			_, err = s.Licenses.Suspend(ctx, l.ID, who.actor(), reason)
		case catalog.ActionResume:
			_, err = s.Licenses.Resume(ctx, l.ID, who.actor(), reason)
		default:
			_, err = s.Licenses.Revoke(ctx, l.ID, who.actor(), reason)
		}
		if err != nil {
			var ve *catalog.ValidationError
			if errors.As(err, &ve) {
				fields, msg := fieldMessages(err)
				if m, ok := fields["reason"]; ok {
					msg = m
				}
				s.renderConfirm(c, http.StatusUnprocessableEntity, l, act, reason, msg)
				return
			}
			s.webError(c, err)
			return
		}
		s.lists.invalidate()
		c.Redirect(http.StatusSeeOther, "/console/l/"+url.PathEscape(l.ID)+"?done="+string(act))
	}
}

// consoleBatchStart starts a batch from an uploaded CSV, XLSX or JSON Lines
// file.
func (s *server) consoleBatchStart(c *gin.Context) {
	req, err := s.consoleBatchForm(c)
	var st BatchStatus
	if err == nil {
		st, err = s.Batches.Start(c.Request.Context(), req)
	}
	if err != nil {
		s.webError(c, err)
		return
	}
	s.lists.invalidate()
	c.Redirect(http.StatusSeeOther, "/console/batches/"+url.PathEscape(st.ID))
}

// consoleBatchForm receives the console's batch upload form.
func (s *server) consoleBatchForm(c *gin.Context) (BatchStart, error) {
	if s.Batches == nil {
		return BatchStart{}, errUnavailable
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return BatchStart{}, fieldRequired("file", "请选择要上传的批量文件")
	}
	f, err := fh.Open()
	if err != nil {
		return BatchStart{}, err
	}
	upload, err := s.Batches.Receive(c.Request.Context(), f, s.lim.MaxBatchUpload)
	f.Close()
	if err != nil {
		return BatchStart{}, err
	}
	return BatchStart{TypeKey: strings.TrimSpace(c.PostForm("type")), Actor: callerOf(c).actor(),
		SourceName: filepath.Base(fh.Filename), Upload: upload}, nil
}

// consoleBatchCheck checks the uploaded file without issuing and shows
// what a batch would do.
func (s *server) consoleBatchCheck(c *gin.Context) {
	req, err := s.consoleBatchForm(c)
	var out BatchCheck
	if err == nil {
		out, err = s.Batches.Check(c.Request.Context(), req)
	}
	if err != nil {
		s.webError(c, err)
		return
	}
	v := batchCheckView{Check: out, File: req.SourceName}
	v.TypeName, v.Labels = s.typeLabels(c.Request.Context(), out.Type)
	s.page(c, http.StatusOK, "console_batch_check", view{Title: "批量文件校验", Area: areaConsole, Data: v})
}

type batchCheckView struct {
	Check          BatchCheck
	TypeName, File string
	Labels         map[string]string // item key → label, for the problem lists
}

type batchView struct {
	Status     BatchStatus
	TypeName   string
	Labels     map[string]string
	LabelsJSON string // the same for batch.js
}

// typeLabels returns a type's name and its items' labels by key (the key
// itself when the type cannot be read).
func (s *server) typeLabels(ctx context.Context, key string) (string, map[string]string) {
	t, err := s.Store.GetType(ctx, key)
	if err != nil {
		return key, nil
	}
	labels := make(map[string]string, len(t.Items))
	for _, it := range t.Items {
		labels[it.Key] = it.Label
	}
	return t.Name, labels
}

func (s *server) consoleBatch(c *gin.Context) {
	if s.Batches == nil {
		s.webError(c, errUnavailable)
		return
	}
	who := callerOf(c)
	st, err := s.Batches.Status(c.Request.Context(), c.Param("id"))
	if err == nil && st.Dept != who.deptUSCC {
		err = fmt.Errorf("api: batch %s: %w", st.ID, errForbidden)
	}
	if err != nil {
		s.webError(c, err)
		return
	}
	v := batchView{Status: st}
	v.TypeName, v.Labels = s.typeLabels(c.Request.Context(), st.Type)
	if b, err := json.Marshal(v.Labels); err == nil {
		v.LabelsJSON = string(b)
	}
	s.page(c, http.StatusOK, "console_batch", view{Title: "批量签发", Area: areaConsole, Data: v})
}
