package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"arbiter/store"
)

// TestCommitLogRecordsAgree: a commit's log record is stored exactly when the commit is. Commits run
// concurrently on two keys; every third one fails after SaveCommit (rolled back), some are
// refused as a reused key. Afterwards the stored commits and the logged records are the same ids.
func TestCommitLogRecordsAgree(t *testing.T) {
	c := testCatalog(t)
	mem := memoryStore(t, c, store.Rows{})
	var mu sync.Mutex
	var memLogged []store.LogRecord
	mem.LogTo(func(r store.LogRecord) { mu.Lock(); memLogged = append(memLogged, r); mu.Unlock() })
	pg := postgresStore(t, c, store.Rows{})
	stores := []struct {
		name   string
		s      store.Store
		logged func(t *testing.T) []store.LogRecord
	}{
		{name: "memory", s: mem, logged: func(*testing.T) []store.LogRecord {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(memLogged)
		}},
		{name: "postgres", s: pg, logged: func(t *testing.T) []store.LogRecord {
			rows, err := pg.Pool().Query(context.Background(), `SELECT id, decision, version, outcome, as_of, envelope, input, facts, recorded_at FROM decision_log`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []store.LogRecord
			for rows.Next() {
				var r store.LogRecord
				var env, in, facts []byte
				if err := rows.Scan(&r.ID, &r.Decision, &r.Version, &r.Outcome, &r.AsOf, &env, &in, &facts, &r.RecordedAt); err != nil {
					t.Fatal(err)
				}
				r.Envelope, r.Input, r.Facts = env, in, facts
				out = append(out, r)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			return out
		}},
	}
	asOf := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	errRollback := errors.New("fails after SaveCommit")
	for _, tc := range stores {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			var wg sync.WaitGroup
			for i := range 60 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					id := fmt.Sprintf("D%03d", i)
					key := fmt.Sprintf("k%d", i%40) // 20 keys are tried twice: the second is refused
					lock := fmt.Sprintf("limit:%d", i%2)
					err := tc.s.Commit(ctx, []string{lock}, func(ctx context.Context, tx store.Tx) error {
						err := tx.SaveCommit(ctx, store.CommitRecord{Decision: "test.log", IdempotencyKey: key, RequestHash: "h", DecisionID: id,
							Answer: json.RawMessage(`{"decision_id":"` + id + `"}`),
							Log: &store.LogRecord{ID: id, Decision: "test.log", Version: "v1", Outcome: "allow", AsOf: asOf,
								Envelope: json.RawMessage(`{"decision_id":"` + id + `"}`), Input: json.RawMessage(`{"i":1}`), Facts: json.RawMessage(`{}`)}},
							[]store.LedgerEntry{{Key: lock, Amount: decimal.NewFromInt(1)}})
						if err != nil {
							return err
						}
						if i%3 == 0 {
							return errRollback
						}
						return nil
					})
					if err != nil && !errors.Is(err, errRollback) && !isDuplicate(err) {
						t.Errorf("commit %s: %v", id, err)
					}
				}()
			}
			wg.Wait()
			var committed []string
			err := tc.s.Commit(ctx, nil, func(ctx context.Context, tx store.Tx) error {
				for k := range 40 {
					rec, err := tx.FindCommit(ctx, "test.log", fmt.Sprintf("k%d", k))
					if err != nil {
						return err
					}
					if rec != nil {
						if rec.Log != nil {
							t.Errorf("FindCommit returned a log record: %+v", rec.Log)
						}
						committed = append(committed, rec.DecisionID)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var logged []string
			for _, r := range tc.logged(t) {
				logged = append(logged, r.ID)
				if r.Decision != "test.log" || r.Version != "v1" || !r.AsOf.Equal(asOf) || r.RecordedAt.IsZero() {
					t.Errorf("logged record %+v", r)
				}
			}
			slices.Sort(committed)
			slices.Sort(logged)
			if len(committed) < 20 || !slices.Equal(committed, logged) {
				t.Fatalf("%d commits %v\n%d log records %v\nwant the same ids", len(committed), committed, len(logged), logged)
			}
		})
	}
}

// isDuplicate: the second commit under a key is refused (a unique violation in PostgreSQL).
func isDuplicate(err error) bool {
	return strings.Contains(err.Error(), "already exists") || strings.Contains(err.Error(), "duplicate key")
}
