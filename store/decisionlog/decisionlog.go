// Package decisionlog records every decision off the hot path and reads them back for audit and replay.
//
// The PostgreSQL log queues records in memory and a background writer stores them in batches; a full
// queue refuses a record instead of slowing the decision down. The memory log keeps the latest records
// in a ring, for the in-memory default.
package decisionlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound means no decision with that id was logged (or it is no longer kept).
var ErrNotFound = errors.New("decisionlog: not found")

// Record is one logged decision: its envelope, and the input and facts it was made on.
type Record struct {
	ID, Decision, Version, Outcome string
	AsOf, RecordedAt               time.Time
	Envelope, Input, Facts         json.RawMessage
}

// Log records decisions without blocking the caller and reads them back.
type Log interface {
	// Enqueue never blocks; it returns false when the record is refused (the queue is full or closed).
	Enqueue(Record) bool
	// Get returns a stored record; ErrNotFound when there is none.
	Get(ctx context.Context, id string) (Record, error)
	// List returns the records of decision ("" for all) with from <= as_of < to (a zero bound is
	// open), oldest first, at most limit (none when limit <= 0).
	List(ctx context.Context, decision string, from, to time.Time, limit int) ([]Record, error)
	// Close stops accepting records and stores what is queued.
	Close(ctx context.Context) error
}

// Options tune the PostgreSQL writer; zero values take the defaults.
type Options struct {
	QueueSize int           // records waiting to be written; default 10000
	BatchSize int           // records per write; default 500
	Interval  time.Duration // longest wait before a partial batch is written; default 200ms
	OnError   func(error)   // called from the writer when a write fails; the records are dropped
}

// Postgres writes records in batches from one background goroutine.
type Postgres struct {
	pool    *pgxpool.Pool
	opts    Options
	queue   chan Record
	done    chan struct{}
	mu      sync.RWMutex // Enqueue holds it shared, Close exclusively: no send after the queue closes
	closed  bool
	written atomic.Uint64
	dropped atomic.Uint64
}

// NewPostgres starts a writer storing records into the decision_log table of pool's database.
func NewPostgres(pool *pgxpool.Pool, opts Options) *Postgres {
	if opts.QueueSize <= 0 {
		opts.QueueSize = 10000
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.Interval <= 0 {
		opts.Interval = 200 * time.Millisecond
	}
	p := &Postgres{pool: pool, opts: opts, queue: make(chan Record, opts.QueueSize), done: make(chan struct{})}
	go p.run()
	return p
}

// Enqueue queues rec for writing; it never blocks.
func (p *Postgres) Enqueue(rec Record) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		p.dropped.Add(1)
		return false
	}
	select {
	case p.queue <- rec:
		return true
	default:
		p.dropped.Add(1)
		return false
	}
}

// Dropped counts records not stored: refused by a full or closed queue, or lost to a failed write.
func (p *Postgres) Dropped() uint64 { return p.dropped.Load() }

// Written counts records stored.
func (p *Postgres) Written() uint64 { return p.written.Load() }

func (p *Postgres) run() {
	defer close(p.done)
	ticker := time.NewTicker(p.opts.Interval)
	defer ticker.Stop()
	batch := make([]Record, 0, p.opts.BatchSize)
	flush := func() {
		if len(batch) > 0 {
			p.store(batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case rec, ok := <-p.queue:
			if !ok {
				flush()
				return
			}
			batch = append(batch, rec)
			if len(batch) >= p.opts.BatchSize {
				flush()
			}
		case <-ticker.C:
			flush()
		}
	}
}

// store writes one batch, retrying once; a failure is reported, counted and never stops the writer.
func (p *Postgres) store(batch []Record) {
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if attempt > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		if err = p.write(batch); err == nil {
			p.written.Add(uint64(len(batch)))
			return
		}
	}
	p.dropped.Add(uint64(len(batch)))
	if p.opts.OnError != nil {
		p.opts.OnError(err)
	}
}

const insertSQL = `INSERT INTO decision_log (id, decision, version, as_of, outcome, envelope, input, facts, recorded_at)
SELECT id, decision, version, as_of, outcome, envelope::jsonb, input::jsonb, facts::jsonb, recorded_at
FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[])
    AS r(id, decision, version, as_of, outcome, envelope, input, facts, recorded_at)
ON CONFLICT (id) DO NOTHING`

// write stores a batch with one statement (one round trip).
func (p *Postgres) write(batch []Record) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decisionlog: write panicked: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n := len(batch)
	ids, decisions, versions, outcomes := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	asOf, recorded := make([]time.Time, n), make([]time.Time, n)
	envelopes, inputs, facts := make([]*string, n), make([]*string, n), make([]*string, n)
	now := time.Now()
	for i, r := range batch {
		ids[i], decisions[i], versions[i], outcomes[i] = r.ID, r.Decision, r.Version, r.Outcome
		asOf[i], recorded[i] = r.AsOf, r.RecordedAt
		if recorded[i].IsZero() {
			recorded[i] = now
		}
		envelopes[i], inputs[i], facts[i] = jsonText(r.Envelope), jsonText(r.Input), jsonText(r.Facts)
	}
	if _, err := p.pool.Exec(ctx, insertSQL, ids, decisions, versions, asOf, outcomes, envelopes, inputs, facts, recorded); err != nil {
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

// Close stops accepting records and waits until the queued ones are stored or ctx ends.
func (p *Postgres) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.queue)
	}
	p.mu.Unlock()
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("decisionlog: close: %w", ctx.Err())
	}
}

const selectRecord = `SELECT id, decision, version, as_of, outcome, envelope, input, facts, recorded_at FROM decision_log`

// Get reads one stored record back; records still queued are not found.
func (p *Postgres) Get(ctx context.Context, id string) (Record, error) {
	rows, err := p.pool.Query(ctx, selectRecord+` WHERE id = $1`, id)
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

// List returns stored records of decision in [from, to), oldest first (see Log).
func (p *Postgres) List(ctx context.Context, decision string, from, to time.Time, limit int) ([]Record, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if decision != "" {
		add("decision = $%d", decision)
	}
	if !from.IsZero() {
		add("as_of >= $%d", from)
	}
	if !to.IsZero() {
		add("as_of < $%d", to)
	}
	q := selectRecord
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += ` ORDER BY as_of, id COLLATE "C"` // ties by id byte-wise, as Memory orders them, whatever the database's collation
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
		if err := rows.Scan(&r.ID, &r.Decision, &r.Version, &r.AsOf, &r.Outcome, &env, &in, &facts, &r.RecordedAt); err != nil {
			return nil, err
		}
		r.Envelope, r.Input, r.Facts = env, in, facts
		out = append(out, r)
	}
	return out, rows.Err()
}

// Memory keeps the latest records in a ring, evicting the oldest when full.
type Memory struct {
	mu   sync.RWMutex
	ring []Record
	next int // the slot the next record overwrites once the ring is full
	byID map[string]int
}

// NewMemory keeps at most capacity records (at least one).
func NewMemory(capacity int) *Memory {
	if capacity < 1 {
		capacity = 1
	}
	return &Memory{ring: make([]Record, 0, capacity), byID: make(map[string]int, capacity)}
}

// Enqueue stores rec at once; it always succeeds.
func (m *Memory) Enqueue(rec Record) bool {
	if rec.RecordedAt.IsZero() {
		rec.RecordedAt = time.Now()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[rec.ID]; ok { // the same id again: keep the first, as PostgreSQL does
		return true
	}
	if len(m.ring) < cap(m.ring) {
		m.byID[rec.ID] = len(m.ring)
		m.ring = append(m.ring, rec)
		return true
	}
	delete(m.byID, m.ring[m.next].ID)
	m.ring[m.next] = rec
	m.byID[rec.ID] = m.next
	m.next = (m.next + 1) % len(m.ring)
	return true
}

// Get returns a kept record.
func (m *Memory) Get(_ context.Context, id string) (Record, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	i, ok := m.byID[id]
	if !ok {
		return Record{}, ErrNotFound
	}
	return m.ring[i], nil
}

// List returns kept records of decision in [from, to), oldest first (see Log).
func (m *Memory) List(_ context.Context, decision string, from, to time.Time, limit int) ([]Record, error) {
	m.mu.RLock()
	var out []Record
	for _, r := range m.ring {
		if (decision == "" || r.Decision == decision) && (from.IsZero() || !r.AsOf.Before(from)) && (to.IsZero() || r.AsOf.Before(to)) {
			out = append(out, r)
		}
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b Record) int {
		if c := a.AsOf.Compare(b.AsOf); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Close does nothing: the memory log has nothing to flush.
func (m *Memory) Close(context.Context) error { return nil }
