package server_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"arbiter/engine"
	"arbiter/internal/server"
)

// TestSinkShipsEveryDecision: with ARBITER_LOG_SINK_URL, a decision and a stored commit (which the
// log gets through the commit's transaction) each reach the receiver once, a replayed commit is not
// shipped again, and /metrics counts what was shipped.
func TestSinkShipsEveryDecision(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	got := map[string]map[string]any{}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var events []map[string]any
		if err := json.NewDecoder(zr).Decode(&events); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, e := range events {
			got[e["decision_id"].(string)] = e
		}
		mu.Unlock()
	}))
	defer rcv.Close()
	asOf, _ := time.Parse(time.RFC3339, "2025-02-01T12:00:00+08:00")
	svc, err := server.Build(ctx, server.Config{EvalTimeout: 5 * time.Second, MaxBodyBytes: 1 << 20, LogQueue: 100,
		Clock: func() time.Time { return asOf }, LogSinkURL: rcv.URL + "/logs", LogSinkInterval: 10 * time.Millisecond},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	commit := engine.Request{Decision: "coupon.redeem", AsOf: asOf, Input: map[string]any{"coupon_id": "K1", "payment_id": "PAY1"}}
	c, err := svc.Engine.Decide(ctx, commit)
	if err != nil || c.Commit == nil || !c.Commit.Committed {
		t.Fatalf("the fixtures' K1 on PAY1 did not commit: %v", err)
	}
	if again, err := svc.Engine.Decide(ctx, commit); err != nil || !again.Commit.Replayed {
		t.Fatalf("the same commit again was not replayed: %v", err)
	}
	d, err := svc.Engine.Decide(ctx, engine.Request{Decision: "trial.reminders", AsOf: asOf,
		Input: map[string]any{"started_at": "2025-02-20T00:00:00+08:00", "expires_at": "2025-03-20T18:00:00+08:00"}})
	if err != nil {
		t.Fatal(err)
	}
	svc.Close() // ships what is buffered
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[c.DecisionID] == nil || got[d.DecisionID] == nil {
		t.Fatalf("received %d events, want the commit %s and the decision %s", len(got), c.DecisionID, d.DecisionID)
	}
	if e := got[c.DecisionID]; e["path"] != "coupon/redeem" || e["result"].(map[string]any)["commit"] == nil {
		t.Errorf("the commit's event: %v", e)
	}
	w := httptest.NewRecorder()
	svc.Handler.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	body := w.Body.String()
	for _, want := range []string{"arbiter_decision_log_sink_shipped_total 2\n", `arbiter_decision_log_sink_dropped_total{reason="buffer_full"} 0` + "\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, grepLines(body, "sink"))
		}
	}
}
