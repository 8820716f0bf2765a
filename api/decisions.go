package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"arbiter/engine"
	"arbiter/engine/value"
	"arbiter/store/decisionlog"
)

// decisionRequest is the body of POST /v1/decisions/{decision}.
type decisionRequest struct {
	Input   json.RawMessage `json:"input"`
	AsOf    *string         `json:"as_of"`
	Version string          `json:"version"`
	Explain bool            `json:"explain"`
	DryRun  bool            `json:"dry_run"`
}

func (s *server) decide(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := chi.URLParam(r, "decision")
	req, p := s.decodeDecisionRequest(w, r, id)
	if p != nil {
		s.failed(w, r, id, *p)
		return
	}
	d, err := s.cfg.Engine.Decide(r.Context(), req)
	if err != nil {
		p := problemFromError(err)
		if p.Status >= 500 {
			s.cfg.Logger.Error("decision failed", "decision", id, "code", p.Code, "err", err)
		}
		s.failed(w, r, id, p)
		return
	}
	s.cfg.Metrics.Decisions.WithLabelValues(d.Decision, d.Outcome).Inc()
	s.cfg.Metrics.Latency.WithLabelValues(d.Decision).Observe(time.Since(start).Seconds())
	writeJSON(w, http.StatusOK, d)
}

func (s *server) failed(w http.ResponseWriter, r *http.Request, decision string, p Problem) {
	if _, known := s.cfg.Engine.PolicySet().Decision(decision); !known {
		decision = "unknown"
	}
	s.cfg.Metrics.DecisionErrors.WithLabelValues(decision, p.Code).Inc()
	writeProblem(w, r, p)
}

func (s *server) decodeDecisionRequest(w http.ResponseWriter, r *http.Request, id string) (engine.Request, *Problem) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			p := problem(http.StatusUnsupportedMediaType, codeUnsupportedMedia, fmt.Sprintf("Content-Type %q is not JSON", ct))
			return engine.Request{}, &p
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			p := problem(http.StatusRequestEntityTooLarge, codeBodyTooLarge, fmt.Sprintf("the body exceeds %d bytes", mbe.Limit))
			return engine.Request{}, &p
		}
		p := problem(http.StatusBadRequest, codeMalformedJSON, "the body could not be read")
		return engine.Request{}, &p
	}
	req, p := ParseRequest(body)
	req.Decision = id
	return req, p
}

// ParseRequest decodes and checks a decision request body, once, into the engine's value model;
// `arbiter eval` reads its file with it too. It never panics on any input.
func ParseRequest(body []byte) (engine.Request, *Problem) {
	if !utf8.Valid(body) {
		if field, msg, ok := locateBadText(body); ok {
			return engine.Request{}, textProblem(field, msg)
		}
	}
	var dr decisionRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&dr); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) && strings.Contains(se.Error(), "exceeded max depth") {
			if field, msg, ok := locateBadText(body); ok {
				return engine.Request{}, textProblem(field, msg)
			}
		}
		return engine.Request{}, bodyProblem(err)
	}
	if dec.More() {
		p := problem(http.StatusBadRequest, codeMalformedJSON, "the body holds more than one JSON value")
		return engine.Request{}, &p
	}
	req := engine.Request{Version: dr.Version, Explain: dr.Explain, DryRun: dr.DryRun}
	var ve *value.Error
	if _, err := value.Canonical(dr.Version, "version"); errors.As(err, &ve) {
		return req, textProblem("version", ve.Message)
	}
	if len(dr.Version) > maxVersionLength {
		return req, textProblem("version", fmt.Sprintf("is longer than %d characters", maxVersionLength))
	}
	if len(dr.Input) == 0 || string(dr.Input) == "null" {
		p := problem(http.StatusUnprocessableEntity, string(engine.CodeInvalidInput), "input is required",
			engine.FieldError{Field: "input", Message: "is required"})
		return req, &p
	}
	in, err := value.Decode(dr.Input, "input")
	if err != nil {
		if errors.As(err, &ve) {
			p := problem(http.StatusUnprocessableEntity, string(engine.CodeInvalidInput), "input: "+ve.Message,
				engine.FieldError{Field: ve.Path, Message: ve.Message})
			return req, &p
		}
		return req, bodyProblem(err)
	}
	req.Input = in
	if dr.AsOf != nil {
		t, err := time.Parse(time.RFC3339Nano, *dr.AsOf)
		if err != nil {
			p := problem(http.StatusBadRequest, codeInvalidRequest, "as_of must be an RFC 3339 timestamp with an offset, such as 2025-02-01T12:00:00+08:00",
				engine.FieldError{Field: "as_of", Message: "is not an RFC 3339 timestamp"})
			return req, &p
		}
		// The zero instant (0001-01-01T00:00:00Z) would read as "no as_of": refuse it with the range.
		if err := engine.CheckAsOf(t); err != nil {
			return req, textProblem("as_of", err.Error())
		}
		req.AsOf = t
	}
	return req, nil
}

func bodyProblem(err error) *Problem {
	var ute *json.UnmarshalTypeError
	var se *json.SyntaxError
	var p Problem
	switch {
	case errors.As(err, &ute):
		field := ute.Field
		if field == "" {
			field = "body"
		}
		p = problem(http.StatusBadRequest, codeInvalidRequest, fmt.Sprintf("%s must be %s", field, ute.Type),
			engine.FieldError{Field: field, Message: "must be " + ute.Type.String()})
	case errors.As(err, &se):
		p = problem(http.StatusBadRequest, codeMalformedJSON, fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		p = problem(http.StatusBadRequest, codeInvalidRequest, "unknown field "+field+"; the body takes input, as_of, version, explain and dry_run",
			engine.FieldError{Field: field, Message: "is not an allowed field"})
	case errors.Is(err, io.EOF):
		p = problem(http.StatusBadRequest, codeMalformedJSON, "the body is empty")
	default:
		p = problem(http.StatusBadRequest, codeMalformedJSON, err.Error())
	}
	return &p
}

func (s *server) getDecision(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if s.cfg.Log == nil {
		writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, "the decision log is disabled"))
		return
	}
	rec, err := s.cfg.Log.Get(r.Context(), id)
	if err != nil {
		if errors.Is(err, decisionlog.ErrNotFound) {
			writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, "no logged decision "+id))
			return
		}
		s.cfg.Logger.Error("decision log read failed", "id", id, "err", err)
		writeProblem(w, r, problem(http.StatusServiceUnavailable, string(engine.CodeStoreUnavailable), "the decision log is unavailable"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"decision_id": rec.ID,
		"decision":    rec.Decision,
		"version":     rec.Version,
		"as_of":       rec.AsOf,
		"outcome":     rec.Outcome,
		"recorded_at": rec.RecordedAt,
		"envelope":    rec.Envelope,
		"input":       rec.Input,
		"facts":       rec.Facts,
	})
}
