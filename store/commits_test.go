package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"arbiter/internal/testing/pgtest"
	"arbiter/store"
)

func openCommitStore(t *testing.T, configure func(*pgxpool.Config)) *store.Postgres {
	t.Helper()
	pg, err := store.OpenPostgresWith(context.Background(), pgtest.New(t), testCatalog(t), configure)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Close)
	return pg
}

func saveCommit(key string) func(ctx context.Context, tx store.Tx) error {
	return func(ctx context.Context, tx store.Tx) error {
		return tx.SaveCommit(ctx, store.CommitRecord{Decision: "d", IdempotencyKey: key, RequestHash: "h-" + key, DecisionID: "id-" + key}, nil)
	}
}

// Two transactions saving one key: the second meets the first at the unique index and must learn
// that the commit exists (and look again), not see a store failure.
func TestSecondCommitUnderOneKeyIsErrCommitExists(t *testing.T) {
	pg := openCommitStore(t, nil)
	ctx := context.Background()
	firstSaved := make(chan struct{})
	firstErr := make(chan error, 1)
	go func() {
		firstErr <- pg.Commit(ctx, nil, func(ctx context.Context, tx store.Tx) error {
			if err := saveCommit("k")(ctx, tx); err != nil {
				return err
			}
			close(firstSaved)
			time.Sleep(200 * time.Millisecond) // the second insert is waiting on the index by now
			return nil
		})
	}()
	<-firstSaved
	err := pg.Commit(ctx, nil, saveCommit("k"))
	if !errors.Is(err, store.ErrCommitExists) || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("second commit: %v, want ErrCommitExists", err)
	}
	if err := <-firstErr; err != nil {
		t.Fatal(err)
	}
	rec, err := pg.FindCommit(ctx, "d", "k")
	if err != nil || rec == nil || rec.DecisionID != "id-k" {
		t.Fatalf("FindCommit = %+v, %v", rec, err)
	}
	if rec, err := pg.FindCommit(ctx, "d", "other"); rec != nil || err != nil {
		t.Fatalf("FindCommit of an unknown key = %+v, %v", rec, err)
	}
}

// Once the commit function has returned, COMMIT runs even when the caller's deadline has passed: a
// commit that happened is never answered as a failure.
func TestCommitOutlivesTheCallersDeadline(t *testing.T) {
	pg := openCommitStore(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := pg.Commit(ctx, []string{"lock"}, func(ctx context.Context, tx store.Tx) error {
		if err := saveCommit("late")(ctx, tx); err != nil {
			return err
		}
		<-ctx.Done() // the decision took longer than the deadline, after it was made
		return nil
	})
	if err != nil {
		t.Fatalf("commit after the deadline: %v", err)
	}
	if rec, err := pg.FindCommit(context.Background(), "d", "late"); rec == nil || err != nil {
		t.Fatalf("the commit was not stored: %+v, %v", rec, err)
	}
}

// A pool whose connections are all busy is overload, not an unavailable database.
func TestPoolExhaustionIsOverloaded(t *testing.T) {
	pg := openCommitStore(t, func(c *pgxpool.Config) { c.MaxConns = 1 })
	holding, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- pg.Commit(context.Background(), nil, func(context.Context, store.Tx) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := pg.FindCommit(ctx, "d", "k")
	if !errors.Is(err, store.ErrOverloaded) || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("busy pool: %v, want ErrOverloaded", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := pg.FindCommit(context.Background(), "d", "k"); err != nil {
		t.Fatalf("after the burst: %v", err)
	}
}
