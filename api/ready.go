package api

import (
	"errors"
	"net/http"

	"arbiter/engine"
	"arbiter/store"
)

// notReady answers /readyz with the reason: the database unreachable, or its schema not migrated.
func (s *server) notReady(w http.ResponseWriter, r *http.Request, err error) {
	s.cfg.Logger.Error("not ready", "err", err)
	detail := "the database is not reachable"
	if errors.Is(err, store.ErrSchemaBehind) {
		detail = err.Error() // versions only: safe to show, and what an operator needs
	}
	writeProblem(w, r, problem(http.StatusServiceUnavailable, string(engine.CodeStoreUnavailable), detail))
}
