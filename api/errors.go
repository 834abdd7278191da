package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"elicense/catalog"
)

// Errors of the HTTP layer itself. Domain errors come from catalog.
var (
	errUnauthenticated = errors.New("api: unauthenticated")
	errForbidden       = fmt.Errorf("api: %w", catalog.ErrForbidden)
	errBadRequest      = errors.New("api: bad request")
	errRateLimited     = errors.New("api: rate limited")
	errUnsupported     = errors.New("api: unsupported media type")
	errNoRoute         = errors.New("api: no such route")
	errMethod          = errors.New("api: method not allowed")
	errUnavailable     = errors.New("api: not configured")
	errLoginFailed     = errors.New("api: login failed")
)

// requestError is an error with a message for the caller and, optionally, a
// more precise code than its kind's; it unwraps to its kind (one of the
// sentinels above or of catalog).
type requestError struct {
	kind   error
	code   string
	msg    string
	fields []catalog.FieldError
}

func (e *requestError) Error() string { return e.kind.Error() + ": " + e.msg }
func (e *requestError) Unwrap() error { return e.kind }

func badRequest(code, msg string) error {
	return &requestError{kind: errBadRequest, code: code, msg: msg}
}

func fieldRequired(item, msg string) error {
	return &requestError{kind: errBadRequest, code: "missing_field", msg: msg,
		fields: []catalog.FieldError{{Item: item, Code: catalog.CodeRequired, Message: msg}}}
}

// errorRow is one line of the error table.
type errorRow struct {
	status int
	code   string
	msg    string
}

// statusOf is the one table from errors to HTTP statuses, stable error codes
// and public messages. The first matching row wins; anything unknown is a 500
// whose details are only logged.
func statusOf(err error) errorRow {
	var mb *http.MaxBytesError
	var te *catalog.TransitionError
	var ve *catalog.ValidationError
	switch {
	case errors.As(err, &mb):
		return errorRow{http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("请求体超过 %d 字节的上限", mb.Limit)}
	case errors.Is(err, errUnauthenticated):
		return errorRow{http.StatusUnauthorized, "unauthenticated", "需要有效的 API 密钥或持证人登录"}
	case errors.Is(err, errLoginFailed):
		return errorRow{http.StatusUnauthorized, "login_failed", "身份核验失败"}
	case errors.Is(err, errRateLimited):
		return errorRow{http.StatusTooManyRequests, "rate_limited", "请求过于频繁，请稍后再试"}
	case errors.Is(err, errUnsupported):
		return errorRow{http.StatusUnsupportedMediaType, "unsupported_media_type", "不支持的内容类型"}
	case errors.Is(err, errNoRoute):
		return errorRow{http.StatusNotFound, "not_found", "没有这个接口"}
	case errors.Is(err, errMethod):
		return errorRow{http.StatusMethodNotAllowed, "method_not_allowed", "不支持该请求方法"}
	case errors.Is(err, errUnavailable):
		return errorRow{http.StatusNotFound, "not_enabled", "该功能未启用"}
	case errors.Is(err, errBadRequest):
		return errorRow{http.StatusBadRequest, "bad_request", "请求格式错误"}
	case errors.As(err, &te):
		return errorRow{http.StatusConflict, "invalid_transition", "证照当前状态不允许该操作"}
	case errors.As(err, &ve):
		return errorRow{http.StatusUnprocessableEntity, "validation_failed", "数据校验未通过"}
	case errors.Is(err, catalog.ErrUnpublished):
		return errorRow{http.StatusConflict, "type_unpublished", "证照类型未发布"}
	case errors.Is(err, catalog.ErrInvalid):
		return errorRow{http.StatusBadRequest, "invalid", "输入不符合规则"}
	case errors.Is(err, catalog.ErrNotFound):
		return errorRow{http.StatusNotFound, "not_found", "未找到"}
	case errors.Is(err, catalog.ErrExists):
		return errorRow{http.StatusConflict, "exists", "已存在"}
	case errors.Is(err, catalog.ErrConflict):
		return errorRow{http.StatusConflict, "conflict", "记录已被修改，请重试"}
	case errors.Is(err, catalog.ErrForbidden):
		return errorRow{http.StatusForbidden, "forbidden", "无权访问"}
	case errors.Is(err, catalog.ErrLocked):
		return errorRow{http.StatusServiceUnavailable, "unavailable", "服务暂不可用"}
	case errors.Is(err, context.DeadlineExceeded):
		return errorRow{http.StatusServiceUnavailable, "timeout", "处理超时"}
	}
	return errorRow{http.StatusInternalServerError, "internal", "服务器内部错误"}
}

// errorBody is the JSON of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string       `json:"code"`
	Message   string       `json:"message"`
	RequestID string       `json:"requestId"`
	Fields    []fieldError `json:"fields,omitempty"`
}

type fieldError struct {
	Item    string `json:"item"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// fail renders err through the table and aborts the request. Server errors
// are logged with their details under the request ID.
func (s *server) fail(c *gin.Context, err error) {
	row := statusOf(err)
	d := errorDetail{Code: row.code, Message: row.msg, RequestID: requestIDOf(c)}
	var re *requestError
	if errors.As(err, &re) {
		if re.code != "" {
			d.Code = re.code
		}
		if re.msg != "" {
			d.Message = re.msg
		}
		d.Fields = toFields(re.fields)
	}
	var ve *catalog.ValidationError
	if errors.As(err, &ve) {
		d.Fields = toFields(ve.Problems)
	}
	if row.status >= 500 {
		s.Logger.Error("request failed", "requestId", d.RequestID, "route", c.FullPath(), "err", err)
	}
	if row.status == http.StatusTooManyRequests {
		c.Header("Retry-After", "1")
	}
	c.Abort()
	c.JSON(row.status, errorBody{d})
}

func toFields(fs []catalog.FieldError) []fieldError {
	if len(fs) == 0 {
		return nil
	}
	out := make([]fieldError, len(fs))
	for i, f := range fs {
		out[i] = fieldError{Item: f.Item, Code: f.Code, Message: f.Message}
	}
	return out
}
