package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// statuses is the one table from kinds of domain errors (zones.KindOf
// decides which error is which kind, for gRPC and HTTP alike) to HTTP
// statuses.
var statuses = map[zones.ErrorKind]int{
	zones.KindInternal:        http.StatusInternalServerError,
	zones.KindUnauthenticated: http.StatusUnauthorized,
	zones.KindDenied:          http.StatusForbidden,
	zones.KindPermission:      http.StatusForbidden,
	zones.KindQuota:           http.StatusInsufficientStorage,
	zones.KindNotFound:        http.StatusNotFound,
	zones.KindExists:          http.StatusConflict,
	zones.KindInvalid:         http.StatusBadRequest,
	zones.KindPrecondition:    http.StatusPreconditionFailed,
	zones.KindLocked:          http.StatusLocked,
	zones.KindRetained:        http.StatusLocked,
	zones.KindConflict:        http.StatusConflict,
	zones.KindDataLoss:        http.StatusInternalServerError,
	zones.KindUnavailable:     http.StatusServiceUnavailable,
	zones.KindCanceled:        http.StatusServiceUnavailable,
	zones.KindDeadline:        http.StatusGatewayTimeout,
}

// Problem is the JSON body of every error the API answers.
type Problem struct {
	// Error is the message, which names what was wrong.
	Error string `json:"error"`
	// Code is the kind of failure (zones.ErrorKind's name, or one of the
	// HTTP layer's own: no_route, method_not_allowed, unsupported_media_type,
	// too_large, range_not_satisfiable, bad_path).
	Code string `json:"code"`
	// Rule names the policy rule that denied the operation.
	Rule string `json:"rule,omitempty"`
	// Status repeats the HTTP status.
	Status int `json:"status"`
}

// ProblemOf is the status and body that answer err.
func ProblemOf(err error) Problem {
	var re *requestError
	if errors.As(err, &re) {
		return Problem{Error: re.msg, Code: re.code, Status: re.status}
	}
	kind := zones.KindOf(err)
	status, ok := statuses[kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	p := Problem{Error: err.Error(), Code: kind.String(), Status: status}
	var d *rules.Denial
	if errors.As(err, &d) {
		p.Rule = d.Rule
	}
	return p
}

// StatusOf is the HTTP status that answers err.
func StatusOf(err error) int { return ProblemOf(err).Status }

// requestError is a failure of the HTTP layer itself (a bad URL, a body of
// the wrong type), before any zone method runs.
type requestError struct {
	status    int
	code, msg string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(code, msg string) error {
	return &requestError{status: http.StatusBadRequest, code: code, msg: msg}
}

func reqError(status int, code, msg string) error {
	return &requestError{status: status, code: code, msg: msg}
}

// WriteError answers err as JSON with the status of the one table.
func WriteError(w http.ResponseWriter, err error) {
	p := ProblemOf(err)
	h := w.Header()
	switch p.Status {
	case http.StatusUnauthorized:
		if h.Get("WWW-Authenticate") == "" {
			h.Set("WWW-Authenticate", `Bearer realm="arca"`)
		}
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", "10")
	}
	writeJSON(w, p.Status, p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Del("Content-Length")
	if status != http.StatusRequestedRangeNotSatisfiable {
		h.Del("Content-Range")
	}
	h.Del("ETag")
	h.Del("Last-Modified")
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
