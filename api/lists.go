package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	_ "embed"

	"github.com/gin-gonic/gin"
	"go.yaml.in/yaml/v3"

	"elicense/signer"
	"elicense/signer/qrtoken"
)

// listCache holds the signed status list. It is rebuilt on the next request
// after a license changed status through this handler (invalidate), and at
// least every Limits.StatusTTL otherwise (changes made by other processes,
// expiry).
type listCache struct {
	mu    sync.Mutex
	doc   []byte
	list  *qrtoken.StatusList
	etag  string
	built time.Time
	dirty bool
}

func (lc *listCache) invalidate() {
	lc.mu.Lock()
	lc.dirty = true
	lc.mu.Unlock()
}

func (lc *listCache) status(ctx context.Context, s *server) ([]byte, *qrtoken.StatusList, string, error) {
	if s.QR == nil {
		return nil, nil, "", errUnavailable
	}
	lc.mu.Lock()
	defer lc.mu.Unlock()
	now := s.Now()
	if lc.doc == nil || lc.dirty || now.Sub(lc.built) >= s.lim.StatusTTL || now.Before(lc.built) {
		doc, list, err := s.QR.BuildStatusList(ctx, s.Store, now)
		if err != nil {
			return nil, nil, "", err
		}
		lc.doc, lc.list, lc.etag, lc.built, lc.dirty = doc, list, etag(doc), now, false
	}
	return lc.doc, lc.list, lc.etag, nil
}

func etag(doc []byte) string {
	h := signer.NewSM3()
	h.Write(doc)
	return `"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
}

// sendList answers with a signed list, or 304 when If-None-Match matches.
func sendList(c *gin.Context, doc []byte, tag, cacheControl string) {
	c.Header("ETag", tag)
	c.Header("Cache-Control", cacheControl)
	for _, t := range strings.Split(c.GetHeader("If-None-Match"), ",") {
		if t = strings.TrimSpace(t); t == tag || t == "*" {
			c.Status(http.StatusNotModified)
			return
		}
	}
	c.Data(http.StatusOK, "application/cbor", doc)
}

func (s *server) keyList(c *gin.Context) {
	if s.QR == nil {
		s.fail(c, errUnavailable)
		return
	}
	doc := s.QR.KeyListDocument() // re-signed when the catalog changes
	sendList(c, doc, etag(doc), "public, max-age=3600")
}

func (s *server) statusList(c *gin.Context) {
	doc, _, tag, err := s.lists.status(c.Request.Context(), s)
	if err != nil {
		s.fail(c, err)
		return
	}
	sendList(c, doc, tag, "public, max-age=60, must-revalidate")
}

//go:embed openapi.yaml
var openAPIYAML []byte

// openAPIDoc is the document in JSON, converted once from the embedded YAML
// (written by hand; TestOpenAPI checks every request and response of the
// API tests against it).
var openAPIDoc = func() []byte {
	var v any
	if err := yaml.Unmarshal(openAPIYAML, &v); err != nil {
		panic("api: openapi.yaml: " + err.Error())
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic("api: openapi.yaml: " + err.Error())
	}
	return b
}()

// OpenAPI returns the OpenAPI 3 document of the API in JSON (served at
// /api/v1/openapi.json).
func OpenAPI() []byte { return append([]byte(nil), openAPIDoc...) }

func (s *server) openAPI(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/json", openAPIDoc)
}
