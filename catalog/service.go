package catalog

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Renderer turns a license into its standard-layout PDF. Implemented by templates.
type Renderer interface {
	// Check returns the problems that keep a row from rendering: characters
	// the font lacks, values that overflow their box. It may repeat problems
	// ValidateRow finds; the Service reports each problem once.
	Check(t *LicenseType, row map[string]string) []FieldError
	// Render writes the unsealed PDF of l with qrText in its QR slot.
	Render(w io.Writer, l *License, qrText string) error
}

// Sealer stamps a department's electronic seal on a PDF. Implemented by signer.
type Sealer interface {
	// Seal returns the sealed file and its SM3 digest (lower-case hex).
	Seal(ctx context.Context, dept *Department, pdf []byte) (sealed []byte, digest string, err error)
}

// QRIssuer makes the text of the static QR code printed on a license.
type QRIssuer interface {
	StaticText(ctx context.Context, dept *Department, l *License) (string, error)
}

// Files keeps sealed license files by identifier.
type Files interface {
	// Put stores data durably under id (written and synced before it returns).
	Put(id string, data []byte) error
	// Get returns the file, or an error wrapping ErrNotFound.
	Get(id string) ([]byte, error)
}

// Actor is who asks for a change. Dept is the USCC of the actor's department;
// an empty Dept is the local operator, who may act for any department.
type Actor struct {
	Name string
	Dept string
}

// StatusListMin is the smallest status-list size: indexes are drawn at random
// from at least this many slots so an index tells little about the holder.
const StatusListMin = 131072

// Service orchestrates the catalog and the registry.
type Service struct {
	Store    Store
	Renderer Renderer // may be nil: Issue then fails with ErrInvalid
	Sealer   Sealer
	QR       QRIssuer // may be nil: no QR code is printed
	Files    Files
	Now      Clock
	Rand     io.Reader // randomness for status-list indexes
}

// IssueRequest asks for one new license.
type IssueRequest struct {
	TypeKey   string
	DeptKey   string // may be empty when the type has exactly one issuing department
	Values    map[string]string
	Actor     Actor
	BatchID   string
	SourceKey string
}

// Issue validates, renders, seals and stores one license. Errors: a
// *ValidationError (wrapping ErrInvalid) listing every problem of the row;
// ErrUnpublished; ErrNotFound for an unknown type or department; ErrForbidden
// when the actor's department may not issue the type; ErrExists when a license
// with the same number is in force.
func (s *Service) Issue(ctx context.Context, req IssueRequest) (*License, error) {
	t, dept, err := s.typeAndDept(ctx, req.TypeKey, req.DeptKey, req.Actor)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	values := copyValues(req.Values)
	if err := s.check(t, values, now); err != nil {
		return nil, err
	}
	number := values[t.NumberKey()]
	if old, err := s.Store.GetByNumber(ctx, t.Key, number); err == nil && old.Status != StatusRevoked {
		return old, fmt.Errorf("catalog: issue %s %s: %w", t.Key, number, ErrExists)
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("catalog: issue: %w", err)
	}
	seq, err := s.Store.ReserveSerial(ctx, t.Code+"."+dept.USCC+"."+now.Format("2006"))
	if err != nil {
		return nil, fmt.Errorf("catalog: issue: %w", err)
	}
	serial := now.Format("2006") + fmt.Sprintf("%08d", seq)
	idx, err := s.statusIndex(ctx)
	if err != nil {
		return nil, err
	}
	l := s.newLicense(t, dept, values, serial, 1, now)
	l.StatusIndex = idx
	l.BatchID, l.SourceKey = req.BatchID, req.SourceKey
	l.History = []Transition{{To: StatusIssued, Actor: req.Actor.Name, Reason: "签发", At: now}}
	if err := s.produce(ctx, dept, l); err != nil {
		return nil, err
	}
	if err := s.Store.Create(ctx, l); err != nil {
		return nil, fmt.Errorf("catalog: issue: %w", err)
	}
	return l, nil
}

// Validate checks a row against a type without issuing anything. It returns
// nil or a *ValidationError.
func (s *Service) Validate(ctx context.Context, typeKey string, values map[string]string) error {
	t, err := s.Store.GetType(ctx, typeKey)
	if err != nil {
		return fmt.Errorf("catalog: validate: %w", err)
	}
	return s.check(t, copyValues(values), s.Now())
}

func (s *Service) check(t *LicenseType, values map[string]string, now time.Time) error {
	var probs []FieldError
	if ve := ValidateRow(t, values, now); ve != nil {
		probs = ve.Problems
	}
	if s.Renderer == nil {
		probs = append(probs, FieldError{Code: "no_renderer", Message: "未配置证照模板"})
	} else {
		seen := make(map[FieldError]bool, len(probs))
		for _, p := range probs {
			seen[p] = true
		}
		for _, p := range s.Renderer.Check(t, values) {
			if !seen[p] {
				seen[p] = true
				probs = append(probs, p)
			}
		}
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	return nil
}

func (s *Service) typeAndDept(ctx context.Context, typeKey, deptKey string, a Actor) (*LicenseType, *Department, error) {
	t, err := s.Store.GetType(ctx, typeKey)
	if err != nil {
		return nil, nil, fmt.Errorf("catalog: type %q: %w", typeKey, err)
	}
	if t.Status != TypePublished {
		return nil, nil, fmt.Errorf("catalog: type %q: %w", typeKey, ErrUnpublished)
	}
	if deptKey == "" {
		if a.Dept != "" {
			for _, k := range t.IssuingDepts {
				if d, err := s.Store.GetDepartment(ctx, k); err == nil && d.USCC == a.Dept {
					deptKey = k
				}
			}
		} else if len(t.IssuingDepts) == 1 {
			deptKey = t.IssuingDepts[0]
		}
		if deptKey == "" {
			return nil, nil, &ValidationError{Problems: []FieldError{{Item: "dept", Code: CodeRequired, Message: "请指定颁发部门"}}}
		}
	}
	allowed := false
	for _, k := range t.IssuingDepts {
		allowed = allowed || k == deptKey
	}
	d, err := s.Store.GetDepartment(ctx, deptKey)
	if err != nil {
		return nil, nil, fmt.Errorf("catalog: department %q: %w", deptKey, err)
	}
	if !allowed || a.Dept != "" && a.Dept != d.USCC {
		return nil, nil, fmt.Errorf("catalog: department %q may not issue %q: %w", deptKey, typeKey, ErrForbidden)
	}
	return t, d, nil
}

func (s *Service) newLicense(t *LicenseType, d *Department, values map[string]string, serial string, version int, now time.Time) *License {
	l := &License{
		Number:     values[t.NumberKey()],
		TypeKey:    t.Key,
		TypeCode:   t.Code,
		TypeName:   t.Name,
		IssuerUSCC: d.USCC,
		IssuerName: d.Name,
		Serial:     serial,
		Holder:     Holder{Name: values["holder_name"], Code: values["holder_code"], CodeType: t.Holder.CodeType()},
		Values:     values,
		ValidFrom:  values["valid_from"],
		ValidUntil: values["valid_until"],
		IssuedAt:   now,
		Version:    version,
		Status:     StatusIssued,
	}
	if l.ValidFrom == "" {
		l.ValidFrom = now.Format(DateLayout)
	}
	if l.ValidUntil == "" {
		switch {
		case t.Validity.LongTerm:
			l.ValidUntil = LongTerm
		case t.Validity.Years > 0:
			from, _ := time.Parse(DateLayout, l.ValidFrom)
			l.ValidUntil = from.AddDate(t.Validity.Years, 0, -1).Format(DateLayout)
		default:
			l.ValidUntil = LongTerm
		}
	}
	l.ID = FormatIdentifier(t.Code, d.USCC, serial, version)
	return l
}

// produce renders, seals and stores the file of l, filling l.Digest.
func (s *Service) produce(ctx context.Context, d *Department, l *License) error {
	qr := ""
	if s.QR != nil {
		var err error
		if qr, err = s.QR.StaticText(ctx, d, l); err != nil {
			return fmt.Errorf("catalog: qr for %s: %w", l.ID, err)
		}
	}
	var buf bytes.Buffer
	if err := s.Renderer.Render(&buf, l, qr); err != nil {
		return fmt.Errorf("catalog: render %s: %w", l.ID, err)
	}
	sealed, digest, err := s.Sealer.Seal(ctx, d, buf.Bytes())
	if err != nil {
		return fmt.Errorf("catalog: seal %s: %w", l.ID, err)
	}
	l.Digest = digest
	if err := s.Files.Put(l.ID, sealed); err != nil {
		return fmt.Errorf("catalog: store file %s: %w", l.ID, err)
	}
	return nil
}

// statusIndex draws a random unused status-list index. The list has at least
// StatusListMin slots and doubles whenever it is more than half used, so a
// draw succeeds within a few tries.
func (s *Service) statusIndex(ctx context.Context) (int, error) {
	_, count, err := s.Store.StatusIndexUsed(ctx, 0)
	if err != nil {
		return 0, fmt.Errorf("catalog: status index: %w", err)
	}
	size := StatusListMin
	for count*2 >= size {
		size *= 2
	}
	var b [8]byte
	for try := 0; try < 64; try++ {
		if _, err := io.ReadFull(s.Rand, b[:]); err != nil {
			return 0, fmt.Errorf("catalog: status index: %w", err)
		}
		idx := int(binary.BigEndian.Uint64(b[:]) % uint64(size))
		used, _, err := s.Store.StatusIndexUsed(ctx, idx)
		if err != nil {
			return 0, fmt.Errorf("catalog: status index: %w", err)
		}
		if !used {
			return idx, nil
		}
	}
	return 0, fmt.Errorf("catalog: status index: no free slot found: %w", ErrConflict)
}

// Get returns a license by identifier (ErrNotFound).
func (s *Service) Get(ctx context.Context, id string) (*License, error) {
	l, err := s.Store.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("catalog: get %s: %w", id, err)
	}
	return l, nil
}

// Suspend (停用) an issued license. The reason is required.
func (s *Service) Suspend(ctx context.Context, id string, a Actor, reason string) (*License, error) {
	return s.change(ctx, id, a, ActionSuspend, reason)
}

// Resume an suspended license.
func (s *Service) Resume(ctx context.Context, id string, a Actor, reason string) (*License, error) {
	return s.change(ctx, id, a, ActionResume, reason)
}

// Revoke (注销) an issued or suspended license; final. The reason is required.
func (s *Service) Revoke(ctx context.Context, id string, a Actor, reason string) (*License, error) {
	return s.change(ctx, id, a, ActionRevoke, reason)
}

func (s *Service) change(ctx context.Context, id string, a Actor, act Action, reason string) (*License, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" && act != ActionResume {
		return nil, &ValidationError{Problems: []FieldError{{Item: "reason", Code: CodeRequired, Message: "必须填写原因"}}}
	}
	l, err := s.Store.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("catalog: %s %s: %w", act, id, err)
	}
	if a.Dept != "" && a.Dept != l.IssuerUSCC {
		return nil, fmt.Errorf("catalog: %s %s: only the issuing department may: %w", act, id, ErrForbidden)
	}
	to, err := Next(id, l.Status, act)
	if err != nil {
		return nil, err
	}
	l, err = s.Store.SetStatus(ctx, id, Transition{From: l.Status, To: to, Actor: a.Name, Reason: reason, At: s.Now()})
	if err != nil {
		return nil, fmt.Errorf("catalog: %s %s: %w", act, id, err)
	}
	return l, nil
}

// Update issues a new version of a license with new item values (the whole
// row) and moves the old version to StatusSuperseded. The new version keeps
// the serial, with the version number one higher, and gets a fresh status-list
// index: the old version's index then reads as withdrawn in the status list.
func (s *Service) Update(ctx context.Context, id string, values map[string]string, a Actor, reason string) (*License, error) {
	old, err := s.Store.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("catalog: update %s: %w", id, err)
	}
	if a.Dept != "" && a.Dept != old.IssuerUSCC {
		return nil, fmt.Errorf("catalog: update %s: only the issuing department may: %w", id, ErrForbidden)
	}
	if _, err := Next(id, old.Status, ActionSupersede); err != nil {
		return nil, err
	}
	t, err := s.Store.GetType(ctx, old.TypeKey)
	if err != nil {
		return nil, fmt.Errorf("catalog: update %s: %w", id, err)
	}
	var dept *Department
	for _, k := range t.IssuingDepts {
		if d, err := s.Store.GetDepartment(ctx, k); err == nil && d.USCC == old.IssuerUSCC {
			dept = d
		}
	}
	if dept == nil {
		return nil, fmt.Errorf("catalog: update %s: issuing department: %w", id, ErrNotFound)
	}
	now := s.Now()
	values = copyValues(values)
	if err := s.check(t, values, now); err != nil {
		return nil, err
	}
	if values[t.NumberKey()] != old.Number {
		return nil, &ValidationError{Problems: []FieldError{{Item: t.NumberKey(), Code: CodeMismatch, Message: "更新不能改变证照编号"}}}
	}
	next := s.newLicense(t, dept, values, old.Serial, old.Version+1, now)
	next.Supersedes = old.ID
	if next.StatusIndex, err = s.statusIndex(ctx); err != nil {
		return nil, err
	}
	next.History = []Transition{{To: StatusIssued, Actor: a.Name, Reason: orDefault(reason, "更新"), At: now}}
	if err := s.produce(ctx, dept, next); err != nil {
		return nil, err
	}
	tr := Transition{From: old.Status, To: StatusSuperseded, Actor: a.Name, Reason: orDefault(reason, "更新"), At: now}
	if err := s.Store.Supersede(ctx, old.ID, tr, next); err != nil {
		return nil, fmt.Errorf("catalog: update %s: %w", id, err)
	}
	return next, nil
}

func orDefault(s, d string) string {
	if strings.TrimSpace(s) == "" {
		return d
	}
	return s
}

func copyValues(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
