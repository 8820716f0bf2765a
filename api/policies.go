package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

func (s *server) listPolicies(w http.ResponseWriter, _ *http.Request) {
	set := s.cfg.Engine.PolicySet()
	writeJSON(w, http.StatusOK, map[string]any{"revision": set.Revision(), "decisions": set.Decisions()})
}

func (s *server) getPolicy(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "decision")
	info, ok := s.cfg.Engine.PolicySet().Decision(id)
	if !ok {
		writeProblem(w, r, problem(http.StatusNotFound, "unknown_decision", "no decision "+id))
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *server) listTables(w http.ResponseWriter, _ *http.Request) {
	set := s.cfg.Engine.PolicySet()
	writeJSON(w, http.StatusOK, map[string]any{"revision": set.Revision(), "tables": set.Tables()})
}

func (s *server) status(w http.ResponseWriter, _ *http.Request) {
	set := s.cfg.Engine.PolicySet()
	out := map[string]any{
		"revision":    set.Revision(),
		"loaded_at":   set.LoadedAt(),
		"started_at":  s.started,
		"uptime":      time.Since(s.started).Round(time.Second).String(),
		"fact_source": s.cfg.FactSource,
	}
	if s.cfg.Published != nil {
		out["published"] = s.cfg.Published()
	}
	if s.cfg.Reloader != nil {
		if last, lastOK, tried := s.cfg.Reloader.Status(); tried {
			out["last_reload"] = last
			if lastOK.OK {
				out["last_good_reload"] = lastOK
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}
