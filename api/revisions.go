package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"arbiter/auth"
	"arbiter/revision"
)

// RevisionRouteScopes maps each revision, draft and impact route ("METHOD /v1/pattern", as chi.Walk
// names it) to the scope flag a caller needs: reading revisions, drafts and impact (which shows
// logged answers) needs log:read, editing a draft draft, publishing publish.
var RevisionRouteScopes = map[string]string{
	"GET /v1/revisions":                                     auth.ScopeLogRead,
	"GET /v1/revisions/{rev}":                               auth.ScopeLogRead,
	"GET /v1/revisions/{rev}/diff":                          auth.ScopeLogRead,
	"POST /v1/revisions/{rev}/rollback":                     auth.ScopePublish,
	"GET /v1/drafts":                                        auth.ScopeLogRead,
	"POST /v1/drafts/{id}/versions":                         auth.ScopeDraft,
	"GET /v1/drafts/{id}/tables/{table}":                    auth.ScopeLogRead,
	"PUT /v1/drafts/{id}/tables/{table}/versions/{version}": auth.ScopeDraft,
	"GET /v1/drafts/{id}/files/*":                           auth.ScopeLogRead,
	"GET /v1/drafts/{id}/diff":                              auth.ScopeLogRead,
	"POST /v1/drafts":                                       auth.ScopeDraft,
	"GET /v1/drafts/{id}":                                   auth.ScopeLogRead,
	"PUT /v1/drafts/{id}/files/*":                           auth.ScopeDraft,
	"DELETE /v1/drafts/{id}/files/*":                        auth.ScopeDraft,
	"POST /v1/drafts/{id}/cases":                            auth.ScopeDraft,
	"POST /v1/drafts/{id}/impact":                           auth.ScopeLogRead,
	"POST /v1/drafts/{id}/publish":                          auth.ScopePublish,
}

// requireRouteScope answers 403 unless the caller holds the flag RevisionRouteScopes names for the
// route; a route missing from the table is refused, never let through.
func (s *server) requireRouteScope(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := chi.RouteContext(r.Context())
		route := r.Method + " " + rc.RoutePattern()
		flag, ok := RevisionRouteScopes[route]
		if c := callerOf(r); !ok || c == nil || !c.Scopes.Has(flag) {
			forbidden(w, r, fmt.Sprintf("%s needs the %s scope", route, flag))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// revisionRoutes mounts the revision, draft and impact routes (scopes: RevisionRouteScopes).
func (s *server) revisionRoutes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(s.requireRevisions)
		r = r.With(s.requireRouteScope)
		r.Get("/revisions", s.listRevisions)
		r.Get("/revisions/{rev}", s.getRevision)
		r.Get("/revisions/{rev}/diff", s.revisionDiff)
		r.Post("/revisions/{rev}/rollback", s.rollbackRevision)
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
