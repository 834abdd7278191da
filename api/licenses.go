package api

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"elicense/catalog"
	"elicense/catalog/batchio"
)

// MaxPurpose is the longest 用证事由 accepted, in characters.
const MaxPurpose = 200

// purposeOf returns the 用证事由 a user unit, clerk or admin must give; the
// issuing department reading its own licenses needs none.
func purposeOf(who *caller, given string) (string, error) {
	given = strings.TrimSpace(given)
	if utf8.RuneCountInString(given) > MaxPurpose {
		return "", &requestError{kind: errBadRequest, code: "bad_purpose", msg: "用证事由不能超过200字",
			fields: []catalog.FieldError{{Item: "purpose", Code: catalog.CodeTooLong, Message: "用证事由不能超过200字"}}}
	}
	if who.p != nil && who.p.Role != catalog.RoleIssuer && !who.public && given == "" {
		return "", fieldRequired("purpose", "必须填写用证事由 (purpose)")
	}
	return given, nil
}

// mayRead decides whether a principal may read a license: the issuing
// department, a user unit allowed the type, clerks and the data authority.
func mayRead(who *caller, l *catalog.License) error {
	switch who.role() {
	case catalog.RoleIssuer:
		if l.IssuerUSCC == who.deptUSCC {
			return nil
		}
	case catalog.RoleVerifier:
		if who.p.MayQuery(l.TypeKey) {
			return nil
		}
	case catalog.RoleClerk, catalog.RoleAdmin:
		return nil
	}
	return fmt.Errorf("api: %s may not read %s: %w", who.p.ID, l.ID, errForbidden)
}

// record appends a use record (用证记录) for a read or verification by a
// user unit, clerk, admin or the public. The issuing department's own reads
// are not uses. A failure to record fails the request.
func (s *server) record(c *gin.Context, who *caller, l *catalog.License, act catalog.UseAction, purpose, result string) error {
	if who.role() == catalog.RoleIssuer && l.IssuerUSCC == who.deptUSCC || s.Access == nil {
		return nil
	}
	now := s.Now()
	var b [6]byte
	if _, err := io.ReadFull(s.Rand, b[:]); err != nil {
		return err
	}
	r := &catalog.UseRecord{
		ID:        fmt.Sprintf("%016x", now.UnixNano()) + hex.EncodeToString(b[:]),
		LicenseID: l.ID, HolderCode: l.Holder.Code, IssuerUSCC: l.IssuerUSCC,
		Actor: "public", ActorName: "公众核验", Action: act, Purpose: purpose, Result: result, At: now,
	}
	if who.p != nil {
		r.Actor, r.ActorName, r.Role = who.p.ID, who.p.Name, who.p.Role
	}
	if r.Purpose == "" {
		r.Purpose = "公众核验"
	}
	if err := s.Access.AddUse(c.Request.Context(), r); err != nil {
		return fmt.Errorf("api: use record: %w", err)
	}
	return nil
}

func (s *server) need(deps ...any) error {
	for _, d := range deps {
		if d == nil {
			return errUnavailable
		}
	}
	return nil
}

func pdfLink(id string) string     { return "/api/v1/licenses/" + url.PathEscape(id) + "/pdf" }
func holderLink(id string) string  { return "/api/v1/holder/licenses/" + url.PathEscape(id) + "/pdf" }
func licenseLink(id string) string { return "/api/v1/licenses/" + url.PathEscape(id) }

type issueInput struct {
	Type   string            `json:"type"`
	Dept   string            `json:"dept"`
	Values map[string]string `json:"values"`
}

type issueOutput struct {
	Identifier string      `json:"identifier"`
	PDF        string      `json:"pdf"`
	License    licenseJSON `json:"license"`
}

func (s *server) issue(c *gin.Context) {
	if s.Licenses == nil {
		s.fail(c, errUnavailable)
		return
	}
	var in issueInput
	if err := s.bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	if in.Type == "" {
		s.fail(c, fieldRequired("type", "必须指定证照类型 (type)"))
		return
	}
	who := callerOf(c)
	if in.Dept == "" {
		in.Dept = who.p.Dept
	}
	l, err := s.Licenses.Issue(c.Request.Context(), catalog.IssueRequest{TypeKey: in.Type, DeptKey: in.Dept, Values: in.Values, Actor: who.actor()})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.metrics.issued.WithLabelValues(l.TypeKey).Inc()
	s.lists.invalidate()
	c.Header("Location", licenseLink(l.ID))
	c.JSON(http.StatusCreated, issueOutput{Identifier: l.ID, PDF: pdfLink(l.ID), License: licenseOut(l, s.Now(), pdfLink(l.ID))})
}

// readable loads a license the caller may read, with the purpose it gave.
func (s *server) readable(c *gin.Context) (*catalog.License, *caller, string, error) {
	if s.Licenses == nil {
		return nil, nil, "", errUnavailable
	}
	who := callerOf(c)
	purpose, err := purposeOf(who, c.Query("purpose"))
	if err != nil {
		return nil, nil, "", err
	}
	l, err := s.Licenses.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		return nil, nil, "", err
	}
	if err := mayRead(who, l); err != nil {
		return nil, nil, "", err
	}
	return l, who, purpose, nil
}

func (s *server) getLicense(c *gin.Context) {
	l, who, purpose, err := s.readable(c)
	if err == nil {
		err = s.record(c, who, l, catalog.UseGet, purpose, string(l.StatusAt(s.Now())))
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, licenseOut(l, s.Now(), pdfLink(l.ID)))
}

func (s *server) downloadLicense(c *gin.Context) {
	l, who, purpose, err := s.readable(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.sendFile(c, l, func() error { return s.record(c, who, l, catalog.UseDownload, purpose, string(l.StatusAt(s.Now()))) })
}

// sendFile writes the sealed file of l after before succeeds.
func (s *server) sendFile(c *gin.Context, l *catalog.License, before func() error) {
	if s.Files == nil {
		s.fail(c, errUnavailable)
		return
	}
	data, err := s.Files.Get(l.ID)
	if err == nil && before != nil {
		err = before()
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+l.ID+`.pdf"`)
	c.Header("Cache-Control", "private, no-store")
	c.Data(http.StatusOK, "application/pdf", data)
}

type updateInput struct {
	Values map[string]string `json:"values"`
	Reason string            `json:"reason"`
}

func (s *server) updateLicense(c *gin.Context) {
	if s.Licenses == nil {
		s.fail(c, errUnavailable)
		return
	}
	var in updateInput
	if err := s.bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	who := callerOf(c)
	l, err := s.Licenses.Update(c.Request.Context(), c.Param("id"), in.Values, who.actor(), in.Reason)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.metrics.issued.WithLabelValues(l.TypeKey).Inc()
	s.lists.invalidate()
	c.Header("Location", licenseLink(l.ID))
	c.JSON(http.StatusOK, issueOutput{Identifier: l.ID, PDF: pdfLink(l.ID), License: licenseOut(l, s.Now(), pdfLink(l.ID))})
}

type reasonInput struct {
	Reason string `json:"reason"`
}

func (s *server) lifecycle(act catalog.Action) gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.Licenses == nil {
			s.fail(c, errUnavailable)
			return
		}
		var in reasonInput
		if err := s.bindJSON(c, &in); err != nil {
			s.fail(c, err)
			return
		}
		who := callerOf(c)
		ctx, id := c.Request.Context(), c.Param("id")
		var l *catalog.License
		var err error
		switch act {
		case catalog.ActionSuspend:
			l, err = s.Licenses.Suspend(ctx, id, who.actor(), in.Reason)
		case catalog.ActionResume:
			l, err = s.Licenses.Resume(ctx, id, who.actor(), in.Reason)
		default:
			l, err = s.Licenses.Revoke(ctx, id, who.actor(), in.Reason)
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		s.lists.invalidate()
		c.JSON(http.StatusOK, licenseOut(l, s.Now(), pdfLink(l.ID)))
	}
}

type licensePage struct {
	Licenses []licenseJSON `json:"licenses"`
	Next     string        `json:"next,omitempty"`
}

func pageLimit(c *gin.Context) (int, error) {
	v := c.Query("limit")
	if v == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 200 {
		return 0, badRequest("bad_limit", "limit 应为 1 到 200 的整数")
	}
	return n, nil
}

// listLicenses lists by holder code: for user units, clerks and the data
// authority with a purpose (each license listed is a recorded use), for the
// issuing department among its own licenses.
func (s *server) listLicenses(c *gin.Context) {
	who := callerOf(c)
	purpose, err := purposeOf(who, c.Query("purpose"))
	if err != nil {
		s.fail(c, err)
		return
	}
	limit, err := pageLimit(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	f := catalog.Filter{HolderCode: catalog.NormalizeIDNumber(c.Query("holder")), TypeKey: c.Query("type")}
	if who.role() == catalog.RoleIssuer {
		f.IssuerUSCC = who.deptUSCC
	} else if f.HolderCode == "" {
		s.fail(c, fieldRequired("holder", "必须指定持证主体代码 (holder)"))
		return
	}
	page, err := s.Store.List(c.Request.Context(), f, c.Query("cursor"), limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := licensePage{Licenses: []licenseJSON{}, Next: page.Next}
	now := s.Now()
	for _, l := range page.Licenses {
		if f.TypeKey != "" && l.TypeKey != f.TypeKey || mayRead(who, l) != nil {
			continue
		}
		if err := s.record(c, who, l, catalog.UseGet, purpose, string(l.StatusAt(now))); err != nil {
			s.fail(c, err)
			return
		}
		out.Licenses = append(out.Licenses, licenseOut(l, now, pdfLink(l.ID)))
	}
	c.JSON(http.StatusOK, out)
}

type usePage struct {
	Uses []useJSON `json:"uses"`
	Next string    `json:"next,omitempty"`
}

// listUses: a department sees the use records of its licenses; the data
// authority those of any department (issuer=USCC) or holder (holder=CODE).
func (s *server) listUses(c *gin.Context) {
	if s.Access == nil {
		s.fail(c, errUnavailable)
		return
	}
	who := callerOf(c)
	holder, issuer := "", who.deptUSCC
	if who.role() == catalog.RoleAdmin {
		holder, issuer = catalog.NormalizeIDNumber(c.Query("holder")), c.Query("issuer")
		if holder == "" && issuer == "" {
			s.fail(c, fieldRequired("issuer", "请指定 issuer 或 holder"))
			return
		}
	}
	s.uses(c, holder, issuer, true)
}

func (s *server) uses(c *gin.Context, holder, issuer string, withActorID bool) {
	limit, err := pageLimit(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	recs, next, err := s.Access.ListUses(c.Request.Context(), holder, issuer, c.Query("cursor"), limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := usePage{Uses: []useJSON{}, Next: next}
	for _, r := range recs {
		out.Uses = append(out.Uses, useOut(r, withActorID))
	}
	c.JSON(http.StatusOK, out)
}

// --- license types -------------------------------------------------------

type typeList struct {
	Types []typeJSON `json:"types"`
}

func (s *server) listTypes(c *gin.Context) {
	who := callerOf(c)
	ts, err := s.Store.ListTypes(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := typeList{Types: []typeJSON{}}
	for _, t := range ts {
		if t.Status != catalog.TypePublished && who.role() != catalog.RoleAdmin {
			continue
		}
		out.Types = append(out.Types, typeOut(t, who.p == nil))
	}
	c.JSON(http.StatusOK, out)
}

func (s *server) getType(c *gin.Context) {
	t, err := s.visibleType(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, typeOut(t, callerOf(c).p == nil))
}

// visibleType returns the type of the path's key: a draft one only to
// the admin (ErrNotFound for anyone else).
func (s *server) visibleType(c *gin.Context) (*catalog.LicenseType, error) {
	t, err := s.Store.GetType(c.Request.Context(), c.Param("key"))
	if err == nil && t.Status != catalog.TypePublished && callerOf(c).role() != catalog.RoleAdmin {
		err = fmt.Errorf("api: type %s: %w", t.Key, catalog.ErrNotFound)
	}
	return t, err
}

// getBatchTemplate sends an empty batch file for a type: its header row
// of item labels (format=xlsx, the default, with a sheet of notes; or
// format=csv). Visible as getType is.
func (s *server) getBatchTemplate(c *gin.Context) {
	format := c.DefaultQuery("format", "xlsx")
	if format != "xlsx" && format != "csv" {
		s.fail(c, &catalog.ValidationError{Problems: []catalog.FieldError{{Item: "format", Code: catalog.CodeBadOption, Message: "format 应为 xlsx 或 csv"}}})
		return
	}
	t, err := s.visibleType(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var buf bytes.Buffer
	ctype := "text/csv; charset=utf-8"
	if format == "csv" {
		err = batchio.WriteCSVTemplate(&buf, t)
	} else {
		ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		err = batchio.WriteXLSXTemplate(&buf, t)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	name := t.Key + "." + format
	c.Header("Content-Disposition", `attachment; filename="`+name+`"; filename*=UTF-8''`+url.PathEscape(t.Name+"-批量签发模板."+format))
	c.Data(http.StatusOK, ctype, buf.Bytes())
}

// checkType adds the checks that need the store and templates to
// catalog.CheckType.
func (s *server) checkType(ctx context.Context, t *catalog.LicenseType) error {
	var probs []catalog.FieldError
	var ve *catalog.ValidationError
	if err := catalog.CheckType(t); errors.As(err, &ve) {
		probs = append(probs, ve.Problems...)
	}
	for _, k := range t.IssuingDepts {
		if _, err := s.Store.GetDepartment(ctx, k); errors.Is(err, catalog.ErrNotFound) {
			probs = append(probs, catalog.FieldError{Item: "issuingDepts", Code: catalog.CodeBadOption, Message: "未知的颁发部门: " + k})
		} else if err != nil {
			return err
		}
	}
	if s.Templates != nil {
		if _, ok := s.Templates.Template(t.Template); !ok {
			probs = append(probs, catalog.FieldError{Item: "template", Code: catalog.CodeBadOption, Message: "没有这个证照模板: " + t.Template})
		}
	}
	if len(probs) > 0 {
		return &catalog.ValidationError{Problems: probs}
	}
	return nil
}

func (s *server) createType(c *gin.Context) {
	var in typeInput
	if err := s.bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	t := in.toType()
	if t.Template == "" {
		t.Template = t.Key
	}
	t.Version, t.Status = 1, catalog.TypeDraft
	err := s.checkType(ctx, t)
	if err == nil {
		if _, gerr := s.Store.GetType(ctx, t.Key); gerr == nil {
			err = fmt.Errorf("api: type %s: %w", t.Key, catalog.ErrExists)
		} else if !errors.Is(gerr, catalog.ErrNotFound) {
			err = gerr
		}
	}
	if err == nil {
		err = s.Store.PutType(ctx, t)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.typesChanged(ctx)
	c.Header("Location", "/api/v1/types/"+url.PathEscape(t.Key))
	c.JSON(http.StatusCreated, typeOut(t, false))
}

func (s *server) updateType(c *gin.Context) {
	var in typeInput
	if err := s.bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	key := c.Param("key")
	if in.Key != "" && in.Key != key {
		s.fail(c, badRequest("key_mismatch", "请求体中的 key 与路径不一致"))
		return
	}
	in.Key = key
	old, err := s.Store.GetType(ctx, key)
	if err != nil {
		s.fail(c, err)
		return
	}
	t := in.toType()
	if t.Template == "" {
		t.Template = old.Template
	}
	t.Version, t.Status = old.Version+1, old.Status
	if err := s.checkType(ctx, t); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.PutType(ctx, t); err != nil {
		s.fail(c, err)
		return
	}
	s.typesChanged(ctx)
	c.JSON(http.StatusOK, typeOut(t, false))
}

func (s *server) publishType(c *gin.Context) {
	ctx := c.Request.Context()
	t, err := s.Store.GetType(ctx, c.Param("key"))
	if err == nil && t.Status != catalog.TypePublished {
		t.Status = catalog.TypePublished
		if err = s.Store.PutType(ctx, t); err == nil {
			s.typesChanged(ctx)
		}
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, typeOut(t, false))
}

// typesChanged tells Deps.TypesChanged that the catalog changed.
func (s *server) typesChanged(ctx context.Context) {
	if s.TypesChanged == nil {
		return
	}
	if err := s.TypesChanged(ctx); err != nil {
		s.Logger.Error("after a type change", "err", err)
	}
}

// --- API keys ------------------------------------------------------------

type keyInput struct {
	Name  string   `json:"name"`
	Role  string   `json:"role"`
	Dept  string   `json:"dept"`
	Types []string `json:"types"`
}

type keyPage struct {
	Keys []keyJSON `json:"keys"`
}

func (s *server) listKeys(c *gin.Context) {
	if s.Access == nil {
		s.fail(c, errUnavailable)
		return
	}
	ps, err := s.Access.ListPrincipals(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := keyPage{Keys: []keyJSON{}}
	for _, p := range ps {
		out.Keys = append(out.Keys, keyOut(p))
	}
	c.JSON(http.StatusOK, out)
}

func (s *server) createKey(c *gin.Context) {
	if s.Access == nil {
		s.fail(c, errUnavailable)
		return
	}
	var in keyInput
	if err := s.bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	p := &catalog.Principal{Name: strings.TrimSpace(in.Name), Role: catalog.Role(in.Role), Dept: in.Dept, Types: in.Types}
	err := CheckPrincipal(c.Request.Context(), s.Store, p)
	var text string
	if err == nil {
		text, err = NewKey(s.Rand, s.Now(), p)
	}
	if err == nil {
		err = s.Access.PutPrincipal(c.Request.Context(), p)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	out := keyOut(p)
	out.Key = text
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, out)
}

func (s *server) revokeKey(c *gin.Context) {
	if s.Access == nil {
		s.fail(c, errUnavailable)
		return
	}
	ctx := c.Request.Context()
	p, err := s.Access.GetPrincipal(ctx, c.Param("id"))
	if err == nil && p.Active() {
		p.RevokedAt = s.Now().UTC()
		err = s.Access.PutPrincipal(ctx, p)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, keyOut(p))
}

// CheckPrincipal checks a principal before its key is made: a name, a known
// role, an existing department for issuers (required) and clerks (optional),
// existing license types for user units (at least one). It returns nil or a
// *catalog.ValidationError.
func CheckPrincipal(ctx context.Context, st catalog.Store, p *catalog.Principal) error {
	var probs []catalog.FieldError
	add := func(item, code, msg string) {
		probs = append(probs, catalog.FieldError{Item: item, Code: code, Message: msg})
	}
	if p.Name == "" {
		add("name", catalog.CodeRequired, "必须填写持有单位名称")
	}
	known := false
	for _, r := range catalog.Roles() {
		known = known || r == p.Role
	}
	if !known {
		add("role", catalog.CodeBadOption, "角色应为 issuer、verifier、clerk 或 admin")
	}
	if p.Role == catalog.RoleIssuer && p.Dept == "" {
		add("dept", catalog.CodeRequired, "颁发部门密钥必须指定部门")
	}
	if p.Dept != "" {
		if _, err := st.GetDepartment(ctx, p.Dept); errors.Is(err, catalog.ErrNotFound) {
			add("dept", catalog.CodeBadOption, "未知的部门: "+p.Dept)
		} else if err != nil {
			return err
		}
	}
	if p.Role == catalog.RoleVerifier && len(p.Types) == 0 {
		add("types", catalog.CodeRequired, "用证单位密钥必须列出可查询的证照类型")
	}
	for _, k := range p.Types {
		if _, err := st.GetType(ctx, k); errors.Is(err, catalog.ErrNotFound) {
			add("types", catalog.CodeBadOption, "未知的证照类型: "+k)
		} else if err != nil {
			return err
		}
	}
	if p.Role != catalog.RoleVerifier && len(p.Types) > 0 {
		add("types", catalog.CodeBadValue, "只有用证单位 (verifier) 的密钥限定证照类型")
	}
	if len(probs) > 0 {
		return &catalog.ValidationError{Problems: probs}
	}
	return nil
}
