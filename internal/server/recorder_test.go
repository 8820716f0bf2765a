package server_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"arbiter/engine"
	"arbiter/internal/server"
	"arbiter/store/decisionlog"
)

// fullLog accepts the first n records and refuses the rest, as a full queue does.
type fullLog struct {
	mu   sync.Mutex
	n    int
	kept []decisionlog.Record
}

func (l *fullLog) Enqueue(r decisionlog.Record) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.kept) >= l.n {
		return false
	}
	l.kept = append(l.kept, r)
	return true
}

func (l *fullLog) Get(context.Context, string) (decisionlog.Record, error) {
	return decisionlog.Record{}, decisionlog.ErrNotFound
}

func (l *fullLog) List(context.Context, string, time.Time, time.Time, int) ([]decisionlog.Record, error) {
	return nil, nil
}

func (l *fullLog) Close(context.Context) error { return nil }

func TestRecorderCountsWhatTheLogRefusesAndNeverBlocks(t *testing.T) {
	log := &fullLog{n: 2}
	dropped := prometheus.NewCounter(prometheus.CounterOpts{Name: "dropped"})
	rec := server.NewRecorder(log, dropped)
	done := make(chan struct{})
	go func() {
		for i := 0; i < 5; i++ {
			rec.Record(&engine.Decision{DecisionID: string(rune('a' + i)), Decision: "demo.x", Outcome: "allow"},
				map[string]any{"i": i}, map[string]any{"f": "1.50"})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Record blocked")
	}
	rec.Close()
	if got := testutil.ToFloat64(dropped); got != 3 {
		t.Fatalf("dropped = %v, want 3", got)
	}
	if len(log.kept) != 2 || string(log.kept[0].Facts) != `{"f":"1.50"}` || log.kept[0].ID != "a" {
		t.Fatalf("kept %+v", log.kept)
	}
	rec.Record(&engine.Decision{DecisionID: "late"}, nil, nil)
	if got := testutil.ToFloat64(dropped); got != 4 {
		t.Fatalf("a decision recorded after Close must be counted as dropped, got %v", got)
	}
}
