package api

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"arbiter/revision"
)

// RevisionRouteScopes maps each revision, draft and impact route ("METHOD /v1/pattern", as chi.Walk
// names it) to the caller scope it needs once callers carry scopes.
var RevisionRouteScopes = map[string]string{
	"GET /v1/revisions":              "read",
	"GET /v1/revisions/{rev}":        "read",
	"POST /v1/drafts":                "edit",
	"GET /v1/drafts/{id}":            "read",
	"PUT /v1/drafts/{id}/files/*":    "edit",
	"DELETE /v1/drafts/{id}/files/*": "edit",
	"POST /v1/drafts/{id}/cases":     "edit",
	"POST /v1/drafts/{id}/impact":    "read",
	"POST /v1/drafts/{id}/publish":   "publish",
}

// revisionRoutes mounts the revision, draft and impact routes (scopes: RevisionRouteScopes).
func (s *server) revisionRoutes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(s.requireRevisions)
		r.Get("/revisions", s.listRevisions)
		r.Get("/revisions/{rev}", s.getRevision)
		s.draftRoutes(r)
	})
}

// requireRevisions answers 404 when no database holds revisions (the embedded default).
func (s *server) requireRevisions(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Revisions == nil {
			writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, "revisions and drafts need a database (DATABASE_URL)"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *server) listRevisions(w http.ResponseWriter, r *http.Request) {
	revs, err := s.cfg.Revisions.List(r.Context(), 100)
	if err != nil {
		writeProblem(w, r, problem(http.StatusServiceUnavailable, codeInternal, err.Error()))
		return
	}
	if revs == nil {
		revs = []revision.Revision{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"revisions": revs})
}

func (s *server) getRevision(w http.ResponseWriter, r *http.Request) {
	rev, err := s.cfg.Revisions.Resolve(r.Context(), chi.URLParam(r, "rev"))
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rev)
}

// writeRevisionError maps revision and draft errors to problems.
func writeRevisionError(w http.ResponseWriter, r *http.Request, err error) {
	var ie *revision.ImmutabilityError
	switch {
	case errors.Is(err, revision.ErrNotFound):
		writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, err.Error()))
	case errors.As(err, &ie), errors.Is(err, revision.ErrNoChange), errors.Is(err, revision.ErrConflict):
		writeProblem(w, r, problem(http.StatusConflict, codeConflict, err.Error()))
	default:
		writeProblem(w, r, problem(http.StatusInternalServerError, codeInternal, err.Error()))
	}
}

const (
	codeConflict       = "revision_conflict"
	codeDraftPublished = "draft_published"
)

func init() {
	titles[codeConflict] = "The publish conflicts with published revisions"
	titles[codeDraftPublished] = "The draft was already published"
}
