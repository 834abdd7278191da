package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"image"
	_ "image/jpeg" // camera frames
	_ "image/png"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"golang.org/x/image/draw"

	"elicense/catalog"
	"elicense/signer/qrtoken"
	"elicense/verify"
)

// verdict is the one answer a verification page gives.
type verdict struct {
	Tone   string // ok, warn, bad, unknown
	Title  string // 真实有效, 已停用, 已注销, 已过期, 已更新为新版本, 无法验证
	Reason string
	Check  string // the failed check, for support staff
}

// verdictOf combines the QR check with the live registry status of the
// license it names (l, nil when the registry does not know it): the
// registry decides the status of an authentic token.
func verdictOf(out qrResult, l *catalog.License, st catalog.Status) verdict {
	if !out.Authentic {
		return verdict{Tone: "unknown", Title: "无法验证", Reason: qrReasonText(out.Reason), Check: out.Reason}
	}
	switch out.Reason {
	case string(qrtoken.CheckWindow):
		return verdict{Tone: "unknown", Title: "无法验证", Reason: "动态二维码已超过有效时间，请持证人刷新后重新出示。", Check: out.Reason}
	case string(qrtoken.CheckTicket):
		return verdict{Tone: "unknown", Title: "无法验证", Reason: "该动态二维码已被核验过，或生成于本服务重启之前（每个动态码只能使用一次），请持证人刷新后重新出示。", Check: out.Reason}
	}
	if l == nil {
		return verdict{Tone: "unknown", Title: "无法验证", Reason: "二维码签名真实，但证照库中查无此证照，请联系发证部门。", Check: "registry"}
	}
	switch st {
	case catalog.StatusIssued:
		return verdict{Tone: "ok", Title: "真实有效", Reason: "二维码由发证部门签发，证照库登记状态为有效。"}
	case catalog.StatusSuspended:
		return verdict{Tone: "bad", Title: "已停用", Reason: "发证部门已暂停该证照的效力，当前不能作为有效证照使用。"}
	case catalog.StatusRevoked:
		return verdict{Tone: "bad", Title: "已注销", Reason: "发证部门已注销该证照，不再有效。"}
	case catalog.StatusExpired:
		return verdict{Tone: "bad", Title: "已过期", Reason: "该证照已超过有效期。"}
	case catalog.StatusSuperseded:
		return verdict{Tone: "warn", Title: "已更新为新版本", Reason: "该证照已换发新版本，此版本不再有效，请出示最新版本。"}
	}
	return verdict{Tone: "unknown", Title: "无法验证", Reason: "证照状态未知。", Check: string(st)}
}

// qrReasonText explains a failed check that leaves the token unproven.
func qrReasonText(reason string) string {
	switch qrtoken.CheckID(reason) {
	case qrtoken.CheckParse:
		return "二维码内容不是本市电子证照核验码，或内容不完整。"
	case qrtoken.CheckKeyList, qrtoken.CheckKID:
		return "签发密钥不在本市的密钥清单中，无法确认来源。"
	case qrtoken.CheckSignature:
		return "签名校验未通过，二维码内容可能被篡改。"
	case qrtoken.CheckKeyStatus:
		return "签发密钥已停用或撤销。"
	case qrtoken.CheckKeyValidity:
		return "签发时间不在签发密钥的有效期内。"
	case qrtoken.CheckIdentifier, qrtoken.CheckIssuer, qrtoken.CheckTypeCode, qrtoken.CheckHolderCode:
		return "证照标识、类型或持证主体代码与签发部门不符。"
	}
	return "核验未通过。"
}

// publicView is what anyone who scans a printed QR code sees: nothing
// personal beyond the masked face.
type publicView struct {
	Verdict    verdict
	Found      bool
	TypeName   string
	Number     string
	Issuer     string
	HolderName string
	HolderCode string
	Validity   string
	Seal       string
	Dynamic    bool
	CheckedAt  string
}

// publicPage is the page behind the URL of every printed QR code: it checks
// the token and the live registry status, rate-limited per client IP like
// the public API, and records the use as actor "public".
func (s *server) publicPage(c *gin.Context) {
	if !s.limiter.allow("ip:"+c.ClientIP(), s.lim.PublicRate, s.lim.PublicBurst) {
		s.webError(c, errRateLimited)
		return
	}
	// The token is the path as scanned; Verify takes the whole text and
	// finds /V/ in any case.
	text := "/V/" + c.Param("token")
	v := publicView{CheckedAt: webTime(s.Now())}
	out, l, err := s.checkQR(c, &caller{public: true}, text, "")
	if err != nil {
		s.webError(c, err)
		return
	}
	st := catalog.Status("")
	if l != nil {
		st = l.StatusAt(s.Now())
	}
	v.Verdict = verdictOf(out, l, st)
	v.Dynamic = out.Format == "qr-dynamic"
	if out.Authentic && out.License != nil {
		v.Found = true
		v.HolderName, v.HolderCode = out.License.Holder.Name, out.License.Holder.Code
		v.Number = out.License.Number
		if out.License.Issuer != nil {
			v.Issuer = out.License.Issuer.Name
		}
		v.Validity = validityText(out.License.ValidFrom, out.License.ValidUntil)
	}
	if l != nil {
		h := maskHolder(l.Holder.Name, l.Holder.Code, l.Holder.CodeType)
		v.TypeName, v.Number, v.Issuer = l.TypeName, l.Number, l.IssuerName
		v.HolderName, v.HolderCode = h.Name, h.Code
		v.Validity = validityText(l.ValidFrom, l.ValidUntil)
		v.Seal = s.sealName(c.Request.Context(), l)
	}
	s.page(c, http.StatusOK, "public", view{Title: "电子证照核验 · " + v.Verdict.Title, Area: "public", Data: v})
}

// sealName returns the name of the seal on the license's sealed file, read
// by verifying the file once (cached by its digest); "" when unknown.
func (s *server) sealName(ctx context.Context, l *catalog.License) string {
	if s.Files == nil || s.Roots == nil || l.Digest == "" {
		return ""
	}
	s.web.sealMu.Lock()
	name, ok := s.web.seals[l.Digest]
	s.web.sealMu.Unlock()
	if ok {
		return name
	}
	data, err := s.Files.Get(l.ID)
	if err != nil {
		return ""
	}
	res := verify.Verify(ctx, data, verify.Options{Now: s.Now(), TrustedRoots: s.Roots, Registry: s.Store,
		Limits: verify.Limits{MaxFileSize: int(s.lim.MaxUpload)}})
	if res.Seal == nil || !res.Authentic {
		return ""
	}
	s.web.sealMu.Lock()
	if len(s.web.seals) > 10_000 {
		s.web.seals = map[string]string{}
	}
	s.web.seals[l.Digest] = res.Seal.Name
	s.web.sealMu.Unlock()
	return res.Seal.Name
}

// --- counter (窗口核验) --------------------------------------------------

// counterPurposes are the 用证事由 offered at a counter; 其他 asks for text.
var counterPurposes = []string{"业务办理", "入职审查", "资格核验", "其他"}

type counterView struct {
	Purposes []string
	Purpose  string // selected
	Other    string // free text of 其他
	Error    string
	Scanned  bool
	Verdict  verdict
	Face     *faceView
	Brief    *publicView // what the token says when the registry has no record
}

func (s *server) counterPage(c *gin.Context) {
	ws := c.MustGet(webSessionKey).(*webSession)
	s.page(c, http.StatusOK, "counter", view{Title: "窗口核验", Area: areaCounter, Data: s.counterForm(ws.purpose)})
}

func (s *server) counterForm(purpose string) counterView {
	v := counterView{Purposes: counterPurposes, Purpose: counterPurposes[0]}
	if purpose != "" {
		v.Purpose = purpose
		known := false
		for _, p := range counterPurposes {
			known = known || p == purpose
		}
		if !known {
			v.Purpose, v.Other = "其他", purpose
		}
	}
	return v
}

// counterVerify checks a scanned code for a clerk: the same check and use
// record as POST /api/v1/verify/qr, so a dynamic code is single-use across
// every counter; the clerk then sees the full face.
func (s *server) counterVerify(c *gin.Context) {
	who := callerOf(c)
	purpose := strings.TrimSpace(c.PostForm("purpose"))
	if purpose == "其他" {
		purpose = strings.TrimSpace(c.PostForm("other"))
	}
	v := s.counterForm(purpose)
	text := strings.TrimSpace(c.PostForm("text"))
	switch {
	case purpose == "":
		v.Error = "请选择或填写用证事由"
	case utf8.RuneCountInString(purpose) > MaxPurpose:
		v.Error = "用证事由不能超过200字"
	case text == "":
		v.Error = "请扫描二维码（扫码枪扫描后会自动提交）"
	}
	if v.Error != "" {
		s.page(c, http.StatusUnprocessableEntity, "counter", view{Title: "窗口核验", Area: areaCounter, Data: v})
		return
	}
	s.web.sessions.setPurpose(c.GetString("elicense.webSID"), purpose)
	out, l, err := s.checkQR(c, who, text, purpose)
	if err != nil {
		s.webError(c, err)
		return
	}
	v.Scanned = true
	now := s.Now()
	st := catalog.Status("")
	if l != nil {
		st = l.StatusAt(now)
		f, err := s.face(c.Request.Context(), l, now, false)
		if err != nil {
			s.webError(c, err)
			return
		}
		v.Face = f
	} else if out.License != nil {
		b := &publicView{HolderName: out.License.Holder.Name, HolderCode: out.License.Holder.Code, Number: out.License.Number,
			Validity: validityText(out.License.ValidFrom, out.License.ValidUntil)}
		if out.License.Issuer != nil {
			b.Issuer = out.License.Issuer.Name
		}
		v.Brief = b
	}
	v.Verdict = verdictOf(out, l, st)
	s.page(c, http.StatusOK, "counter", view{Title: "核验结果 · " + v.Verdict.Title, Area: areaCounter, Data: v})
}

// counterDecode reads the QR code in a camera frame (JPEG or PNG, posted by
// the counter page's script) and answers {"text": …}; nothing is verified
// or recorded until the clerk's page submits the text.
func (s *server) counterDecode(c *gin.Context) {
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if mt != "image/jpeg" && mt != "image/png" {
		s.fail(c, errUnsupported)
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, 4<<20))
	if err != nil {
		s.fail(c, err)
		return
	}
	text, err := decodeQRImage(data)
	if err != nil {
		c.JSON(http.StatusOK, gin.H{"found": false})
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"found": true, "text": text})
}

// decodeQRImage finds a QR code in an image with gozxing; panics of the
// decoder become errors.
func decodeQRImage(data []byte) (text string, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("api: qr decode: panic: %v", v)
		}
	}()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	// Camera frames are PNG or JPEG; other decoders linked into the
	// binary (TIFF, WebP) are not offered to uploads.
	if format != "png" && format != "jpeg" {
		return "", fmt.Errorf("api: qr decode: %s images are not accepted", format)
	}
	if cfg.Width*cfg.Height > 12_000_000 {
		return "", errors.New("api: qr decode: image too large")
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	return findQR(img)
}

// findQR decodes the QR code in img. gozxing's detector misreads about
// one in forty of our version-10 dynamic codes drawn perfectly (zbar reads
// them all: a wrong grid from a false alignment pattern), so a failure is
// retried as a clean image (a screenshot or an exported code), then at
// two smaller scales (a camera frame, where the grid lands elsewhere).
func findQR(img image.Image) (string, error) {
	hard := map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true}
	decode := func(im image.Image, hints map[gozxing.DecodeHintType]interface{}) (string, error) {
		bmp, err := gozxing.NewBinaryBitmapFromImage(im)
		if err != nil {
			return "", err
		}
		res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
		if err != nil {
			return "", err
		}
		return res.GetText(), nil
	}
	text, first := decode(img, hard)
	if first == nil {
		return text, nil
	}
	if text, err := decode(img, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_PURE_BARCODE: true}); err == nil {
		return text, nil
	}
	b := img.Bounds()
	for _, f := range []int{3, 2} { // 3/5 and 2/5 of the size
		w, h := b.Dx()*f/5, b.Dy()*f/5
		if w < 120 || h < 120 {
			break
		}
		small := image.NewGray(image.Rect(0, 0, w, h))
		draw.BiLinear.Scale(small, small.Bounds(), img, b, draw.Src, nil)
		if text, err := decode(small, hard); err == nil {
			return text, nil
		}
	}
	return "", first
}

// --- the face of a license ------------------------------------------------

type faceRow struct {
	Label, Value string
}

type historyRow struct {
	At, From, To, Actor, Reason string
}

// faceView is a license as the clerk, the holder and the issuing department
// see it.
type faceView struct {
	ID, Number, TypeName, Issuer string
	HolderName, HolderCode       string
	Validity, IssuedAt           string
	Version                      int
	Status                       catalog.Status
	Photo                        template.URL
	Rows                         []faceRow
	History                      []historyRow
	SupersededBy                 string
}

// face renders l with its type's labels: the face items only, or every
// item (all, for the holder and the issuing department).
func (s *server) face(ctx context.Context, l *catalog.License, now time.Time, all bool) (*faceView, error) {
	f := &faceView{ID: l.ID, Number: l.Number, TypeName: l.TypeName, Issuer: l.IssuerName,
		HolderName: l.Holder.Name, HolderCode: l.Holder.Code, Validity: validityText(l.ValidFrom, l.ValidUntil),
		IssuedAt: webTime(l.IssuedAt), Version: l.Version, Status: l.StatusAt(now), SupersededBy: l.SupersededBy}
	t, err := s.Store.GetType(ctx, l.TypeKey)
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return nil, err
	}
	skip := map[string]bool{"holder_name": true, "holder_code": true, "valid_from": true, "valid_until": true}
	if t != nil {
		skip[t.NumberKey()] = true
		for _, it := range t.Items {
			val := l.Values[it.Key]
			if val == "" || skip[it.Key] {
				continue
			}
			if it.Type == catalog.TypeImage {
				if u, ok := imageURL(val); ok && f.Photo == "" {
					f.Photo = u
				}
				continue
			}
			if it.Face || all {
				if it.Type == catalog.TypeDateLong && val == catalog.LongTerm {
					val = "长期"
				}
				f.Rows = append(f.Rows, faceRow{Label: it.Label, Value: val})
			}
		}
	}
	for _, h := range l.History {
		f.History = append(f.History, historyRow{At: webTime(h.At), From: statusText(h.From), To: statusText(h.To), Actor: h.Actor, Reason: h.Reason})
	}
	return f, nil
}

// imageURL makes a data: URL of a base64 PNG or JPEG item value.
func imageURL(b64 string) (template.URL, bool) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) < 4 {
		return "", false
	}
	mt := ""
	switch {
	case bytes.HasPrefix(raw, []byte("\x89PNG")):
		mt = "image/png"
	case bytes.HasPrefix(raw, []byte("\xff\xd8\xff")):
		mt = "image/jpeg"
	default:
		return "", false
	}
	// The value was decoded above, so the URL holds only base64 characters.
	return template.URL("data:" + mt + ";base64," + base64.StdEncoding.EncodeToString(raw)), true
}
