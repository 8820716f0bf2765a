package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"arbiter/auth"
)

// bearer returns the request's bearer token.
func bearer(r *http.Request) (string, bool) {
	return strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
}

// requireAdmin lets callers with the admin scope through. A server without an authenticator takes
// only the admin token, and with no token configured its admin endpoints are off.
func (s *server) requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := callerOf(r)
		if c.Has(auth.ScopeAdmin) {
			next.ServeHTTP(w, r)
			return
		}
		if s.cfg.Auth == nil || !s.cfg.Auth.Required {
			if s.cfg.AdminToken == "" {
				writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, "admin endpoints are disabled: no admin token is configured"))
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="arbiter-admin"`)
			writeProblem(w, r, problem(http.StatusUnauthorized, codeUnauthorized, "send Authorization: Bearer <admin token>"))
			return
		}
		forbidden(w, r, "reloading needs the admin scope")
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
			"code": codeReloadFailed, "detail": rep.Error, "instance": requestID(r), "report": rep,
		})
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
