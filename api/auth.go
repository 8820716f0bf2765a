package api

import (
	"crypto/subtle"
	"errors"
	"net/http"

	"arbiter/auth"
	"arbiter/engine"
)

// authenticate finds the caller of every /v1 request; without an authenticator every caller is
// anonymous with every scope but admin (a server built for tests or embedding).
func (s *server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var c *auth.Caller
		if s.cfg.Auth == nil {
			c = auth.Anonymous()
			if s.cfg.AdminToken != "" {
				if tok, ok := bearer(r); ok && subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.AdminToken)) == 1 {
					c = adminTokenCaller()
				}
			}
		} else {
			var err error
			c, err = s.cfg.Auth.Authenticate(r.Context(), r)
			if err != nil {
				if errors.Is(err, auth.ErrUnauthenticated) {
					w.Header().Set("WWW-Authenticate", `Bearer realm="arbiter"`)
					writeProblem(w, r, problem(http.StatusUnauthorized, codeUnauthenticated, err.Error()))
					return
				}
				s.cfg.Logger.Error("authentication failed", "path", r.URL.Path, "request_id", requestID(r), "err", err)
				writeProblem(w, r, problem(http.StatusServiceUnavailable, string(engine.CodeStoreUnavailable), "the key store is unavailable"))
				return
			}
		}
		if info := infoFrom(r.Context()); info != nil {
			info.caller = c.ID
		}
		next.ServeHTTP(w, r.WithContext(auth.WithCaller(r.Context(), c)))
	})
}

func adminTokenCaller() *auth.Caller {
	s, _ := auth.ParseScopes([]string{auth.ScopeAdmin})
	return &auth.Caller{ID: "admin-token", Name: "admin token", Scopes: s}
}

// forbidden answers 403 naming the scope the caller lacks.
func forbidden(w http.ResponseWriter, r *http.Request, detail string) {
	writeProblem(w, r, problem(http.StatusForbidden, codeForbidden, detail))
}

func callerOf(r *http.Request) *auth.Caller { return auth.CallerFrom(r.Context()) }
