// Package decisionlog records every decision off the hot path and reads them back for audit and replay.
//
// Both logs are an engine.Recorder: Record puts the decision on one bounded queue and returns at once;
// one writer goroutine per log encodes it (envelope, input and facts as JSON) and stores it, the
// PostgreSQL log in batches, the memory log in a ring of the latest records. A full queue refuses the
// decision instead of slowing it down, and counts it as dropped.
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

	"arbiter/engine"
)

// ErrNotFound means no decision with that id was logged (or it is no longer kept).
var ErrNotFound = errors.New("decisionlog: not found")

// Record is one logged decision: its envelope, and the input and facts it was made on.
type Record struct {
	ID, Decision, Version, Outcome string
	Caller                         string // who asked: "key:<id>", "jwt:<subject>", "anonymous"; empty before callers were recorded
	AsOf, RecordedAt               time.Time
	Envelope, Input, Facts         json.RawMessage
}

// Log records decisions without blocking the caller and reads them back.
type Log interface {
	// Record queues a decision and never blocks; the decision, input and facts must not be modified
	// afterwards. A decision that cannot be queued (full or closed) is counted as dropped.
	engine.Recorder
	// Enqueue stores an already encoded record and never blocks; it returns false when the record is
	// refused (the queue is full or closed).
	Enqueue(Record) bool
	// Get returns a stored record; ErrNotFound when there is none.
	Get(ctx context.Context, id string) (Record, error)
	// List returns the records of decision ("" for all) with from <= as_of < to (a zero bound is
	// open), oldest first, at most limit (none when limit <= 0).
	List(ctx context.Context, decision string, from, to time.Time, limit int) ([]Record, error)
	// Close stops accepting records and stores what is queued.
	Close(ctx context.Context) error
}

// Options tune a log's writer; zero values take the defaults.
type Options struct {
	QueueSize int           // decisions and records waiting to be written; default 10000
	BatchSize int           // records per PostgreSQL write; default 500
	Interval  time.Duration // longest wait before a partial batch is written; default 200ms
	OnError   func(error)   // called from the writer when encoding or a write fails; the records are dropped
	OnDrop    func(n int)   // called for every n records dropped (by the caller of Record when the queue is full)
}

func (o Options) withDefaults() Options {
	if o.QueueSize <= 0 {
		o.QueueSize = 10000
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.Interval <= 0 {
		o.Interval = 200 * time.Millisecond
	}
	return o
}

// entry is a queued decision to encode, or a record already encoded.
type entry struct {
	rec    Record
	d      *engine.Decision
	input  any
	facts  map[string]any
	caller string
}

// encode builds the record of a queued decision (on the writer goroutine).
func (e *entry) encode() (Record, error) {
	if e.d == nil {
		return e.rec, nil
	}
	envelope, err1 := json.Marshal(e.d)
	in, err2 := json.Marshal(e.input)
	fs, err3 := json.Marshal(e.facts)
	if err := errors.Join(err1, err2, err3); err != nil {
		return Record{}, fmt.Errorf("decisionlog: encode decision %s: %w", e.d.DecisionID, err)
	}
	return Record{
		ID: e.d.DecisionID, Decision: e.d.Decision, Version: e.d.Policy.Version, Outcome: e.d.Outcome,
		AsOf: e.d.AsOf, RecordedAt: e.rec.RecordedAt, Envelope: envelope, Input: in, Facts: fs, Caller: e.caller,
	}, nil
}

// writer is a log's one queue and the goroutine that drains it into store, batch by batch.
type writer struct {
	opts    Options
	queue   chan entry
	done    chan struct{}
	mu      sync.RWMutex // put holds it shared, close exclusively: no send after the queue closes
	closed  bool
	dropped atomic.Uint64
	store   func([]Record) // on the writer goroutine; a failure calls drop itself
}

func newWriter(opts Options, store func([]Record)) *writer {
	w := &writer{opts: opts, queue: make(chan entry, opts.QueueSize), done: make(chan struct{}), store: store}
	go w.run()
	return w
}

// Record implements engine.Recorder: it queues d, stamped with the current time, and never blocks.
func (w *writer) Record(d *engine.Decision, input any, facts map[string]any, caller string) {
	w.put(entry{d: d, input: input, facts: facts, caller: caller, rec: Record{RecordedAt: time.Now()}})
}

func (w *writer) put(e entry) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if !w.closed {
		select {
		case w.queue <- e:
			return true
		default:
		}
	}
	w.drop(1)
	return false
}

func (w *writer) drop(n int) {
	w.dropped.Add(uint64(n))
	if w.opts.OnDrop != nil {
		w.opts.OnDrop(n)
	}
}

func (w *writer) report(err error) {
	if w.opts.OnError != nil {
		w.opts.OnError(err)
	}
}

// Dropped counts records not stored: refused by a full or closed queue, not encodable, or lost to a
// failed write.
func (w *writer) Dropped() uint64 { return w.dropped.Load() }

func (w *writer) run() {
	defer close(w.done)
	ticker := time.NewTicker(w.opts.Interval)
	defer ticker.Stop()
	batch := make([]Record, 0, w.opts.BatchSize)
	flush := func() {
		if len(batch) > 0 {
			w.store(batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case e, ok := <-w.queue:
			if !ok {
				flush()
				return
			}
			rec, err := e.encode()
			if err != nil {
				w.drop(1)
				w.report(err)
				continue
			}
			batch = append(batch, rec)
			if len(batch) >= w.opts.BatchSize {
				flush()
			}
		case <-ticker.C:
			flush()
		}
	}
}

// close stops accepting entries and waits until the queued ones are stored or ctx ends.
func (w *writer) close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("decisionlog: close: %w", ctx.Err())
	}
}

// Postgres writes records in batches from one background goroutine.
type Postgres struct {
	*writer
	pool    *pgxpool.Pool
	written atomic.Uint64
}

// NewPostgres starts a writer storing records into the decision_log table of pool's database.
func NewPostgres(pool *pgxpool.Pool, opts Options) *Postgres {
	p := &Postgres{pool: pool}
	p.writer = newWriter(opts.withDefaults(), p.store)
	return p
}

// Enqueue queues rec for writing; it never blocks.
func (p *Postgres) Enqueue(rec Record) bool { return p.put(entry{rec: rec}) }

// Written counts records stored.
func (p *Postgres) Written() uint64 { return p.written.Load() }

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
	p.drop(len(batch))
	p.report(err)
}

const insertSQL = `INSERT INTO decision_log (id, decision, version, as_of, outcome, envelope, input, facts, recorded_at, caller)
SELECT id, decision, version, as_of, outcome, envelope::jsonb, input::jsonb, facts::jsonb, recorded_at, NULLIF(caller, '')
FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::text[])
    AS r(id, decision, version, as_of, outcome, envelope, input, facts, recorded_at, caller)
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
	callers := make([]string, n)
	now := time.Now()
	for i, r := range batch {
		ids[i], decisions[i], versions[i], outcomes[i] = r.ID, r.Decision, r.Version, r.Outcome
		asOf[i], recorded[i] = r.AsOf, r.RecordedAt
		if recorded[i].IsZero() {
			recorded[i] = now
		}
		envelopes[i], inputs[i], facts[i] = jsonText(r.Envelope), jsonText(r.Input), jsonText(r.Facts)
		callers[i] = r.Caller
	}
	if _, err := p.pool.Exec(ctx, insertSQL, ids, decisions, versions, asOf, outcomes, envelopes, inputs, facts, recorded, callers); err != nil {
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
func (p *Postgres) Close(ctx context.Context) error { return p.close(ctx) }

const selectRecord = `SELECT id, decision, version, as_of, outcome, envelope, input, facts, recorded_at, coalesce(caller, '') FROM decision_log`

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
		if err := rows.Scan(&r.ID, &r.Decision, &r.Version, &r.AsOf, &r.Outcome, &env, &in, &facts, &r.RecordedAt, &r.Caller); err != nil {
			return nil, err
		}
		r.Envelope, r.Input, r.Facts = env, in, facts
		out = append(out, r)
	}
	return out, rows.Err()
}

// Memory keeps the latest records in a ring, evicting the oldest when full.
type Memory struct {
	w    *writer // decisions given to Record, encoded and kept one by one
	mu   sync.RWMutex
	ring []Record
	next int // the slot the next record overwrites once the ring is full
	byID map[string]int
}

// NewMemory keeps at most capacity records (at least one), with the default options.
func NewMemory(capacity int) *Memory { return NewMemoryWith(capacity, Options{}) }

// NewMemoryWith keeps at most capacity records (at least one); of opts, the batch size and interval
// are not used: each decision is kept as soon as it is encoded.
func NewMemoryWith(capacity int, opts Options) *Memory {
	if capacity < 1 {
		capacity = 1
	}
	m := &Memory{ring: make([]Record, 0, capacity), byID: make(map[string]int, capacity)}
	opts = opts.withDefaults()
	opts.BatchSize, opts.Interval = 1, time.Hour
	m.w = newWriter(opts, func(batch []Record) {
		for _, rec := range batch {
			m.Enqueue(rec)
		}
	})
	return m
}

// Record implements engine.Recorder: it queues d for encoding and never blocks.
func (m *Memory) Record(d *engine.Decision, input any, facts map[string]any, caller string) {
	m.w.Record(d, input, facts, caller)
}

// Dropped counts decisions not kept: refused by a full or closed queue, or not encodable.
func (m *Memory) Dropped() uint64 { return m.w.Dropped() }

// Enqueue keeps rec at once; it always succeeds.
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

// Close stops accepting decisions and waits until the queued ones are kept or ctx ends.
func (m *Memory) Close(ctx context.Context) error { return m.w.close(ctx) }
