package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"arbiter/engine"
)

// Problem is an RFC 9457 problem document with a machine code and the fields at fault.
type Problem struct {
	Type     string              `json:"type"`
	Title    string              `json:"title"`
	Status   int                 `json:"status"`
	Detail   string              `json:"detail,omitempty"`
	Instance string              `json:"instance,omitempty"`
	Code     string              `json:"code"`
	Errors   []engine.FieldError `json:"errors,omitempty"`
}

// String renders the problem on one line: code, detail and every field at fault.
func (p Problem) String() string {
	out := p.Code + ": " + p.Detail
	for _, f := range p.Errors {
		out += "; " + f.Field + ": " + f.Message
	}
	return out
}

// API-level problem codes; engine codes pass through unchanged.
const (
	codeMalformedJSON    = "malformed_json"
	codeInvalidRequest   = "invalid_request"
	codeBodyTooLarge     = "body_too_large"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeUnauthorized     = "unauthorized"
	codeUnauthenticated  = "unauthenticated"
	codeForbidden        = "forbidden"
	codeUnsupportedMedia = "unsupported_media_type"
	codeInternal         = "internal_error"
	codeReloadFailed     = "reload_failed"
	codeLogDegraded      = "decision_log_degraded"
)

var engineStatus = map[engine.Code]int{
	engine.CodeInvalidInput:       http.StatusUnprocessableEntity,
	engine.CodeUnknownDecision:    http.StatusNotFound,
	engine.CodeUnknownVersion:     http.StatusNotFound,
	engine.CodeNoEffectiveVersion: http.StatusUnprocessableEntity,
	engine.CodeNoTableVersion:     http.StatusUnprocessableEntity,
	engine.CodeFactNotFound:       http.StatusUnprocessableEntity,
	engine.CodeStoreUnavailable:   http.StatusServiceUnavailable,
	engine.CodeEvaluationTimeout:  http.StatusServiceUnavailable,
	engine.CodePolicyError:        http.StatusInternalServerError,
	engine.CodeIdempotencyReuse:   http.StatusConflict,
	engine.CodeAsOfNotNow:         http.StatusUnprocessableEntity,
	engine.CodeOverloaded:         http.StatusServiceUnavailable,
}

var titles = map[string]string{
	codeMalformedJSON:                     "Request body is not valid JSON",
	codeInvalidRequest:                    "Request is not valid",
	codeBodyTooLarge:                      "Request body is too large",
	codeNotFound:                          "Not found",
	codeMethodNotAllowed:                  "Method not allowed",
	codeUnauthorized:                      "Missing or wrong bearer token",
	codeUnauthenticated:                   "Missing, unknown or revoked credentials",
	codeForbidden:                         "The caller's scopes do not allow this request",
	codeUnsupportedMedia:                  "Request body must be application/json",
	codeInternal:                          "Internal error",
	codeReloadFailed:                      "Reload failed; the last good policy set keeps serving",
	codeLogDegraded:                       "The decision log is dropping records or its spool is nearly full",
	string(engine.CodeInvalidInput):       "Input does not match the decision's schema",
	string(engine.CodeUnknownDecision):    "Unknown decision",
	string(engine.CodeUnknownVersion):     "Unknown policy version",
	string(engine.CodeNoEffectiveVersion): "No policy version is effective at as_of",
	string(engine.CodeNoTableVersion):     "A rule table has no version effective at as_of",
	string(engine.CodeFactNotFound):       "A fact the decision needs does not exist",
	string(engine.CodeStoreUnavailable):   "The fact store is unavailable",
	string(engine.CodeEvaluationTimeout):  "The decision did not finish in time",
	string(engine.CodePolicyError):        "The policy failed to evaluate",
	string(engine.CodeIdempotencyReuse):   "Idempotency key already used by a different request",
	string(engine.CodeAsOfNotNow):         "A commit decision is made at the server's clock, not at another as_of",
	string(engine.CodeOverloaded):         "The service is at capacity; retry after the Retry-After seconds",
}

func problem(status int, code, detail string, fields ...engine.FieldError) Problem {
	return Problem{Type: "urn:arbiter:problem:" + code, Title: titles[code], Status: status, Detail: detail, Code: code, Errors: fields}
}

// problemFromError maps an engine error to its problem; anything unknown is a 500 without internals.
func problemFromError(err error) Problem {
	var ee *engine.Error
	if errors.As(err, &ee) {
		status, ok := engineStatus[ee.Code]
		if !ok {
			status = http.StatusInternalServerError
		}
		detail := ee.Message
		switch {
		case detail != "":
		case status >= 500:
			detail = titles[string(ee.Code)] // the cause may name files and hosts: it goes to the log only
		default:
			detail = ee.Error()
		}
		return problem(status, string(ee.Code), detail, ee.Fields...)
	}
	return problem(http.StatusInternalServerError, codeInternal, "unexpected error")
}

// writeProblem answers p; its instance is the request id (also in the X-Request-Id header), which
// finds the request's log line.
func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	p.Instance = requestID(r)
	if p.Instance == "" {
		p.Instance = r.URL.Path
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	if p.Code == codeOverloaded {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
