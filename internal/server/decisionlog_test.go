package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"arbiter/engine"
	"arbiter/internal/server"
)

// TestDecisionLogIsTheRecorder: the engine records straight into the service's decision log, Close
// flushes it, and what the log drops shows in arbiter_decision_log_dropped_total.
func TestDecisionLogIsTheRecorder(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeHupTree(t, dir, "hello", hupPolicy)
	svc, err := server.Build(ctx, server.Config{PolicyDir: dir, EvalTimeout: 5 * time.Second, MaxBodyBytes: 1 << 20, LogQueue: 100},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var decided []string
	for range 3 {
		d, err := svc.Engine.Decide(ctx, engine.Request{Decision: "ops.greeting", Input: map[string]any{}})
		if err != nil {
			t.Fatal(err)
		}
		decided = append(decided, d.DecisionID)
	}
	svc.Close()
	for _, id := range decided {
		if _, err := svc.Log.Get(ctx, id); err != nil {
			t.Errorf("decision %s was not logged by Close: %v", id, err)
		}
	}
	svc.Log.Record(&engine.Decision{DecisionID: "late"}, nil, nil)
	svc.Log.Record(&engine.Decision{DecisionID: "later"}, nil, nil)
	w := httptest.NewRecorder()
	svc.Handler.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if body := w.Body.String(); !strings.Contains(body, `arbiter_decision_log_dropped_total{reason="closed"} 2`+"\n") {
		t.Fatalf("after two decisions recorded past Close, /metrics says:\n%s", grepLines(body, "arbiter_decision_log_dropped_total"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
