package decisionlog

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Filter selects logged decisions to read back by when they were logged.
type Filter struct {
	From, To  time.Time // from <= recorded_at < to; a zero bound is open
	Decisions []string  // only these decisions (none: all)
	IDs       []string  // only these decision ids (none: all)
}

func (f Filter) where() (string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if !f.From.IsZero() {
		add("l.recorded_at >= $%d", f.From)
	}
	if !f.To.IsZero() {
		add("l.recorded_at < $%d", f.To)
	}
	if len(f.Decisions) > 0 {
		add("l.decision = ANY($%d)", f.Decisions)
	}
	if len(f.IDs) > 0 {
		add("l.id = ANY($%d)", f.IDs)
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// Count returns how many stored records f selects.
func Count(ctx context.Context, pool *pgxpool.Pool, f Filter) (int64, error) {
	where, args := f.where()
	var n int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM decision_log l`+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("decisionlog: count: %w", err)
	}
	return n, nil
}

// streamPage is how many records one keyset query reads: memory stays bounded by a page whatever
// the log's size, and no query holds a snapshot for the whole replay.
var streamPage = 5000

// Stream calls fn with every stored record f selects, ordered by (recorded_at, id), one page at a time
// (keyset pagination); it stops at the first error fn or a read returns, or when ctx ends.
func Stream(ctx context.Context, pool *pgxpool.Pool, f Filter, fn func(Record) error) error {
	where, args := f.where()
	var lastAt time.Time
	var lastID string
	first := true
	for {
		q, qargs := selectRecord+where, append([]any(nil), args...)
		if !first {
			qargs = append(qargs, lastAt, lastID)
			cond := fmt.Sprintf(`(l.recorded_at, l.id COLLATE "C") > ($%d, $%d)`, len(qargs)-1, len(qargs))
			if where == "" {
				q += " WHERE " + cond
			} else {
				q += " AND " + cond
			}
		}
		q += fmt.Sprintf(` ORDER BY l.recorded_at, l.id COLLATE "C" LIMIT %d`, streamPage)
		rows, err := pool.Query(ctx, q, qargs...)
		if err != nil {
			return fmt.Errorf("decisionlog: stream: %w", err)
		}
		n := 0
		var rec Record
		var env, in, facts []byte
		_, err = pgx.ForEachRow(rows, []any{&rec.ID, &rec.Decision, &rec.Version, &rec.AsOf, &rec.Outcome, &env, &in, &facts, &rec.RecordedAt, &rec.Caller}, func() error {
			n++
			lastAt, lastID = rec.RecordedAt, rec.ID
			out := rec
			out.Envelope, out.Input, out.Facts = env, in, facts
			env, in, facts = nil, nil, nil
			return fn(out)
		})
		if err != nil {
			return fmt.Errorf("decisionlog: stream: %w", err)
		}
		if n < streamPage {
			return nil
		}
		first = false
	}
}
