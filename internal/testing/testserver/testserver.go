// Package testserver runs the real arbiter HTTP service over a fresh PostgreSQL database for tests.
//
// Start gives an in-process server (httptest) wired exactly as `arbiter serve` wires it; StartProcess
// runs the built binary as a separate process, for tests that need two replicas on one database.
// Servers over a database authenticate their callers: each gets an API key with every scope, carried
// in its URL's user information, so any HTTP client sends it (as Basic authentication).
package testserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"arbiter/auth"
	"arbiter/internal/server"
	"arbiter/internal/testing/pgtest"
	"arbiter/store"
)

// Options configure Start.
type Options struct {
	// DatabaseURL reuses an existing migrated database (a second replica); empty creates a fresh one.
	DatabaseURL string
	// Rows are loaded into the database before serving (replacing those tables' rows).
	Rows store.Rows
	// Fixtures loads fixtures/ before Rows.
	Fixtures bool
	// PolicyDir serves policies from a folder instead of the embedded bundle (for reload tests).
	PolicyDir  string
	AdminToken string
	// LogSpoolDir is the decision log's spool (a test folder when empty); LogSpoolMax bounds it
	// (the service default when 0); LogDropThreshold is where /readyz degrades (default when 0).
	LogSpoolDir      string
	LogSpoolMax      int64
	LogDropThreshold int
	// CommitClockSkew is the server's commit clock skew. Zero keeps each commit request's as_of, as
	// the catalog cases do, so tests pin the instant of the act; set it (with Clock) to test the check.
	CommitClockSkew time.Duration
	Clock           func() time.Time // nil: the system clock
	// RevisionPoll is how often the server checks for a published revision besides LISTEN (0: 10s).
	RevisionPoll time.Duration
}

// Server is a running in-process arbiter server.
type Server struct {
	// URL carries the all-scopes key (http://key:<key>@host:port); BaseURL carries none.
	URL, BaseURL string
	// Key is an API key with every scope.
	Key         string
	DatabaseURL string
	Service     *server.Service
	Postgres    *store.Postgres
	Client      *http.Client
}

// Start serves the real handler over PostgreSQL; everything is torn down with the test.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	url := opts.DatabaseURL
	if url == "" {
		url = pgtest.New(t)
	}
	ctx := context.Background()
	spool := opts.LogSpoolDir
	if spool == "" {
		spool = t.TempDir()
	}
	cfg := server.Config{DatabaseURL: url, PolicyDir: opts.PolicyDir, AdminToken: opts.AdminToken,
		EvalTimeout: evalTimeout, MaxBodyBytes: 1 << 20, LogQueue: 10000, CommitClockSkew: -1, Clock: opts.Clock,
		MaxInFlight: raceInFlight, RevisionPoll: opts.RevisionPoll,
		LogSpoolDir: spool, LogSpoolMax: opts.LogSpoolMax, LogDropThreshold: opts.LogDropThreshold}
	if opts.CommitClockSkew != 0 {
		cfg.CommitClockSkew = opts.CommitClockSkew
	}
	svc, err := server.Build(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("testserver: build: %v", err)
	}
	pg, ok := svc.Store.(*store.Postgres)
	if !ok {
		t.Fatalf("testserver: store is %T, want PostgreSQL", svc.Store)
	}
	rows := store.Rows{}
	if opts.Fixtures {
		rows = Fixtures(t)
	}
	for table, rs := range opts.Rows {
		rows[table] = append(rows[table], rs...)
	}
	if len(rows) > 0 {
		if err := pg.Seed(ctx, rows); err != nil {
			t.Fatalf("testserver: seed: %v", err)
		}
	}
	key := CreateKey(t, url, "testserver", AllScopes...)
	hs := httptest.NewServer(svc.Handler)
	t.Cleanup(func() {
		hs.Close()
		svc.Close()
	})
	srv := &Server{URL: withKey(hs.URL, key), BaseURL: hs.URL, Key: key, DatabaseURL: url, Service: svc, Postgres: pg, Client: hs.Client()}
	warmKey(srv.URL)
	return srv
}

// AllScopes is every scope a caller can hold.
var AllScopes = []string{"*", auth.ScopeCommit, auth.ScopeLogRead, auth.ScopeExplain, auth.ScopePersonal, auth.ScopeAdmin, auth.ScopeDraft, auth.ScopePublish}

// CreateKey stores a new API key with scopes in databaseURL's database and returns it.
func CreateKey(t testing.TB, databaseURL, name string, scopes ...string) string {
	t.Helper()
	ctx := context.Background()
	pool, err := store.NewPool(ctx, databaseURL)
	if err != nil {
		t.Fatalf("testserver: key: %v", err)
	}
	defer pool.Close()
	secret, _, err := auth.NewPostgresKeys(pool).Create(ctx, name, scopes)
	if err != nil {
		t.Fatalf("testserver: key: %v", err)
	}
	return secret
}

// withKey puts key into base's user information.
func withKey(base, key string) string {
	u, err := neturl.Parse(base)
	if err != nil {
		panic(err)
	}
	u.User = neturl.UserPassword("key", key)
	return u.String()
}

// Fixtures returns the rows of the embedded fixtures/.
func Fixtures(t testing.TB) store.Rows {
	t.Helper()
	cat, err := store.LoadCatalog(os.DirFS(filepath.Join(repoRoot(), "facts")))
	if err != nil {
		t.Fatalf("testserver: catalog: %v", err)
	}
	rows, err := store.LoadRowsDir(cat, fixturesFS())
	if err != nil {
		t.Fatalf("testserver: fixtures: %v", err)
	}
	return rows
}

// Response is a decoded HTTP answer: an envelope on 200, a problem otherwise.
type Response struct {
	Status      int
	ContentType string
	Body        map[string]any
	Raw         []byte
}

// Post sends body as JSON to path and decodes the JSON answer (numbers as json.Number).
func Post(t testing.TB, client *http.Client, baseURL, path string, body any) Response {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return PostRaw(t, client, baseURL, path, raw)
}

// PostRaw sends raw bytes as a JSON body to path.
func PostRaw(t testing.TB, client *http.Client, baseURL, path string, raw []byte) Response {
	t.Helper()
	resp, err := client.Post(baseURL+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return read(t, resp)
}

// Get fetches path and decodes the JSON answer.
func Get(t testing.TB, client *http.Client, baseURL, path string) Response {
	t.Helper()
	resp, err := client.Get(baseURL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return read(t, resp)
}

func read(t testing.TB, resp *http.Response) Response {
	t.Helper()
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	r := Response{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Raw: raw}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	_ = dec.Decode(&r.Body)
	return r
}

// Decide posts {input, as_of} to /v1/decisions/{decision} on this server.
func (s *Server) Decide(t testing.TB, decision string, input any, asOf string) Response {
	t.Helper()
	body := map[string]any{"input": input}
	if asOf != "" {
		body["as_of"] = asOf
	}
	return Post(t, s.Client, s.URL, "/v1/decisions/"+decision, body)
}

// Process is an `arbiter serve` child process.
type Process struct {
	// URL carries an all-scopes key when the process serves a database; BaseURL carries none.
	URL, BaseURL string
	cmd          *exec.Cmd
	exited       chan struct{}
	logs         *syncBuffer
}

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Logs returns what the process wrote to stdout and stderr so far.
func (p *Process) Logs() string { return p.logs.String() }

// syncBuffer is a bytes.Buffer safe for the process's writers and a test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// StartProcess builds the binary once per test run and serves databaseURL from a child process.
func StartProcess(t testing.TB, databaseURL string) *Process {
	t.Helper()
	return StartProcessEnv(t, "DATABASE_URL="+databaseURL, "ARBITER_POLICY_DIR=")
}

// Signal sends sig to the process (SIGHUP reloads its policy set).
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// evalTimeout is long because the races serialise up to 50 commits on one lock, which under the race
// detector on a loaded machine takes longer than a production deadline; the tests assert exactly-once
// answers, and latency is measured by the load tests instead.
const evalTimeout = 30 * time.Second

// raceInFlight admits every request of a test's race at once: the races test contention in the
// store, not admission control.
const raceInFlight = 1000

// StartProcessEnv runs `arbiter serve` with extra KEY=VALUE environment variables
// (an empty DATABASE_URL serves the in-memory default; ARBITER_DRAIN is 0 unless env sets it).
func StartProcessEnv(t testing.TB, env ...string) *Process {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "arbiter-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "arbiter")
		out, err := exec.Command("go", "build", "-o", binPath, "arbiter/cmd/arbiter").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("testserver: %v", buildErr)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(binPath, "serve", "--addr", addr)
	// Like Start, commits keep each request's as_of so tests pin the instant of the act.
	cmd.Env = append(append(os.Environ(), "DATABASE_URL=", "ARBITER_POLICY_DIR=", "ARBITER_DRAIN=0",
		"ARBITER_COMMIT_CLOCK_SKEW=-1s", "ARBITER_MAX_INFLIGHT="+strconv.Itoa(raceInFlight),
		"ARBITER_EVAL_TIMEOUT="+evalTimeout.String(),
		"ARBITER_LOG_SPOOL_DIR="+t.TempDir()), env...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start arbiter: %v", err)
	}
	p := &Process{URL: "http://" + addr, BaseURL: "http://" + addr, cmd: cmd, exited: make(chan struct{}), logs: logs}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	if db := lastEnv(cmd.Env, "DATABASE_URL"); db != "" {
		p.URL = withKey(p.BaseURL, CreateKey(t, db, "testserver", AllScopes...))
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	// Readiness waits for the whole policy tree to compile, which a loaded machine stretches well past
	// the few seconds it takes when idle.
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(p.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				warmKey(p.URL)
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("arbiter process exited before it was ready:\n%s", logs.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("arbiter process did not become ready:\n%s", logs.String())
	return nil
}

func lastEnv(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// repoRoot finds the module root from this file's location (tests run in their package folder).
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

func fixturesFS() fs.FS { return os.DirFS(filepath.Join(repoRoot(), "fixtures")) }

// Client returns a plain HTTP client for talking to a Process.
func Client() *http.Client { return &http.Client{Timeout: 10 * time.Second} }

// CopyTree copies the files under src to dst (created as needed), for tests that edit a policy tree.
func CopyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, raw, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

// warmKey makes one authenticated request, so the server has read its key from the database once:
// fault tests that cut the database right after start then see the outage grace of a known key.
func warmKey(url string) {
	if resp, err := http.Get(url + "/v1/status"); err == nil {
		resp.Body.Close()
	}
}
