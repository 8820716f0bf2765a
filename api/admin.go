package api

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
)

// requireAdmin checks the bearer token; with no token configured the admin endpoints are off.
func (s *server) requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.AdminToken == "" {
			writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, "admin endpoints are disabled: no admin token is configured"))
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.AdminToken)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="arbiter-admin"`)
			writeProblem(w, r, problem(http.StatusUnauthorized, codeUnauthorized, "send Authorization: Bearer <admin token>"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *server) reload(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Reloader == nil {
		writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, "reload is not configured"))
		return
	}
	rep := s.cfg.Reloader.Reload(r.Context())
	if !rep.OK {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"type": "urn:arbiter:problem:" + codeReloadFailed, "title": titles[codeReloadFailed], "status": http.StatusUnprocessableEntity,
			"code": codeReloadFailed, "detail": rep.Error, "instance": r.URL.Path, "report": rep,
		})
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
