package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"arbiter/engine"
	"arbiter/engine/lang"
	"arbiter/store"
)

type recorded struct {
	mu  sync.Mutex
	ids []string
}

func (r *recorded) Record(d *engine.Decision, _ any, _ map[string]any, _ string) {
	r.mu.Lock()
	r.ids = append(r.ids, d.DecisionID)
	r.mu.Unlock()
}

// TestCommittedDecisionsAreLoggedByTheStore: a stored commit's log record goes with it into the
// store (once), never also to the recorder; denials, dry runs and replays are not stored commits.
func TestCommittedDecisionsAreLoggedByTheStore(t *testing.T) {
	m, err := store.NewMemory(demoCatalog(t), store.Rows{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var storeLogged []store.LogRecord
	m.LogTo(func(r store.LogRecord) { mu.Lock(); storeLogged = append(storeLogged, r); mu.Unlock() })
	rec := &recorded{}
	e := engine.New(loadGood(t), m, engine.WithRecorder(rec), engine.WithClock(func() time.Time { return at("2025-05-01T00:00:00+08:00") }))
	asOf := at("2025-05-01T00:00:00+08:00")
	const n = 20
	results := make([]*engine.Decision, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := e.Decide(context.Background(), engine.Request{Decision: "demo.spend", AsOf: asOf,
				Input: map[string]any{"account_id": "A", "request_id": fmt.Sprintf("r%d", i)}, DryRun: i == 7})
			if err != nil {
				t.Error(err)
				return
			}
			results[i] = d
		}()
	}
	wg.Wait()
	var committed, other []string
	replay := -1
	for i, d := range results {
		if d == nil {
			t.FailNow()
		}
		if d.Commit.Committed {
			committed = append(committed, d.DecisionID)
			replay = i
		} else {
			other = append(other, d.DecisionID)
		}
	}
	// A replay of a stored commit is logged neither way again.
	again, err := e.Decide(context.Background(), engine.Request{Decision: "demo.spend", AsOf: asOf,
		Input: map[string]any{"account_id": "A", "request_id": fmt.Sprintf("r%d", replay)}})
	if err != nil || !again.Commit.Replayed {
		t.Fatalf("replay of r%d: %+v, %v", replay, again, err)
	}
	var logged []string
	for _, r := range storeLogged {
		logged = append(logged, r.ID)
		var env engine.Decision
		if err := json.Unmarshal(r.Envelope, &env); err != nil || env.DecisionID != r.ID || !env.Commit.Committed || r.Outcome != lang.OutcomeAllow {
			t.Errorf("store-logged record %s: envelope %s (%v)", r.ID, r.Envelope, err)
		}
		if string(r.Input) == "" || string(r.Facts) == "" || r.Decision != "demo.spend" || r.Version == "" {
			t.Errorf("store-logged record %+v", r)
		}
	}
	slices.Sort(committed)
	slices.Sort(logged)
	slices.Sort(other)
	slices.Sort(rec.ids)
	if len(committed) != 2 || !slices.Equal(committed, logged) {
		t.Errorf("committed %v, logged with the commit %v: want the same", committed, logged)
	}
	if !slices.Equal(other, rec.ids) {
		t.Errorf("not committed %v, recorded %v: want the same", other, rec.ids)
	}
}
