package api

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	qrencode "github.com/skip2/go-qrcode"

	"elicense/catalog"
	"elicense/signer/qrtoken"
)

// Holder pages (/my): login through the IdentityProvider, my licenses, one
// license with its PDF and the 出示 view (a dynamic QR code refreshed by
// script), and my use records.

type holderLoginView struct {
	Enabled   bool
	Code      bool // the provider sends one-time codes (development provider)
	IDNumber  string
	Name      string
	Masked    string
	Error     string
	Fields    map[string]string
	LoginCSRF string
}

func (s *server) holderLoginPage(c *gin.Context) {
	s.renderHolderLogin(c, http.StatusOK, "login_holder", holderLoginView{})
}

func (s *server) renderHolderLogin(c *gin.Context, status int, page string, v holderLoginView) {
	v.Enabled = s.Identity != nil
	_, v.Code = s.Identity.(CodeSender)
	v.LoginCSRF = s.loginToken(c)
	if v.Fields == nil {
		v.Fields = map[string]string{}
	}
	s.page(c, status, page, view{Title: "持证人登录", Area: areaMy, Data: v})
}

// fieldMessages returns the per-field messages of err (a validation or
// request error), and its public message.
func fieldMessages(err error) (map[string]string, string) {
	m := map[string]string{}
	var re *requestError
	var ve *catalog.ValidationError
	var probs []catalog.FieldError
	if errors.As(err, &re) {
		probs = re.fields
	} else if errors.As(err, &ve) {
		probs = ve.Problems
	}
	for _, p := range probs {
		if _, dup := m[p.Item]; !dup {
			m[p.Item] = p.Message
		}
	}
	return m, messageOf(err)
}

// holderLoginCode asks the development provider for a one-time code.
func (s *server) holderLoginCode(c *gin.Context) {
	v := holderLoginView{IDNumber: strings.TrimSpace(c.PostForm("idNumber")), Name: strings.TrimSpace(c.PostForm("name"))}
	cs, ok := s.Identity.(CodeSender)
	err := s.checkLogin(c)
	if err == nil && !ok {
		err = errUnavailable
	}
	if err == nil {
		err = cs.SendCode(c.Request.Context(), v.IDNumber, v.Name)
	}
	if err != nil {
		v.Fields, v.Error = fieldMessages(err)
		s.renderHolderLogin(c, statusOf(err).status, "login_holder", v)
		return
	}
	v.IDNumber = catalog.NormalizeIDNumber(v.IDNumber)
	v.Masked = qrtoken.MaskName(v.Name) + "（" + qrtoken.MaskIDNumber(v.IDNumber) + "）"
	s.renderHolderLogin(c, http.StatusOK, "login_code", v)
}

// holderLogin checks the credentials and starts a /my session.
func (s *server) holderLogin(c *gin.Context) {
	cr := Credentials{Assertion: strings.TrimSpace(c.PostForm("assertion")), IDNumber: strings.TrimSpace(c.PostForm("idNumber")),
		Name: strings.TrimSpace(c.PostForm("name")), Code: strings.TrimSpace(c.PostForm("code"))}
	err := s.checkLogin(c)
	if err == nil && s.Identity == nil {
		err = errUnavailable
	}
	var id Identity
	if err == nil {
		id, err = s.Identity.Authenticate(c.Request.Context(), cr)
	}
	if err == nil {
		err = s.startSession(c, webSession{area: areaMy, holder: id, user: qrtoken.MaskName(id.Name)}, s.lim.SessionTTL)
	}
	if err != nil {
		v := holderLoginView{IDNumber: catalog.NormalizeIDNumber(cr.IDNumber), Name: cr.Name}
		v.Fields, v.Error = fieldMessages(err)
		if errors.Is(err, errLoginFailed) {
			v.Error = "验证码错误、已过期或已用完尝试次数，请重新获取"
		}
		page := "login_holder"
		if cr.Code != "" && cr.Assertion == "" {
			page = "login_code"
			v.Masked = qrtoken.MaskName(cr.Name) + "（" + qrtoken.MaskIDNumber(v.IDNumber) + "）"
		}
		s.renderHolderLogin(c, statusOf(err).status, page, v)
		return
	}
	c.Redirect(http.StatusSeeOther, "/my")
}

type licenseCard struct {
	ID, TypeName, Number, Issuer, Validity string
	Status                                 catalog.Status
}

func cardOf(l *catalog.License, now time.Time) licenseCard {
	return licenseCard{ID: l.ID, TypeName: l.TypeName, Number: l.Number, Issuer: l.IssuerName,
		Validity: validityText(l.ValidFrom, l.ValidUntil), Status: l.StatusAt(now)}
}

func (s *server) myLicenses(c *gin.Context) {
	who := callerOf(c)
	page, err := s.Store.List(c.Request.Context(), catalog.Filter{HolderCode: who.holder.IDNumber}, "", 200)
	if err != nil {
		s.webError(c, err)
		return
	}
	now := s.Now()
	var cards []licenseCard
	for _, l := range page.Licenses {
		cards = append(cards, cardOf(l, now))
	}
	s.page(c, http.StatusOK, "my", view{Title: "我的证照", Area: areaMy, Data: cards})
}

func (s *server) myLicense(c *gin.Context) {
	l, err := s.own(c)
	var f *faceView
	if err == nil {
		f, err = s.face(c.Request.Context(), l, s.Now(), true)
	}
	if err != nil {
		s.webError(c, err)
		return
	}
	s.page(c, http.StatusOK, "my_license", view{Title: l.TypeName, Area: areaMy, Data: f})
}

type showView struct {
	ID, TypeName, Number, Holder string
	InForce                      bool
	Status                       catalog.Status
}

// myShow is the 出示 view: the page's script fetches a dynamic QR code
// (POST /my/l/{id}/qr) and refreshes it every RefreshSeconds.
func (s *server) myShow(c *gin.Context) {
	l, err := s.own(c)
	if err != nil {
		s.webError(c, err)
		return
	}
	st := l.StatusAt(s.Now())
	v := showView{ID: l.ID, TypeName: l.TypeName, Number: l.Number, Holder: qrtoken.MaskName(l.Holder.Name),
		InForce: st == catalog.StatusIssued, Status: st}
	s.page(c, http.StatusOK, "my_show", view{Title: "出示 · " + l.TypeName, Area: "show", Data: v})
}

// showRefresh is how often the 出示 view fetches a new code; the code itself
// lives qrtoken.MaxLifetime.
const showRefresh = 30 * time.Second

type showQR struct {
	Image     string `json:"image"` // data:image/png;base64,…
	ExpiresAt int64  `json:"expiresAt"`
	Lifetime  int    `json:"lifetime"`
	RefreshIn int    `json:"refreshIn"`
}

func (s *server) myQR(c *gin.Context) {
	text, exp, err := s.dynamicQR(c)
	var img string
	if err == nil {
		img, err = qrDataURL(text)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, showQR{Image: img, ExpiresAt: exp.Unix(), Lifetime: int(qrtoken.MaxLifetime / time.Second),
		RefreshIn: int(showRefresh / time.Second)})
}

// qrDataURL draws text as a QR code PNG (level M, 4-module quiet zone, 8
// pixels a module) in a data: URL.
func qrDataURL(text string) (u string, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("api: qr encode: panic: %v", v)
		}
	}()
	q, err := qrencode.New(text, qrencode.Medium)
	if err != nil {
		return "", fmt.Errorf("api: qr encode: %w", err)
	}
	bm := q.Bitmap() // quiet zone included
	const k = 8
	n := len(bm)
	img := image.NewGray(image.Rect(0, 0, n*k, n*k))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for y, row := range bm {
		for x, dark := range row {
			if !dark {
				continue
			}
			for dy := 0; dy < k; dy++ {
				for dx := 0; dx < k; dx++ {
					img.SetGray(x*k+dx, y*k+dy, color.Gray{})
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

type useRow struct {
	At, License, Actor, Action, Purpose, Result string
}

func (s *server) myUses(c *gin.Context) {
	if s.Access == nil {
		s.webError(c, errUnavailable)
		return
	}
	who := callerOf(c)
	recs, _, err := s.Access.ListUses(c.Request.Context(), who.holder.IDNumber, "", "", 100)
	if err != nil {
		s.webError(c, err)
		return
	}
	s.page(c, http.StatusOK, "my_uses", view{Title: "用证记录", Area: areaMy, Wide: true, Data: s.useRows(c, recs)})
}

// useRows renders use records (newest first, as listed), naming each
// license by type and number.
func (s *server) useRows(c *gin.Context, recs []*catalog.UseRecord) []useRow {
	names := map[string]string{}
	rows := make([]useRow, 0, len(recs))
	for _, r := range recs {
		name, ok := names[r.LicenseID]
		if !ok {
			if l, err := s.Store.Get(c.Request.Context(), r.LicenseID); err == nil {
				name = l.TypeName + " " + l.Number
			}
			names[r.LicenseID] = name
		}
		rows = append(rows, useRow{At: webTime(r.At), License: name, Actor: r.ActorName, Action: useActionText(string(r.Action)),
			Purpose: r.Purpose, Result: useResultText(r.Result)})
	}
	return rows
}
