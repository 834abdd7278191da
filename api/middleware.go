package api

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

const requestIDKey = "elicense.requestId"

// requestID gives every request a random ID, returned in X-Request-ID and
// in every error body, and logged with server errors.
func (s *server) requestID(c *gin.Context) {
	var b [8]byte
	_, _ = io.ReadFull(s.Rand, b[:])
	id := hex.EncodeToString(b[:])
	c.Set(requestIDKey, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

func requestIDOf(c *gin.Context) string { return c.GetString(requestIDKey) }

// recoverer turns a panic into a 500 with the request ID; the value and stack
// go to the log only.
func (s *server) recoverer(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.Logger.Error("panic", "requestId", requestIDOf(c), "route", c.FullPath(), "panic", v, "stack", string(debug.Stack()))
			if !c.Writer.Written() {
				s.fail(c, errors.New("api: panic"))
			}
		}
	}()
	c.Next()
}

// observe logs each request (method, route pattern, status, duration,
// principal ID — never keys, query strings or personal data) and counts it.
func (s *server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	d := time.Since(start)
	status := c.Writer.Status()
	s.metrics.requests.WithLabelValues(c.Request.Method, route, strconv.Itoa(status)).Inc()
	s.metrics.latency.WithLabelValues(c.Request.Method, route).Observe(d.Seconds())
	who := callerOf(c)
	attrs := []any{"method", c.Request.Method, "route", route, "status", status,
		"ms", d.Milliseconds(), "requestId", requestIDOf(c)}
	switch {
	case who.p != nil:
		attrs = append(attrs, "principal", who.p.ID)
	case who.holder != nil:
		attrs = append(attrs, "principal", "holder")
	}
	if route != "/healthz" && route != "/readyz" && route != "/metrics" {
		s.Logger.Info("http", attrs...)
	}
}

// bindJSON decodes a JSON body strictly (unknown fields and trailing data are
// errors) within the body limit.
func (s *server) bindJSON(c *gin.Context, v any) error {
	if mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type")); err != nil || mt != "application/json" {
		return errUnsupported
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, s.lim.MaxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return err
		}
		return badRequest("bad_json", "JSON 格式错误: "+err.Error())
	}
	if dec.More() {
		return badRequest("bad_json", "JSON 之后还有多余内容")
	}
	return nil
}
