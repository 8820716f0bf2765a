package decisionlog

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The decision log is partitioned by month (UTC) of recorded_at: decision_log_YYYY_MM, with the fact
// snapshots of that month in decision_log_facts_YYYY_MM, and a default partition for a record of a
// month without its own (see store/migrations/004_decision_log_partitions.sql).

// MonthsAhead is how many months after the current one have their partitions made in advance.
const MonthsAhead = 2

// pruneBatch bounds one DELETE from the default partition, so that pruning never holds long locks.
const pruneBatch = 5000

// dropLockTimeout bounds the wait for the lock a partition's DROP takes on the log: a drop that waits
// longer (a long query holds the log) gives up and is tried again on the next run, instead of queueing
// every insert behind it.
const dropLockTimeout = "2s"

var partitionName = regexp.MustCompile(`^decision_log_(\d{4})_(\d{2})$`)

// Month returns the first instant (UTC) of the month holding t.
func Month(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// EnsurePartitions creates the partitions of every month from the one holding from to the one holding
// to that do not exist yet (moving that month's records out of the default partition), and returns
// the names of those it created.
func EnsurePartitions(ctx context.Context, pool *pgxpool.Pool, from, to time.Time) ([]string, error) {
	var made []string
	for m := Month(from); !m.After(to); m = m.AddDate(0, 1, 0) {
		var created bool
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, "SELECT arbiter_decision_log_partition($1)", m).Scan(&created)
		})
		if err != nil {
			return made, fmt.Errorf("decisionlog: partition %s: %w", m.Format("2006-01"), err)
		}
		if created {
			made = append(made, "decision_log_"+m.Format("2006_01"))
		}
	}
	return made, nil
}

// Partition is one month of the log.
type Partition struct {
	Name  string    // decision_log_YYYY_MM
	Month time.Time // its first instant (UTC); it holds recorded_at in [Month, Month + 1 month)
}

// Partitions lists the log's monthly partitions, oldest first.
func Partitions(ctx context.Context, pool *pgxpool.Pool) ([]Partition, error) {
	rows, err := pool.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'decision_log'::regclass ORDER BY c.relname`)
	if err != nil {
		return nil, fmt.Errorf("decisionlog: partitions: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("decisionlog: partitions: %w", err)
	}
	var out []Partition
	for _, n := range names {
		m := partitionName.FindStringSubmatch(n)
		if m == nil {
			continue // the default partition
		}
		month, err := time.Parse("2006_01", m[1]+"_"+m[2])
		if err != nil {
			continue
		}
		out = append(out, Partition{Name: n, Month: month})
	}
	return out, nil
}

// Pruned is what one Prune removed.
type Pruned struct {
	Partitions []string // months dropped whole
	Rows       int64    // records deleted from the default partition
}

// Prune drops the months of the log that end at or before cutoff, with their fact snapshots, and
// deletes the records before cutoff from the default partition. Retention works a month at a time: a
// record is kept until its whole month is older than cutoff. A month whose drop cannot take its lock
// within a short time is left for the next run. Commit records and ledger entries (the commits and
// ledger_entries tables) are not touched: idempotency and usage limits need them for as long as the
// business rules look back.
func Prune(ctx context.Context, pool *pgxpool.Pool, cutoff time.Time) (Pruned, error) {
	var out Pruned
	parts, err := Partitions(ctx, pool)
	if err != nil {
		return out, err
	}
	for _, p := range parts {
		if p.Month.AddDate(0, 1, 0).After(cutoff) {
			break
		}
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '"+dropLockTimeout+"'"); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, fmt.Sprintf("DROP TABLE IF EXISTS %s, decision_log_facts_%s",
				pgx.Identifier{p.Name}.Sanitize(), p.Month.Format("2006_01")))
			return err
		})
		if err != nil {
			return out, fmt.Errorf("decisionlog: prune: drop %s: %w", p.Name, err)
		}
		out.Partitions = append(out.Partitions, p.Name)
	}
	for {
		tag, err := pool.Exec(ctx, `DELETE FROM decision_log_default WHERE (id, recorded_at) IN (
			SELECT id, recorded_at FROM decision_log_default WHERE recorded_at < $1 LIMIT $2)`, cutoff, pruneBatch)
		if err != nil {
			return out, fmt.Errorf("decisionlog: prune: %w", err)
		}
		out.Rows += tag.RowsAffected()
		if tag.RowsAffected() < pruneBatch {
			break
		}
	}
	// A snapshot in the default partition serves records of its month only: gone once the month is.
	if _, err := pool.Exec(ctx, `DELETE FROM decision_log_facts_default WHERE month < $1`, Month(cutoff)); err != nil {
		return out, fmt.Errorf("decisionlog: prune: %w", err)
	}
	return out, nil
}

// Maintain keeps the log's partitions every interval until ctx ends: it creates this month's and the
// next MonthsAhead months' partitions, and with a retention above zero prunes what is older (Prune),
// reporting each run.
func Maintain(ctx context.Context, pool *pgxpool.Pool, retention, interval time.Duration, report func(created []string, pruned Pruned, err error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		now := time.Now()
		created, err := EnsurePartitions(ctx, pool, now, Month(now).AddDate(0, MonthsAhead, 0))
		var pruned Pruned
		if err == nil && retention > 0 {
			pruned, err = Prune(ctx, pool, now.Add(-retention))
		}
		if ctx.Err() != nil {
			return
		}
		report(created, pruned, err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
