package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"arbiter/engine"
	"arbiter/store"
)

// storedCommit is the answer of GET /v1/commits/{decision}/{idempotency_key}.
type storedCommit struct {
	Decision       string          `json:"decision"`
	IdempotencyKey string          `json:"idempotency_key"`
	DecisionID     string          `json:"decision_id"`
	CommittedAt    time.Time       `json:"committed_at"`
	Answer         json.RawMessage `json:"answer"`
}

// getCommit answers whether a commit decision was stored under an idempotency key, with the answer
// it gave: a client whose commit request ended without an answer (a timeout, a 503) finds out here.
func (s *server) getCommit(w http.ResponseWriter, r *http.Request) {
	decision := chi.URLParam(r, "decision")
	key, err := url.PathUnescape(chi.URLParam(r, "idempotency_key"))
	if err != nil {
		key = chi.URLParam(r, "idempotency_key")
	}
	if _, known := s.cfg.Engine.PolicySet().Decision(decision); !known {
		writeProblem(w, r, problem(http.StatusNotFound, string(engine.CodeUnknownDecision), "no decision "+decision))
		return
	}
	finder, ok := s.cfg.Engine.Store().(store.CommitFinder)
	if !ok {
		writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, "this fact store keeps no commits"))
		return
	}
	notFound := problem(http.StatusNotFound, codeNotFound, "no commit of "+decision+" under this idempotency key")
	if strings.IndexByte(key, 0) >= 0 || !utf8.ValidString(key) || len(key) > engine.MaxKeyLength {
		writeProblem(w, r, notFound) // no commit can be stored under such a key
		return
	}
	rec, err := finder.FindCommit(r.Context(), decision, key)
	if err != nil {
		p := problem(http.StatusServiceUnavailable, string(engine.CodeStoreUnavailable), "the commit store is unavailable")
		if errors.Is(err, store.ErrOverloaded) {
			p = problem(http.StatusServiceUnavailable, codeOverloaded, "no database connection was free in time")
		}
		s.cfg.Logger.Error("commit lookup failed", "decision", decision, "code", p.Code, "err", err)
		writeProblem(w, r, p)
		return
	}
	if rec == nil {
		writeProblem(w, r, notFound)
		return
	}
	writeJSON(w, http.StatusOK, storedCommit{
		Decision: rec.Decision, IdempotencyKey: rec.IdempotencyKey, DecisionID: rec.DecisionID,
		CommittedAt: rec.CreatedAt, Answer: rec.Answer,
	})
}
