package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"elicense/catalog"
	"elicense/signer/qrtoken"
)

type codeInput struct {
	IDNumber string `json:"idNumber"`
	Name     string `json:"name"`
}

type codeOutput struct {
	Sent      bool `json:"sent"`
	ExpiresIn int  `json:"expiresIn"`
}

// loginCode asks the development provider for a one-time code.
func (s *server) loginCode(c *gin.Context) {
	cs, ok := s.Identity.(CodeSender)
	if !ok {
		s.fail(c, errUnavailable)
		return
	}
	var in codeInput
	if err := s.bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	if err := cs.SendCode(c.Request.Context(), in.IDNumber, in.Name); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, codeOutput{Sent: true, ExpiresIn: int(DevCodeTTL / time.Second)})
}

type loginInput struct {
	Assertion string `json:"assertion"`
	IDNumber  string `json:"idNumber"`
	Name      string `json:"name"`
	Code      string `json:"code"`
}

type loginOutput struct {
	Holder    partyJSON `json:"holder"`
	Provider  string    `json:"provider"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// login checks the holder's credentials with the identity provider and sets
// the session cookie (HttpOnly, SameSite=Strict, Secure over TLS).
func (s *server) login(c *gin.Context) {
	if s.Identity == nil {
		s.fail(c, errUnavailable)
		return
	}
	var in loginInput
	if err := s.bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	id, err := s.Identity.Authenticate(c.Request.Context(), Credentials{Assertion: in.Assertion, IDNumber: in.IDNumber, Name: in.Name, Code: in.Code})
	var sid string
	var exp time.Time
	if err == nil {
		sid, exp, err = s.sessions.create(id)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	setSessionCookie(c, sid, int(s.lim.SessionTTL/time.Second))
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, loginOutput{Holder: partyJSON{Name: qrtoken.MaskName(id.Name), Code: qrtoken.MaskIDNumber(id.IDNumber), CodeType: catalog.HolderCodeIDNumber},
		Provider: id.Provider, ExpiresAt: exp.UTC()})
}

func (s *server) logout(c *gin.Context) {
	if who := callerOf(c); who.session != "" {
		s.sessions.drop(who.session)
	}
	setSessionCookie(c, "", -1)
	c.Status(http.StatusNoContent)
}

// own loads a license of the logged-in holder; another holder's license is
// not found.
func (s *server) own(c *gin.Context) (*catalog.License, error) {
	if s.Licenses == nil {
		return nil, errUnavailable
	}
	who := callerOf(c)
	l, err := s.Licenses.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(catalog.NormalizeIDNumber(l.Holder.Code), who.holder.IDNumber) {
		return nil, fmt.Errorf("api: license %s: not the holder's: %w", l.ID, catalog.ErrNotFound)
	}
	return l, nil
}

func (s *server) holderLicenses(c *gin.Context) {
	who := callerOf(c)
	limit, err := pageLimit(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.Store.List(c.Request.Context(), catalog.Filter{HolderCode: who.holder.IDNumber}, c.Query("cursor"), limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := licensePage{Licenses: []licenseJSON{}, Next: page.Next}
	for _, l := range page.Licenses {
		out.Licenses = append(out.Licenses, licenseOut(l, s.Now(), holderLink(l.ID)))
	}
	c.JSON(http.StatusOK, out)
}

func (s *server) holderLicense(c *gin.Context) {
	l, err := s.own(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, licenseOut(l, s.Now(), holderLink(l.ID)))
}

func (s *server) holderDownload(c *gin.Context) {
	l, err := s.own(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.sendFile(c, l, nil)
}

type qrOutput struct {
	Text      string    `json:"text"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// holderQR makes a fresh dynamic QR token (亮证) for a license in force.
func (s *server) holderQR(c *gin.Context) {
	text, exp, err := s.dynamicQR(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, qrOutput{Text: text, ExpiresAt: exp})
}

// dynamicQR makes a dynamic token for the holder's license named in the
// path, which must be in force; shared by the API and the web pages.
func (s *server) dynamicQR(c *gin.Context) (string, time.Time, error) {
	l, err := s.own(c)
	if err == nil && s.QR == nil {
		err = errUnavailable
	}
	now := s.Now()
	if err == nil && l.StatusAt(now) != catalog.StatusIssued {
		err = &requestError{kind: catalog.ErrConflict, code: "not_in_force", msg: "证照当前不在有效状态，不能亮证"}
	}
	var text string
	var cl *qrtoken.Claims
	if err == nil {
		text, cl, err = s.QR.DynamicText(l, now, 0)
	}
	if err != nil {
		return "", time.Time{}, err
	}
	return text, time.Unix(cl.IssuedAt+int64(cl.Lifetime), 0).UTC(), nil
}

func (s *server) holderUses(c *gin.Context) {
	if s.Access == nil {
		s.fail(c, errUnavailable)
		return
	}
	s.uses(c, callerOf(c).holder.IDNumber, "", false)
}
