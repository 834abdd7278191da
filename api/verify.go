package api

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"elicense/catalog"
	"elicense/signer/qrtoken"
	"elicense/verify"
)

// readMultipart walks a multipart/form-data body of at most limit bytes
// (plus 64 KB for the other parts): each "file" part goes to file, small
// text parts (purpose, type, name) are returned by name. Errors: an
// *http.MaxBytesError for a body over the limit, bad_multipart, or what
// file returned.
func (s *server) readMultipart(c *gin.Context, limit int64, file func(*multipart.Part) error) (map[string]string, error) {
	mt, params, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, errUnsupported
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit+64<<10)
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, badRequest("bad_multipart", "multipart 格式错误")
	}
	fields := map[string]string{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return fields, nil
		}
		if err == nil {
			switch name := part.FormName(); name {
			case "file":
				if err = file(part); err != nil {
					part.Close()
					return nil, err
				}
			default:
				var b []byte
				b, err = io.ReadAll(io.LimitReader(part, 4*MaxPurpose+1))
				if len(fields) < 8 {
					fields[name] = string(b)
				}
			}
			part.Close()
		}
		if err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				return nil, &http.MaxBytesError{Limit: limit}
			}
			return nil, badRequest("bad_multipart", "multipart 格式错误")
		}
	}
}

// readUpload reads a multipart/form-data body with a "file" part (at most
// MaxUpload bytes, held in memory) and small text parts, returned by name.
func (s *server) readUpload(c *gin.Context) ([]byte, map[string]string, error) {
	var file []byte
	fields, err := s.readMultipart(c, s.lim.MaxUpload, func(part *multipart.Part) error {
		var err error
		file, err = io.ReadAll(io.LimitReader(part, s.lim.MaxUpload+1))
		var mb *http.MaxBytesError
		switch {
		case err == nil && int64(len(file)) > s.lim.MaxUpload, errors.As(err, &mb):
			return &http.MaxBytesError{Limit: s.lim.MaxUpload}
		case err != nil:
			return badRequest("bad_multipart", "multipart 格式错误")
		}
		return nil
	})
	if err == nil && file == nil {
		err = fieldRequired("file", "必须上传文件 (file)")
	}
	return file, fields, err
}

// verifyFile verifies an uploaded PDF or OFD; the answer is the verification
// result of docs/formats.md.
func (s *server) verifyFile(c *gin.Context) {
	who := callerOf(c)
	if s.Roots == nil {
		s.fail(c, errUnavailable)
		return
	}
	data, fields, err := s.readUpload(c)
	var purpose string
	if err == nil {
		purpose, err = purposeOf(who, fields["purpose"])
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	limits := verify.Limits{MaxFileSize: int(s.lim.MaxUpload)}
	res := verify.Verify(c.Request.Context(), data, verify.Options{Now: s.Now(), TrustedRoots: s.Roots, Registry: s.Store, Limits: limits})
	s.metrics.verifications.WithLabelValues("file", res.Reason.String()).Inc()
	if res.License != nil {
		if l, err := s.Store.Get(c.Request.Context(), res.License.Identifier); err == nil {
			if err := s.record(c, who, l, catalog.UseVerify, purpose, res.Reason.String()); err != nil {
				s.fail(c, err)
				return
			}
		}
	}
	c.JSON(http.StatusOK, res)
}

type identifierInput struct {
	Identifier string `json:"identifier"`
	Purpose    string `json:"purpose"`
}

type identifierResult struct {
	Identifier string       `json:"identifier"`
	Found      bool         `json:"found"`
	Valid      bool         `json:"valid"`
	Reason     string       `json:"reason"`
	License    *licenseJSON `json:"license,omitempty"`
}

// verifyIdentifier tells a user unit or clerk whether the license with an
// identifier is in force, with its data.
func (s *server) verifyIdentifier(c *gin.Context) {
	who := callerOf(c)
	var in identifierInput
	err := s.bindJSON(c, &in)
	if err == nil {
		in.Purpose, err = purposeOf(who, in.Purpose)
	}
	if err == nil && strings.TrimSpace(in.Identifier) == "" {
		err = fieldRequired("identifier", "必须填写电子证照标识 (identifier)")
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	out := identifierResult{Identifier: strings.TrimSpace(in.Identifier), Reason: "not_found"}
	l, err := s.Store.Get(c.Request.Context(), out.Identifier)
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		s.metrics.verifications.WithLabelValues("identifier", out.Reason).Inc()
		c.JSON(http.StatusOK, out)
		return
	case err == nil:
		err = mayRead(who, l)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	now := s.Now()
	st := l.StatusAt(now)
	out.Found, out.Valid, out.Reason = true, st == catalog.StatusIssued, string(st)
	if out.Valid {
		out.Reason = "ok"
	}
	lj := licenseOut(l, now, pdfLink(l.ID))
	out.License = &lj
	s.metrics.verifications.WithLabelValues("identifier", out.Reason).Inc()
	if err := s.record(c, who, l, catalog.UseVerify, in.Purpose, out.Reason); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

type qrInput struct {
	Text    string `json:"text"`
	Purpose string `json:"purpose"`
}

type qrCheck struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Detail string `json:"detail"`
}

type qrLicense struct {
	Identifier string     `json:"identifier"`
	Number     string     `json:"number,omitempty"`
	Holder     partyJSON  `json:"holder"`
	Issuer     *partyJSON `json:"issuer,omitempty"`
	ValidFrom  string     `json:"validFrom,omitempty"`
	ValidUntil string     `json:"validUntil,omitempty"`
}

type qrResult struct {
	Authentic bool       `json:"authentic"`
	Valid     bool       `json:"valid"`
	Reason    string     `json:"reason"`
	Format    string     `json:"format"`
	Checks    []qrCheck  `json:"checks"`
	License   *qrLicense `json:"license,omitempty"`
}

// verifyQR checks scanned QR text (a printed static token or a holder's
// dynamic one) against the key list, the current status list and the ticket
// cache. Anonymous callers see natural persons masked.
func (s *server) verifyQR(c *gin.Context) {
	who := callerOf(c)
	var in qrInput
	err := s.bindJSON(c, &in)
	var out qrResult
	if err == nil {
		out, _, err = s.checkQR(c, who, in.Text, in.Purpose)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// checkQR is the QR check shared by the API and the web pages: it verifies
// the text, records the use when the token names a registered license and
// returns the result with that license (nil when none).
func (s *server) checkQR(c *gin.Context, who *caller, text, purpose string) (qrResult, *catalog.License, error) {
	if s.QR == nil {
		return qrResult{}, nil, errUnavailable
	}
	purpose, err := purposeOf(who, purpose)
	if err == nil && strings.TrimSpace(text) == "" {
		err = fieldRequired("text", "必须填写扫码内容 (text)")
	}
	var status *qrtoken.StatusList
	if err == nil {
		_, status, _, err = s.lists.status(c.Request.Context(), s)
	}
	if err != nil {
		return qrResult{}, nil, err
	}
	now := s.Now()
	res := qrtoken.Verify(text, qrtoken.VerifyOptions{Keys: s.QR.KeyList(), Status: status, Now: now, Seen: s.tickets, SeenSince: s.ticketsSince})
	out := qrResult{Valid: res.Valid, Reason: string(res.Reason), Format: "qr", Checks: []qrCheck{}}
	if out.Valid {
		out.Reason = "ok"
	}
	switch res.Reason {
	case "", qrtoken.CheckValidity, qrtoken.CheckLicenseStatus, qrtoken.CheckWindow, qrtoken.CheckTicket:
		out.Authentic = res.Key != nil
	}
	for _, ch := range res.Checks {
		out.Checks = append(out.Checks, qrCheck{ID: string(ch.ID), Status: string(ch.Status), Detail: ch.Detail})
	}
	act := catalog.UseVerify
	if out.Authentic && res.Token != nil {
		cl := res.Token.Claims
		out.Format = "qr-" + cl.Profile.String()
		if cl.Profile == qrtoken.ProfileDynamic {
			act = catalog.UseShow
		}
		ql := &qrLicense{Identifier: cl.Identifier, Number: cl.Number,
			Holder: partyJSON{Name: cl.HolderName, Code: cl.HolderCode, CodeType: cl.HolderCodeType}}
		if who.p == nil {
			ql.Holder = maskHolder(cl.HolderName, cl.HolderCode, cl.HolderCodeType)
		}
		if cl.ValidFrom != 0 || cl.ValidUntil != 0 {
			ql.ValidFrom, ql.ValidUntil = cl.ValidFrom.String(), cl.ValidUntil.String()
		}
		ql.Issuer = &partyJSON{Name: res.Key.DeptName, Code: res.Key.DeptUSCC}
		out.License = ql
	}
	s.metrics.verifications.WithLabelValues("qr", out.Reason).Inc()
	var lic *catalog.License
	if out.License != nil {
		if l, err := s.Store.Get(c.Request.Context(), out.License.Identifier); err == nil {
			if err := s.record(c, who, l, act, purpose, out.Reason); err != nil {
				return qrResult{}, nil, err
			}
			lic = l
		}
	}
	return out, lic, nil
}

type claimInput struct {
	TypeCode   string            `json:"typeCode"`
	HolderCode string            `json:"holderCode"`
	HolderName string            `json:"holderName"`
	Number     string            `json:"number"`
	Fields     map[string]string `json:"fields"`
	Purpose    string            `json:"purpose"`
}

type claimResult struct {
	Code       int      `json:"code"`
	Result     string   `json:"result"`
	Meaning    string   `json:"meaning"`
	Identifier string   `json:"identifier,omitempty"`
	Mismatched []string `json:"mismatched,omitempty"`
}

// verifyClaims is 核验 by claimed data: result codes 0–7.
func (s *server) verifyClaims(c *gin.Context) {
	who := callerOf(c)
	if s.Licenses == nil {
		s.fail(c, errUnavailable)
		return
	}
	var in claimInput
	err := s.bindJSON(c, &in)
	if err == nil {
		in.Purpose, err = purposeOf(who, in.Purpose)
	}
	ctx := c.Request.Context()
	if err == nil && in.TypeCode != "" {
		// A user unit may check only the types it was granted.
		if t, terr := s.Licenses.TypeByCode(ctx, strings.TrimSpace(in.TypeCode)); terr == nil && !who.p.MayQuery(t.Key) {
			err = errForbidden
		} else if terr != nil && !errors.Is(terr, catalog.ErrNotFound) {
			err = terr
		}
	}
	var res catalog.ClaimResult
	if err == nil {
		res, err = s.Licenses.CheckClaim(ctx, catalog.Claim{TypeCode: in.TypeCode, HolderCode: in.HolderCode,
			HolderName: in.HolderName, Number: in.Number, Fields: in.Fields})
	}
	if err == nil && res.License != nil {
		err = s.record(c, who, res.License, catalog.UseVerify, in.Purpose, "claim_"+res.Code.String())
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	out := claimResult{Code: int(res.Code), Result: res.Code.String(), Meaning: res.Code.Meaning(), Mismatched: res.Mismatched}
	if res.Code <= catalog.ClaimInvalid && res.License != nil {
		out.Identifier = res.License.ID
	}
	s.metrics.verifications.WithLabelValues("claims", out.Result).Inc()
	c.JSON(http.StatusOK, out)
}
