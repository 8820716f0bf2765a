package decisionlog

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// pruneBatch bounds one DELETE, so that pruning a large backlog never holds long locks.
const pruneBatch = 5000

// Prune deletes the records of pool's decision log recorded before cutoff, in batches, and returns
// how many it deleted. Commit records and ledger entries are not touched: idempotency and usage
// limits need them for as long as the business rules look back.
func Prune(ctx context.Context, pool *pgxpool.Pool, cutoff time.Time) (int64, error) {
	var total int64
	for {
		tag, err := pool.Exec(ctx, `DELETE FROM decision_log WHERE id IN (
			SELECT id FROM decision_log WHERE recorded_at < $1 LIMIT $2)`, cutoff, pruneBatch)
		if err != nil {
			return total, fmt.Errorf("decisionlog: prune: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pruneBatch {
			return total, nil
		}
	}
}

// KeepFor prunes records older than retention every interval until ctx ends, reporting each run.
func KeepFor(ctx context.Context, pool *pgxpool.Pool, retention, interval time.Duration, report func(deleted int64, err error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := Prune(ctx, pool, time.Now().Add(-retention))
		if ctx.Err() != nil {
			return
		}
		report(n, err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
