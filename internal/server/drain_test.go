package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"arbiter/internal/server"
	"arbiter/internal/testing/testserver"
)

// TestSIGTERMFailsReadinessBeforeExiting: after SIGTERM the process keeps answering, /readyz answers
// 503 for ARBITER_DRAIN, and only then does it exit.
func TestSIGTERMFailsReadinessBeforeExiting(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts an arbiter process")
	}
	const drain = 2 * time.Second
	p := testserver.StartProcessEnv(t, "ARBITER_DRAIN="+drain.String())
	client := testserver.Client()
	if r := testserver.Get(t, client, p.URL, "/readyz"); r.Status != http.StatusOK {
		t.Fatalf("/readyz before SIGTERM: %d", r.Status)
	}
	sent := time.Now()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var unready time.Time
	for unready.IsZero() {
		select {
		case <-p.Exited():
			t.Fatalf("the process exited before /readyz failed:\n%s", p.Logs())
		case <-time.After(20 * time.Millisecond):
		}
		resp, err := client.Get(p.URL + "/readyz")
		if err != nil {
			t.Fatalf("/readyz during the drain: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			unready = time.Now()
		}
	}
	// Requests other than /readyz are still served while draining.
	if r := testserver.Get(t, client, p.URL, "/v1/status"); r.Status != http.StatusOK {
		t.Errorf("/v1/status while draining: %d", r.Status)
	}
	select {
	case <-p.Exited():
		t.Fatalf("the process exited %v after SIGTERM, before the %v drain", time.Since(sent), drain)
	case <-time.After(drain / 2):
	}
	select {
	case <-p.Exited():
	case <-time.After(drain + 10*time.Second):
		t.Fatalf("the process did not exit after the drain:\n%s", p.Logs())
	}
	if took := time.Since(sent); took < drain {
		t.Errorf("exited %v after SIGTERM, want at least the %v drain", took, drain)
	}
	if !strings.Contains(p.Logs(), "draining") {
		t.Errorf("no drain in the log:\n%s", p.Logs())
	}
}

// TestFixtureDataIsExplicit: without DATABASE_URL the start is logged with a loud banner and
// /v1/status says the facts are embedded fixtures.
func TestFixtureDataIsExplicit(t *testing.T) {
	var logs bytes.Buffer
	svc, err := server.Build(context.Background(), server.Config{EvalTimeout: time.Second, MaxBodyBytes: 1 << 20, LogQueue: 10},
		slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if !strings.Contains(logs.String(), "SERVING FIXTURE DATA") {
		t.Errorf("no banner in the log:\n%s", logs.String())
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/v1/status", nil)
	req.RemoteAddr = "127.0.0.1:40000" // the open server answers loopback clients only
	svc.Handler.ServeHTTP(rec, req)
	var status map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &status); err != nil {
		t.Fatal(err)
	}
	if status["fact_source"] != "memory" || status["fixtures"] != "embedded" {
		t.Errorf("status %v, want fact_source memory and fixtures embedded", status)
	}
}

// TestSecondSignalCutsTheDrainShort: an operator's second SIGTERM ends a long drain at once.
func TestSecondSignalCutsTheDrainShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts an arbiter process")
	}
	p := testserver.StartProcessEnv(t, "ARBITER_DRAIN=1m")
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Logs(), "draining") {
		if time.Now().After(deadline) {
			t.Fatalf("no drain started:\n%s", p.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited():
	case <-time.After(15 * time.Second):
		t.Fatalf("a second SIGTERM did not end the one-minute drain:\n%s", p.Logs())
	}
	if !strings.Contains(p.Logs(), "drain cut short") {
		t.Errorf("the log does not say the drain was cut short:\n%s", p.Logs())
	}
}
