package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"arbiter/api"
	"arbiter/engine"
	"arbiter/internal/reload"
	"arbiter/internal/testing/demotree"
	"arbiter/store"
	"arbiter/store/decisionlog"
)

// demoCatalog is the demo tree's catalog: the core tables plus the demo tables.
func demoCatalog(t testing.TB) *store.Catalog { return demotree.Catalog(t) }

// demoDir writes the demo policy tree into a temporary folder a test may edit.
func demoDir(t testing.TB) string {
	t.Helper()
	dst := t.TempDir()
	demotree.WriteTo(t, dst)
	return dst
}

type demoAPI struct {
	url      string
	engine   *engine.Engine
	reloader *reload.Manager
	dir      string
	registry *prometheus.Registry
}

var demoRows = store.Rows{"demo_accounts": {
	{"id": "G1", "tier": "gold", "balance": "0.10"},
	{"id": "B1", "tier": "basic", "balance": "0.1"},
}}

// startDemo serves the demo policies over an in-memory store with the real handler.
func startDemo(t testing.TB, store store.Store, log decisionlog.Log) *demoAPI {
	t.Helper()
	return startDemoWith(t, store, log, nil)
}

// startDemoWith serves the demo policies over store, logging to log, ready when ready says so.
func startDemoWith(t testing.TB, st store.Store, log decisionlog.Log, ready func(context.Context) error) *demoAPI {
	t.Helper()
	cat := demoCatalog(t)
	dir := demoDir(t)
	source := func() (fs.FS, error) { return os.DirFS(dir), nil }
	set, _, err := reload.Build(context.Background(), source)
	if err != nil {
		t.Fatal(err)
	}
	if st == nil {
		mem, err := store.NewMemory(cat, demoRows)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(mem.Close)
		st = mem
	}
	if log == nil {
		log = decisionlog.NewMemory(1000)
	}
	if mem, ok := st.(*store.Memory); ok {
		if ml, ok := log.(*decisionlog.Memory); ok {
			mem.LogTo(func(r store.LogRecord) { ml.Enqueue(r) }) // as the service wires them
		}
	}
	reg := prometheus.NewRegistry()
	metrics := api.NewMetrics(reg)
	// Like testserver, commits keep each request's as_of so tests pin the instant of the act.
	e := engine.New(set, st, engine.WithRecorder(log), engine.WithCommitClockSkew(-1))
	rl := reload.New(e, source, cat, reload.Hooks{OnResult: func(r reload.Report) {
		if r.OK {
			metrics.ReloadOK.Set(1)
			metrics.SetRevision(r.ServingRevision)
		} else {
			metrics.ReloadOK.Set(0)
		}
	}})
	h := api.New(api.Config{Engine: e, Reloader: rl, Log: log, Metrics: metrics, Gatherer: reg, AdminToken: "s3cret", MaxBodyBytes: 4096, FactSource: "memory", Ready: ready})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &demoAPI{url: srv.URL, engine: e, reloader: rl, dir: dir, registry: reg}
}

type response struct {
	status      int
	contentType string
	body        map[string]any
	raw         []byte
}

func do(t testing.TB, method, url, contentType string, body []byte, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), raw: raw}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	_ = dec.Decode(&r.body)
	return r
}

func post(t testing.TB, url, body string) response {
	t.Helper()
	return do(t, http.MethodPost, url, "application/json", []byte(body))
}

func fields(r response) []string {
	var out []string
	list, _ := r.body["errors"].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m["field"].(string))
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
