// Package api serves arbiter's decision API over HTTP.
package api

import (
	"context"
	_ "embed"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"arbiter/auth"
	"arbiter/console"
	"arbiter/engine"
	"arbiter/internal/reload"
	"arbiter/revision"
	"arbiter/store"
	"arbiter/store/decisionlog"
)

//go:embed openapi.yaml
var openAPIDocument []byte

// OpenAPI returns the OpenAPI document describing this API.
func OpenAPI() []byte { return openAPIDocument }

// Config wires the API to the engine and its collaborators.
type Config struct {
	Engine   *engine.Engine
	Reloader *reload.Manager
	Log      decisionlog.Log
	Metrics  *Metrics
	Gatherer prometheus.Gatherer
	// Ready reports whether dependencies (the database) are reachable; nil means always ready.
	Ready func(ctx context.Context) error
	// Auth authenticates every /v1 request; nil makes every caller anonymous with every scope but
	// admin (AdminToken then guards /v1/admin/*, and empty disables it).
	Auth *auth.Authenticator
	// AdminToken is a bearer token accepted for /v1/admin/* only.
	AdminToken   string
	MaxBodyBytes int64
	Logger       *slog.Logger
	// FactSource names where facts come from ("postgres" or "memory"), for /v1/status.
	FactSource string
	// MaxInFlight bounds the decision evaluations in flight; 0 means DefaultMaxInFlight.
	MaxInFlight int
	// Samples holds sample request bodies named <decision>.json (fixtures/requests/); nil serves none.
	Samples fs.FS
	// Published reports the published revision this replica serves (revision.FollowerStatus), for
	// /v1/status; nil leaves it out.
	Published func() any
	// Revisions holds published revisions and drafts; nil disables the /v1/revisions and /v1/drafts routes.
	Revisions *revision.Store
	// Store is the fact store (for replaying a logged decision against a draft).
	Store store.Store
	// Fixtures says where in-memory facts were read from ("embedded" or "folder"), for /v1/status.
	Fixtures string
}

type server struct {
	cfg     Config
	started time.Time
}

// New returns the API's HTTP handler.
func New(cfg Config) http.Handler {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	s := &server{cfg: cfg, started: time.Now()}
	cfg.Metrics.SetRevision(cfg.Engine.PolicySet().Revision())

	r := chi.NewRouter()
	r.Use(requestLog(cfg.Logger), s.observe, recoverer(cfg.Logger))
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, "no such route"))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, problem(http.StatusMethodNotAllowed, codeMethodNotAllowed, r.Method+" is not allowed here"))
	})
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", s.ready)
	gatherer := cfg.Gatherer
	if gatherer == nil {
		gatherer = prometheus.DefaultGatherer
	}
	r.Handle("/metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	r.Get("/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(openAPIDocument)
	})
	r.Mount("/console", console.Handler())
	r.Route("/v1", func(r chi.Router) {
		r.Use(s.authenticate)
		r.With(newAdmission(cfg.MaxInFlight, cfg.Metrics.Overloaded.Inc, cfg.Logger).middleware).Post("/decisions/{decision}", s.decide)
		r.Get("/decisions/{id}", s.getDecision)
		r.Get("/commits/{decision}/{idempotency_key}", s.getCommit)
		r.Get("/policies", s.listPolicies)
		r.Get("/policies/{decision}", s.getPolicy)
		r.Get("/tables", s.listTables)
		r.Get("/tables/{table}/versions/{version}", s.getTableVersion)
		r.Get("/samples/{decision}", s.getSample)
		r.Get("/status", s.status)
		r.With(s.requireAdmin).Post("/admin/reload", s.reload)
		// Revisions, drafts and impact (revisions.go, drafts.go): see revisionRoutes for each route's scope.
		s.revisionRoutes(r)
	})
	return r
}

func (s *server) ready(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			s.notReady(w, r, err)
			return
		}
	}
	if s.cfg.Log != nil {
		if err := s.cfg.Log.Health(); err != nil {
			writeProblem(w, r, problem(http.StatusServiceUnavailable, codeLogDegraded, "the decision log is degraded: "+err.Error()))
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// recoverer turns a panic into a logged 500 problem instead of a dropped connection.
func recoverer(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.Error("panic serving request", "path", r.URL.Path, "panic", v)
					writeProblem(w, r, problem(http.StatusInternalServerError, codeInternal, "unexpected error"))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}
