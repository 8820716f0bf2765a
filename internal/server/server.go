// Package server wires configuration, fact store, engine, decision log, reload and HTTP together.
package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"arbiter"
	"arbiter/api"
	"arbiter/engine"
	"arbiter/internal/reload"
	"arbiter/revision"
	"arbiter/store"
	"arbiter/store/decisionlog"
)

// Config is the service's configuration; FromEnv fills it from ARBITER_* variables.
type Config struct {
	Addr         string        // listen address
	DatabaseURL  string        // empty: in-memory facts from fixtures
	PolicyDir    string        // folder holding policies/ and rules/; empty: the embedded bundle
	FixturesDir  string        // folder of fixture YAML for the in-memory store; empty: the policy tree's fixtures/
	AdminToken   string        // bearer token for /v1/admin/*; empty disables them
	EvalTimeout  time.Duration // deadline of one evaluation
	MaxBodyBytes int64
	LogQueue     int // decision-log queue length
	// LogSpoolDir is where decision-log records wait on disk while the database is unreachable
	// (each process claims a numbered slot in it); empty: no spool.
	LogSpoolDir       string
	LogSpoolMax       int64   // bytes the spool may hold
	LogDropThreshold  int     // /readyz degrades when this many records were dropped in the last minute
	LogSpoolHighWater float64 // /readyz degrades when the spool holds more than this fraction of LogSpoolMax
	// CommitClockSkew is how far a commit request's as_of may be from the clock (0: the engine's
	// default); negative keeps the request's as_of, for test harnesses that replay pinned instants.
	CommitClockSkew time.Duration
	Clock           func() time.Time // nil: the system clock
	MaxInFlight     int              // evaluations admitted at once; 0: api.DefaultMaxInFlight (4 per core)
	// RevisionPoll is how often a replica checks for a newly published revision besides listening for
	// its NOTIFY; default 10s.
	RevisionPoll time.Duration
}

// FromEnv reads the configuration from the environment, with defaults.
func FromEnv() Config {
	c := Config{
		Addr:         getenv("ARBITER_ADDR", ":8080"),
		DatabaseURL:  os.Getenv("DATABASE_URL"),
		PolicyDir:    os.Getenv("ARBITER_POLICY_DIR"),
		FixturesDir:  os.Getenv("ARBITER_FIXTURES_DIR"),
		AdminToken:   os.Getenv("ARBITER_ADMIN_TOKEN"),
		EvalTimeout:  2 * time.Second,
		MaxBodyBytes: 1 << 20,
		LogQueue:     10000,
		LogSpoolDir:  getenv("ARBITER_LOG_SPOOL_DIR", filepath.Join(os.TempDir(), "arbiter-decision-log-"+strconv.Itoa(os.Getuid()))),
		LogSpoolMax:  256 << 20,
	}
	if c.LogSpoolDir == "off" {
		c.LogSpoolDir = ""
	}
	if n, err := ParseBytes(os.Getenv("ARBITER_LOG_SPOOL_MAX")); err == nil && n > 0 {
		c.LogSpoolMax = n
	}
	if n, err := strconv.Atoi(os.Getenv("ARBITER_LOG_QUEUE")); err == nil && n > 0 {
		c.LogQueue = n
	}
	if n, err := strconv.Atoi(os.Getenv("ARBITER_LOG_DROP_THRESHOLD")); err == nil && n > 0 {
		c.LogDropThreshold = n
	}
	if f, err := strconv.ParseFloat(os.Getenv("ARBITER_LOG_SPOOL_HIGH_WATER"), 64); err == nil && f > 0 && f <= 1 {
		c.LogSpoolHighWater = f
	}
	if d, err := time.ParseDuration(os.Getenv("ARBITER_EVAL_TIMEOUT")); err == nil && d > 0 {
		c.EvalTimeout = d
	}
	if d, err := time.ParseDuration(os.Getenv("ARBITER_COMMIT_CLOCK_SKEW")); err == nil && d != 0 {
		c.CommitClockSkew = d
	}
	if n, err := strconv.Atoi(os.Getenv("ARBITER_MAX_INFLIGHT")); err == nil && n > 0 {
		c.MaxInFlight = n
	}
	if d, err := time.ParseDuration(os.Getenv("ARBITER_REVISION_POLL")); err == nil && d > 0 {
		c.RevisionPoll = d
	}
	return c
}

// ParseBytes reads a size such as 1048576, 512KiB, 64MiB or 1GiB.
func ParseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: want bytes, optionally with KiB, MiB or GiB", s)
	}
	return n * mult, nil
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// Service is a built, not yet listening, arbiter service.
type Service struct {
	Handler  http.Handler
	Engine   *engine.Engine
	Reloader *reload.Manager
	Store    store.Store
	Log      decisionlog.Log
	Source   string
	// Revisions and Follower are set with a database: published revisions and this replica's follower.
	Revisions *revision.Store
	Follower  *revision.Follower
	closers   []func()
}

// Close flushes the decision log and releases the store.
func (s *Service) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// PolicySource returns the tree policies and tables are loaded (and reloaded) from.
func PolicySource(dir string) reload.Source {
	if dir == "" {
		return func() (fs.FS, error) { return arbiter.Bundle(), nil }
	}
	return func() (fs.FS, error) {
		if _, err := os.Stat(dir); err != nil {
			return nil, err
		}
		return os.DirFS(dir), nil
	}
}

// Build assembles the service described by cfg.
func Build(ctx context.Context, cfg Config, log *slog.Logger) (*Service, error) {
	if cfg.EvalTimeout <= 0 {
		cfg.EvalTimeout = 2 * time.Second // a zero deadline would time out every evaluation
	}
	source := PolicySource(cfg.PolicyDir)
	set, _, err := reload.Build(ctx, source)
	if err != nil {
		return nil, err
	}
	cat := set.Catalog()
	svc := &Service{}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := api.NewMetrics(reg)

	for _, reason := range decisionlog.DropReasons {
		metrics.LogDropped.WithLabelValues(reason) // present at 0 before the first drop
	}
	logOpts := decisionlog.Options{
		QueueSize: cfg.LogQueue, DropThreshold: cfg.LogDropThreshold, SpoolHighWater: cfg.LogSpoolHighWater,
		SpoolDir: cfg.LogSpoolDir, SpoolMax: cfg.LogSpoolMax,
		OnDrop:  func(reason string, n int) { metrics.LogDropped.WithLabelValues(reason).Add(float64(n)) },
		OnError: func(err error) { log.Warn("decision log", "err", err) },
	}
	var ready func(context.Context) error
	if cfg.DatabaseURL != "" {
		pg, err := store.OpenPostgres(ctx, cfg.DatabaseURL, cat)
		if err != nil {
			return nil, fmt.Errorf("database: %w", err)
		}
		svc.Store, svc.Source, ready = pg, "postgres", pg.Ready
		svc.closers = append(svc.closers, pg.Close)
		plog, err := decisionlog.OpenPostgres(pg.Pool(), logOpts)
		if err != nil {
			pg.Close()
			return nil, fmt.Errorf("decision log: %w", err)
		}
		svc.Log = plog
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "arbiter_decision_log_spool_bytes", Help: "Bytes of decision-log records waiting on disk for the database.",
		}, func() float64 { return float64(plog.Spooled()) }))
		if dir := plog.SpoolDir(); dir != "" {
			log.Info("decision log spools to disk while the database is away", "dir", dir, "max_bytes", cfg.LogSpoolMax)
		}
		log.Info("facts from PostgreSQL", "revision", set.Revision())
	} else {
		fixtures := arbiter.Fixtures()
		switch {
		case cfg.FixturesDir != "":
			fixtures = os.DirFS(cfg.FixturesDir)
		case cfg.PolicyDir != "":
			fixtures = os.DirFS(filepath.Join(cfg.PolicyDir, "fixtures"))
		}
		rows, err := store.LoadRowsDir(cat, fixtures)
		if err != nil {
			return nil, fmt.Errorf("fixtures: %w", err)
		}
		mem, err := store.NewMemory(cat, rows)
		if err != nil {
			return nil, fmt.Errorf("fixtures: %w", err)
		}
		svc.Store, svc.Source = mem, "memory"
		svc.closers = append(svc.closers, mem.Close)
		mlog := decisionlog.NewMemoryWith(10000, logOpts)
		mem.LogTo(func(r store.LogRecord) { mlog.Enqueue(r) }) // commits are logged as they are stored
		svc.Log = mlog
		log.Warn("no DATABASE_URL: serving in-memory facts from fixtures/ (nothing is persisted)", "revision", set.Revision())
	}
	svc.closers = append(svc.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := svc.Log.Close(ctx); err != nil {
			log.Warn("decision log flush", "err", err)
		}
	})
	opts := []engine.Option{engine.WithTimeout(cfg.EvalTimeout), engine.WithRecorder(svc.Log)}
	if cfg.CommitClockSkew != 0 {
		opts = append(opts, engine.WithCommitClockSkew(cfg.CommitClockSkew))
	}
	if cfg.CommitClockSkew < 0 {
		log.Warn("commit decisions keep the request's as_of (negative commit clock skew): for test harnesses only")
	}
	if cfg.Clock != nil {
		opts = append(opts, engine.WithClock(cfg.Clock))
	}
	svc.Engine = engine.New(set, svc.Store, opts...)
	svc.Reloader = reload.New(svc.Engine, source, cat, reload.Hooks{OnResult: func(r reload.Report) {
		if r.OK {
			metrics.Reloads.WithLabelValues("success").Inc()
			metrics.ReloadOK.Set(1)
			metrics.SetRevision(r.ServingRevision)
			log.Info("policy set reloaded", "revision", r.Revision, "cases", r.Cases)
			return
		}
		metrics.Reloads.WithLabelValues("failure").Inc()
		metrics.ReloadOK.Set(0)
		log.Error("policy reload failed; the last good set keeps serving", "error", r.Error, "serving", r.ServingRevision,
			"problems", r.Problems, "failed_cases", r.FailedCases)
	}})
	published := func() any { return map[string]string{"mode": "embedded"} }
	if pg, ok := svc.Store.(*store.Postgres); ok {
		svc.follow(ctx, pg, cfg, log, reg)
		published = func() any { return svc.Follower.Status() }
	}
	svc.Handler = api.New(api.Config{
		Engine: svc.Engine, Reloader: svc.Reloader, Log: svc.Log, Metrics: metrics, Gatherer: reg,
		Ready: ready, AdminToken: cfg.AdminToken, MaxBodyBytes: cfg.MaxBodyBytes, Logger: log, FactSource: svc.Source,
		MaxInFlight: cfg.MaxInFlight,
		Samples:     sampleRequests(cfg),
		Published:   published, Revisions: svc.Revisions, Store: svc.Store,
	})
	return svc, nil
}

// sampleRequests is the fixtures/requests/ folder of the served tree, or nil when it has none.
func sampleRequests(cfg Config) fs.FS {
	if cfg.PolicyDir == "" {
		sub, err := fs.Sub(arbiter.Fixtures(), "requests")
		if err != nil {
			return nil
		}
		return sub
	}
	return os.DirFS(filepath.Join(cfg.PolicyDir, "fixtures", "requests"))
}

// follow makes the service serve the latest published revision now (when there is one) and follow
// later publishes until Close.
func (svc *Service) follow(ctx context.Context, pg *store.Postgres, cfg Config, log *slog.Logger, reg prometheus.Registerer) {
	svc.Revisions = revision.NewStore(pg.Pool())
	svc.Follower = revision.NewFollower(svc.Revisions, func(ctx context.Context, rev revision.Revision, t revision.Tree) (bool, string) {
		rep := svc.Reloader.ReloadFrom(ctx, func() (fs.FS, error) { return t.FS(), nil })
		if rep.OK {
			return true, ""
		}
		reason := rep.Error
		for i, p := range append(rep.Problems, rep.FailedCases...) {
			if i == 5 {
				reason += "; …"
				break
			}
			reason += "; " + p
		}
		return false, reason
	}, cfg.RevisionPoll, log, reg)
	if err := svc.Follower.Sync(ctx); err != nil {
		log.Warn("reading published revisions failed; serving the compiled-in or ARBITER_POLICY_DIR tree until they can be read", "err", err)
	}
	if svc.Follower.Status().Mode != "published" {
		log.Warn("no published revision serves: serving the compiled-in or ARBITER_POLICY_DIR tree (arbiter publish DIR -m MSG publishes one)")
	}
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.Follower.Run(fctx)
	}()
	svc.closers = append(svc.closers, func() { cancel(); <-done })
}

// defaultGCPercent trades a little memory for fewer collections: the live heap of a decision
// server is small (compiled policies, fixtures, pools), and collections drove its tail latency.
const defaultGCPercent = 400

// Run serves until ctx ends or SIGINT/SIGTERM; SIGHUP reloads the policy set.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	svc, err := Build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer svc.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: svc.Handler, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				svc.Reloader.Reload(ctx)
			}
		}
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("arbiter serving", "addr", ln.Addr().String(), "facts", svc.Source, "revision", svc.Engine.PolicySet().Revision())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("arbiter stopped")
	return nil
}
