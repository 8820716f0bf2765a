package decisionlog

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres writes records in batches from one background goroutine into the decision_log table; with
// a spool, records that cannot be written wait on disk and a second goroutine drains them.
type Postgres struct {
	*writer
	pool    *pgxpool.Pool
	written atomic.Uint64

	spool   *spool      // nil: no spool
	healthy atomic.Bool // the last write reached the database; false sends batches straight to the spool
	wake    chan struct{}
	stop    chan struct{}
	drained chan struct{} // closed when the drainer has stopped
	once    sync.Once
}

// Backoff of the drainer between attempts while the database stays away.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// writeTimeout bounds one statement: a frozen connection must not hold the writer for long.
const writeTimeout = 5 * time.Second

// NewPostgres starts a writer storing records into the decision_log table of pool's database, with no
// spool (opts.SpoolDir is not used): a record that cannot be written is dropped.
func NewPostgres(pool *pgxpool.Pool, opts Options) *Postgres {
	opts.SpoolDir = ""
	p, _ := OpenPostgres(pool, opts)
	return p
}

// OpenPostgres starts a writer storing records into the decision_log table of pool's database, with a
// spool under opts.SpoolDir (when set) whose leftover records it starts draining at once.
func OpenPostgres(pool *pgxpool.Pool, opts Options) (*Postgres, error) {
	opts = opts.withDefaults()
	p := &Postgres{pool: pool, wake: make(chan struct{}, 1), stop: make(chan struct{}), drained: make(chan struct{})}
	p.healthy.Store(true)
	if opts.SpoolDir != "" {
		s, err := openSpool(opts.SpoolDir, opts.SpoolMax)
		if err != nil {
			return nil, err
		}
		p.spool = s
		go p.drain()
	} else {
		close(p.drained)
	}
	p.writer = newWriter(opts, p.store)
	return p, nil
}

// Enqueue queues rec for writing; it never blocks.
func (p *Postgres) Enqueue(rec Record) bool { return p.put(entry{rec: rec}) }

// Written counts records stored in the database.
func (p *Postgres) Written() uint64 { return p.written.Load() }

// Spooled is the size in bytes of the records waiting in the spool.
func (p *Postgres) Spooled() int64 {
	if p.spool == nil {
		return 0
	}
	return p.spool.bytes()
}

// SpoolDir is the folder of the spool this log holds; "" without a spool.
func (p *Postgres) SpoolDir() string {
	if p.spool == nil {
		return ""
	}
	return p.spool.dir
}

// Health fails while recent drops reach the threshold or the spool is nearly full.
func (p *Postgres) Health() error {
	if p.spool != nil {
		if n, limit := p.spool.bytes(), float64(p.opts.SpoolMax)*p.opts.SpoolHighWater; float64(n) > limit {
			return fmt.Errorf("the decision-log spool holds %d of its %d bytes: the database has not taken records for a while", n, p.opts.SpoolMax)
		}
	}
	return p.health()
}

// store writes one batch (on the writer goroutine); what the database cannot take now goes to the spool.
func (p *Postgres) store(batch []Record) {
	if p.healthy.Load() {
		rest, err := p.writeBatch(batch)
		// Without a spool the writer itself retries, with backoff, before giving the records up.
		for attempt, wait := 0, minBackoff; len(rest) > 0 && p.spool == nil && attempt < 3; attempt, wait = attempt+1, wait*4 {
			time.Sleep(wait)
			rest, err = p.writeBatch(rest)
		}
		if len(rest) == 0 {
			return
		}
		p.report(err)
		batch = rest
		if p.spool != nil {
			p.healthy.Store(false)
		}
	}
	p.spoolOrDrop(batch)
}

func (p *Postgres) spoolOrDrop(batch []Record) {
	if p.spool == nil {
		p.drop(DropWriteFailed, len(batch))
		return
	}
	kept, bad, badErr, err := p.spool.append(batch)
	if bad > 0 {
		p.report(badErr)
		p.drop(DropEncodeFailed, bad)
	}
	if err != nil {
		p.report(err)
		p.drop(DropWriteFailed, len(batch)-bad)
		return
	}
	p.drop(DropSpoolFull, len(batch)-bad-kept)
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// writeBatch stores batch and returns the records it could not store for now (the database is
// unreachable), with the error. A batch the database refuses is written again row by row: a row it
// refuses on its own is dropped (write_failed) and never retried.
func (p *Postgres) writeBatch(batch []Record) ([]Record, error) {
	err := p.write(batch)
	if err == nil {
		p.written.Add(uint64(len(batch)))
		return nil, nil
	}
	if !rowError(err) || len(batch) == 1 {
		if rowError(err) {
			p.drop(DropWriteFailed, 1)
			p.report(err)
			return nil, nil
		}
		return batch, err
	}
	for i := range batch {
		err := p.write(batch[i : i+1])
		switch {
		case err == nil:
			p.written.Add(1)
		case rowError(err):
			p.drop(DropWriteFailed, 1)
			p.report(err)
		default:
			return batch[i:], err
		}
	}
	return nil, nil
}

// rowError reports whether the database refused the rows themselves (data exception, integrity,
// program limit), as opposed to being unreachable, shutting down or not migrated: those pass.
func rowError(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code[:2] {
	case "22", "23", "54":
		return true
	}
	return false
}

// drain writes the spool's segments into the database, oldest first, backing off while it is away.
func (p *Postgres) drain() {
	defer close(p.drained)
	backoff := minBackoff
	for {
		progressed, err := p.drainOne()
		switch {
		case progressed:
			backoff = minBackoff
			select {
			case <-p.stop:
				return
			default:
			}
			continue
		case err != nil:
			p.report(err)
		}
		wait := backoff
		if err == nil && p.healthy.Load() {
			wait = time.Hour // nothing spooled and the database answers: sleep until woken
		} else {
			backoff = min(backoff*2, maxBackoff)
		}
		t := time.NewTimer(wait)
		select {
		case <-p.stop:
			t.Stop()
			return
		case <-p.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// drainOne writes the oldest segment; progressed is false when there is none or the database is
// unreachable (then err says why).
func (p *Postgres) drainOne() (progressed bool, err error) {
	name, recs, err := p.spool.oldest()
	if err != nil {
		return false, err
	}
	if name == "" {
		if p.healthy.Load() {
			return false, nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		defer cancel()
		if err := p.pool.Ping(ctx); err != nil {
			return false, fmt.Errorf("decisionlog: database unreachable: %w", err)
		}
		p.healthy.Store(true)
		return false, nil
	}
	rest, err := p.writeBatch(recs)
	if rerr := p.spool.replace(name, rest); rerr != nil {
		return false, rerr
	}
	if len(rest) > 0 {
		p.healthy.Store(false)
		return len(rest) < len(recs), err
	}
	p.healthy.Store(true)
	return true, nil
}

// insertSQL stores a batch: each record's fact snapshot once per month by its digest
// (decision_log_facts; in digest order, so that concurrent writers never wait on each other in a
// cycle), and the records pointing at them.
const insertSQL = `WITH r AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bytea[], $10::timestamptz[], $11::text[])
        AS r(id, decision, version, as_of, outcome, envelope, input, facts, digest, recorded_at, caller)
), shared AS (
    INSERT INTO decision_log_facts (month, digest, facts)
    SELECT DISTINCT ON (1, 2) date_trunc('month', recorded_at, 'UTC'), digest, facts::jsonb FROM r WHERE digest IS NOT NULL
    ORDER BY 1, 2
    ON CONFLICT DO NOTHING
)
INSERT INTO decision_log (id, decision, version, as_of, outcome, envelope, input, facts_digest, recorded_at, caller)
SELECT id, decision, version, as_of, outcome, envelope::jsonb, input::jsonb, digest, recorded_at, NULLIF(caller, '') FROM r
ON CONFLICT (id, recorded_at) DO NOTHING`

// write stores a batch with one statement (one round trip).
func (p *Postgres) write(batch []Record) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decisionlog: write panicked: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	n := len(batch)
	ids, decisions, versions, outcomes := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	asOf, recorded := make([]time.Time, n), make([]time.Time, n)
	envelopes, inputs, facts := make([]*string, n), make([]*string, n), make([]*string, n)
	digests := make([][]byte, n)
	callers := make([]string, n)
	now := time.Now()
	for i, r := range batch {
		ids[i], decisions[i], versions[i], outcomes[i], callers[i] = r.ID, r.Decision, r.Version, r.Outcome, r.Caller
		asOf[i], recorded[i] = r.AsOf, r.RecordedAt
		if recorded[i].IsZero() {
			recorded[i] = now
		}
		envelopes[i], inputs[i], facts[i] = jsonText(r.Envelope), jsonText(r.Input), jsonText(r.Facts)
		if len(r.Facts) > 0 {
			sum := sha256.Sum256(r.Facts)
			digests[i] = sum[:]
		}
	}
	if _, err := p.pool.Exec(ctx, insertSQL, ids, decisions, versions, asOf, outcomes, envelopes, inputs, facts, digests, recorded, callers); err != nil {
		if n == 1 {
			return fmt.Errorf("decisionlog: write record %s: %w", batch[0].ID, err)
		}
		return fmt.Errorf("decisionlog: write %d records: %w", n, err)
	}
	return nil
}

func jsonText(raw json.RawMessage) *string {
	if len(raw) == 0 {
		return nil
	}
	s := string(raw)
	return &s
}

// Close stops accepting records, stores (or spools) what is queued, and, while the database answers,
// drains the spool until ctx ends; what is left stays in the spool for the next start.
func (p *Postgres) Close(ctx context.Context) error {
	if err := p.close(ctx); err != nil {
		return err
	}
	if p.spool == nil {
		return nil
	}
	p.once.Do(func() {
		close(p.stop)
		<-p.drained
		for ctx.Err() == nil {
			if progressed, _ := p.drainOne(); !progressed {
				break
			}
		}
		p.spool.close()
	})
	return nil
}

// selectRecord reads records (alias l) with their facts, inline or from the month's shared snapshot.
const selectRecord = `SELECT l.id, l.decision, l.version, l.as_of, l.outcome, l.envelope, l.input, coalesce(l.facts, f.facts), l.recorded_at, coalesce(l.caller, '')
FROM decision_log l LEFT JOIN decision_log_facts f ON f.month = date_trunc('month', l.recorded_at, 'UTC') AND f.digest = l.facts_digest`

// idWindow is how far from the time in its id (a UUIDv7) a record's recorded_at is looked for first:
// the writer stamps a record just after its decision, a commit by the database's clock.
const idWindow = 24 * time.Hour

// idTime returns the time a UUIDv7 decision id was made.
func idTime(id string) (time.Time, bool) {
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 7 {
		return time.Time{}, false
	}
	ms := int64(u[0])<<40 | int64(u[1])<<32 | int64(u[2])<<24 | int64(u[3])<<16 | int64(u[4])<<8 | int64(u[5])
	return time.UnixMilli(ms), true
}

// Get reads one record back from the database, or while it waits in the queue or the spool from there.
func (p *Postgres) Get(ctx context.Context, id string) (Record, error) {
	if rec, ok := p.queued(id); ok {
		return rec, nil
	}
	rec, err := p.get(ctx, id)
	if err == nil || p.spool == nil {
		return rec, err
	}
	if r, ok, serr := p.spool.get(id); serr == nil && ok {
		return r, nil
	}
	if errors.Is(err, ErrNotFound) {
		// Drained between the two reads: the database has it now.
		if rec, err2 := p.get(ctx, id); err2 == nil {
			return rec, nil
		}
	}
	return Record{}, err
}

// get looks id up in the months around the time its id holds (one index probe in one or two
// partitions), then, for an id without a time or a record stamped far from it, in every month.
func (p *Postgres) get(ctx context.Context, id string) (Record, error) {
	if at, ok := idTime(id); ok {
		rec, err := p.getWhere(ctx, id, ` WHERE l.id = $1 AND l.recorded_at >= $2 AND l.recorded_at < $3`, id, at.Add(-idWindow), at.Add(idWindow))
		if !errors.Is(err, ErrNotFound) {
			return rec, err
		}
	}
	return p.getWhere(ctx, id, ` WHERE l.id = $1`, id)
}

func (p *Postgres) getWhere(ctx context.Context, id, where string, args ...any) (Record, error) {
	rows, err := p.pool.Query(ctx, selectRecord+where+` ORDER BY l.recorded_at LIMIT 1`, args...)
	if err != nil {
		return Record{}, fmt.Errorf("decisionlog: get %s: %w", id, err)
	}
	recs, err := scan(rows)
	if err != nil {
		return Record{}, fmt.Errorf("decisionlog: get %s: %w", id, err)
	}
	if len(recs) == 0 {
		return Record{}, ErrNotFound
	}
	return recs[0], nil
}

// List returns stored records of decision in [from, to), oldest first (see Log); spooled records are
// not listed until they reach the database.
func (p *Postgres) List(ctx context.Context, decision string, from, to time.Time, limit int) ([]Record, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if decision != "" {
		add("l.decision = $%d", decision)
	}
	if !from.IsZero() {
		add("l.as_of >= $%d", from)
	}
	if !to.IsZero() {
		add("l.as_of < $%d", to)
	}
	q := selectRecord
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += ` ORDER BY l.as_of, l.id COLLATE "C"` // ties by id byte-wise, as Memory orders them, whatever the database's collation
	if limit > 0 {
		args = append(args, limit)
		q += fmt.Sprintf(" LIMIT $%d", len(args))
	}
	rows, err := p.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("decisionlog: list: %w", err)
	}
	recs, err := scan(rows)
	if err != nil {
		return nil, fmt.Errorf("decisionlog: list: %w", err)
	}
	return recs, nil
}

func scan(rows pgx.Rows) ([]Record, error) {
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var env, in, facts []byte
		if err := rows.Scan(&r.ID, &r.Decision, &r.Version, &r.AsOf, &r.Outcome, &env, &in, &facts, &r.RecordedAt, &r.Caller); err != nil {
			return nil, err
		}
		r.Envelope, r.Input, r.Facts = env, in, facts
		out = append(out, r)
	}
	return out, rows.Err()
}
