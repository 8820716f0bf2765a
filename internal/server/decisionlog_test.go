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
	svc.Log.Record(&engine.Decision{DecisionID: "late"}, nil, nil, "")
	svc.Log.Record(&engine.Decision{DecisionID: "later"}, nil, nil, "")
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

// TestMemoryDefaultLogsCommits: in the in-memory default a stored commit is logged with it, once,
// and readable by id over HTTP at once.
func TestMemoryDefaultLogsCommits(t *testing.T) {
	ctx := context.Background()
	asOf, _ := time.Parse(time.RFC3339, "2025-02-01T12:00:00+08:00")
	svc, err := server.Build(ctx, server.Config{EvalTimeout: 5 * time.Second, MaxBodyBytes: 1 << 20, LogQueue: 100,
		Clock: func() time.Time { return asOf }}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	d, err := svc.Engine.Decide(ctx, engine.Request{Decision: "coupon.redeem", AsOf: asOf,
		Input: map[string]any{"coupon_id": "K1", "payment_id": "PAY1"}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Commit == nil || !d.Commit.Committed {
		t.Fatalf("the fixtures' K1 on PAY1 did not commit: %+v", d.Commit)
	}
	w := httptest.NewRecorder()
	get := httptest.NewRequest("GET", "/v1/decisions/"+d.DecisionID, nil)
	get.RemoteAddr = "127.0.0.1:40000" // the open server answers loopback clients only
	svc.Handler.ServeHTTP(w, get)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"committed":true`) {
		t.Fatalf("GET the committed decision: %d %s", w.Code, w.Body.String())
	}
	recs, err := svc.Log.List(ctx, "coupon.redeem", time.Time{}, time.Time{}, 0)
	if err != nil || len(recs) != 1 {
		t.Fatalf("coupon.redeem records: %d (%v), want the one commit", len(recs), err)
	}
}
