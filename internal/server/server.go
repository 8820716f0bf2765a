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
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"arbiter"
	"arbiter/api"
	"arbiter/auth"
	"arbiter/engine"
	"arbiter/internal/reload"
	"arbiter/internal/telemetry"
	"arbiter/revision"
	"arbiter/store"
	"arbiter/store/decisionlog"
)

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
	Fixtures  string // in-memory facts: "embedded" or "folder"; empty over PostgreSQL
	closers   []func()
	// Sink ships decision events to ARBITER_LOG_SINK_URL; nil without one.
	Sink *decisionlog.HTTPSink
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
	registerBuildInfo(reg)

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
	switch cfg.Auth {
	case "", "required", "open":
	default:
		return nil, fmt.Errorf("ARBITER_AUTH=%q: use required or open", cfg.Auth)
	}
	authn := &auth.Authenticator{AdminToken: cfg.AdminToken, Required: cfg.Auth == "required" || cfg.DatabaseURL != "" || cfg.KeysFile != ""}
	if cfg.Auth == "open" && authn.Required {
		return nil, errors.New("ARBITER_AUTH=open: a service with a database or a keys file always authenticates its callers")
	}
	if cfg.JWT.JWKS != "" {
		v, err := auth.NewJWTVerifier(ctx, cfg.JWT)
		if err != nil {
			return nil, err
		}
		authn.JWT = v
		svc.closers = append(svc.closers, v.Close)
	}
	if cfg.DatabaseURL != "" {
		pg, err := store.OpenPostgres(ctx, cfg.DatabaseURL, cat)
		if err != nil {
			return nil, fmt.Errorf("database: %w", err)
		}
		svc.Store, svc.Source, ready = pg, "postgres", pg.Ready
		reg.MustRegister(newPoolCollector(pg.Pool()))
		svc.closers = append(svc.closers, pg.Close)
		authn.Keys = auth.NewPostgresKeys(pg.Pool())
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
		// The log's monthly partitions are made ahead of time by every replica; with a retention,
		// months past it are dropped whole.
		pctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		interval := time.Hour
		if cfg.LogRetention > 0 {
			interval = min(time.Hour, max(time.Minute, cfg.LogRetention/4))
		}
		go func() {
			defer close(done)
			decisionlog.Maintain(pctx, pg.Pool(), cfg.LogRetention, interval, func(created []string, pruned decisionlog.Pruned, err error) {
				switch {
				case err != nil:
					log.Warn("decision log partitions", "err", err)
				case len(created) > 0 || len(pruned.Partitions) > 0 || pruned.Rows > 0:
					log.Info("decision log partitions", "created", created, "dropped", pruned.Partitions, "deleted", pruned.Rows, "older_than", cfg.LogRetention.String())
				}
			})
		}()
		svc.closers = append(svc.closers, func() { stop(); <-done })
	} else {
		fixtures, from, where := arbiter.Fixtures(), "embedded", "the fixtures compiled into the binary"
		switch {
		case cfg.FixturesDir != "":
			fixtures, from, where = os.DirFS(cfg.FixturesDir), "folder", cfg.FixturesDir
		case cfg.PolicyDir != "":
			dir := filepath.Join(cfg.PolicyDir, "fixtures")
			fixtures, from, where = os.DirFS(dir), "folder", dir
		}
		rows, err := store.LoadRowsDir(cat, fixtures)
		if err != nil {
			return nil, fmt.Errorf("fixtures: %w", err)
		}
		mem, err := store.NewMemory(cat, rows)
		if err != nil {
			return nil, fmt.Errorf("fixtures: %w", err)
		}
		svc.Store, svc.Source, svc.Fixtures = mem, "memory", from
		svc.closers = append(svc.closers, mem.Close)
		mlog := decisionlog.NewMemoryWith(10000, logOpts)
		mem.LogTo(func(r store.LogRecord) { mlog.Enqueue(r) }) // commits are logged as they are stored
		svc.Log = mlog
		if cfg.KeysFile != "" {
			keys, err := auth.NewFileKeys(cfg.KeysFile)
			if err != nil {
				return nil, err
			}
			authn.Keys = keys
		}
		log.Warn(FixtureBanner, "fixtures", where, "revision", set.Revision())
	}
	switch {
	case !authn.Required:
		log.Warn("AUTHENTICATION IS OFF: every loopback client may ask every decision, commit, read the log and see personal data; " +
			"other clients are refused. Set ARBITER_KEYS_FILE or DATABASE_URL (keys from `arbiter keys create`) to require credentials")
	case authn.Keys == nil && authn.JWT == nil && authn.AdminToken == "":
		return nil, errors.New("ARBITER_AUTH=required but no credentials can be accepted: set ARBITER_KEYS_FILE or ARBITER_JWT_JWKS")
	default:
		log.Info("authentication required", "api_keys", authn.Keys != nil, "jwt", authn.JWT != nil, "admin_token", authn.AdminToken != "")
	}
	svc.closers = append(svc.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := svc.Log.Close(ctx); err != nil {
			log.Warn("decision log flush", "err", err)
		}
	})
	opts := []engine.Option{engine.WithTimeout(cfg.EvalTimeout), engine.WithRecorder(svc.Log)}
	if cfg.LogSinkURL != "" {
		sink := newSink(cfg, reg, log)
		svc.Sink = sink
		opts = append(opts, engine.WithSink(sink))
		svc.closers = append(svc.closers, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := sink.Close(ctx); err != nil {
				log.Warn("decision log sink", "err", err, "dropped", sink.Dropped())
			}
		})
		log.Info("decision events shipped", "url", redactURL(cfg.LogSinkURL), "batch", cfg.LogSinkBatch, "buffer", cfg.LogSinkBuffer)
	}
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
		Ready: ready, Auth: authn, AdminToken: cfg.AdminToken, MaxBodyBytes: cfg.MaxBodyBytes, Logger: log, FactSource: svc.Source,
		MaxInFlight: cfg.MaxInFlight,
		Samples:     sampleRequests(cfg),
		Published:   published, Revisions: svc.Revisions, Store: svc.Store,
		Fixtures: svc.Fixtures,
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

// FixtureBanner is logged when the service starts without DATABASE_URL, so that nobody mistakes
// fixture data for production facts.
const FixtureBanner = "!!! SERVING FIXTURE DATA: DATABASE_URL is not set; facts are test fixtures held in memory, " +
	"commits and the decision log are lost on exit. Set DATABASE_URL to serve real facts. !!!"

// defaultGCPercent trades a little memory for fewer collections: the live heap of a decision
// server is small (compiled policies, fixtures, pools), and collections drove its tail latency.
const defaultGCPercent = 400

// Run serves until ctx ends or SIGINT/SIGTERM; SIGHUP reloads the policy set. On the signal /readyz
// fails for cfg.Drain (cut short by a second signal) while requests are still served, then in-flight
// requests finish and it returns.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := CheckAddr(cfg.Addr); err != nil {
		return fmt.Errorf("listen address: %w", err)
	}
	mp := chooseMemoryPolicy(os.Getenv, "/sys/fs/cgroup")
	if mp.Limit > 0 {
		debug.SetMemoryLimit(mp.Limit)
	}
	if mp.GCPercent > 0 {
		debug.SetGCPercent(mp.GCPercent)
	}
	log.Info("memory", "policy", mp.Reason, "gomemlimit", debug.SetMemoryLimit(-1), "gogc", gcPercent())
	tracing, stopTracing, err := telemetry.Setup(ctx)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer func() {
		flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := stopTracing(flush); err != nil {
			log.Warn("trace export at exit", "err", err)
		}
	}()
	log.Info("tracing", "otlp", tracing)
	svc, err := Build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer svc.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var draining atomic.Bool
	srv := &http.Server{Handler: drainable(svc.Handler, &draining), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
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
	draining.Store(true)
	srv.SetKeepAlivesEnabled(false)
	// A second signal cuts the drain short (an operator who means "now").
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	log.Info("draining: /readyz fails, requests are still served", "for", cfg.Drain.String())
	select {
	case <-time.After(cfg.Drain):
	case <-again:
		log.Info("second signal: drain cut short")
	case err := <-errc:
		return err
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("arbiter stopped")
	return nil
}

// drainable answers /readyz with 503 once draining is set, so load balancers stop sending new
// requests before the listener closes.
func drainable(next http.Handler, draining *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() && r.URL.Path == "/readyz" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"draining"}` + "\n"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// gcPercent reads the current GOGC without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}
