// Package decisionlog records every decision off the hot path and reads them back for audit and replay.
package decisionlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound means no decision with that id was logged.
var ErrNotFound = errors.New("decisionlog: not found")

// Record is one logged decision: its envelope, and the input and facts it was made on.
type Record struct {
	ID, Decision, Version, Outcome string
	AsOf, RecordedAt               time.Time
	Envelope, Input, Facts         json.RawMessage
}

// Log records decisions without blocking the caller and reads them back.
type Log interface {
	// Enqueue never blocks; it returns false when the queue is full and the record is dropped.
	Enqueue(Record) bool
	Get(ctx context.Context, id string) (Record, error)
	List(ctx context.Context, decision string, from, to time.Time, limit int) ([]Record, error)
	// Close flushes what is queued.
	Close(ctx context.Context) error
}

// Options tune the PostgreSQL writer.
type Options struct {
	QueueSize int           // default 10000
	BatchSize int           // default 500
	Interval  time.Duration // default 200ms
	OnError   func(error)
}

// Postgres writes records in batches from a background goroutine.
type Postgres struct {
	pool    *pgxpool.Pool
	opts    Options
	queue   chan Record
	done    chan struct{}
	closed  atomic.Bool
	once    sync.Once
	written atomic.Uint64
	dropped atomic.Uint64
	mu      sync.RWMutex // guards sends against Close
}

// NewPostgres starts a writer over pool.
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

// Enqueue queues rec; a full queue drops it and counts the drop.
func (p *Postgres) Enqueue(rec Record) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed.Load() {
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

// Dropped counts records refused because the queue was full or closed.
func (p *Postgres) Dropped() uint64 { return p.dropped.Load() }

// Written counts records stored.
func (p *Postgres) Written() uint64 { return p.written.Load() }

func (p *Postgres) run() {
	defer close(p.done)
	ticker := time.NewTicker(p.opts.Interval)
	defer ticker.Stop()
	batch := make([]Record, 0, p.opts.BatchSize)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := p.write(batch); err != nil && p.opts.OnError != nil {
			p.opts.OnError(err)
		}
		batch = batch[:0]
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

func (p *Postgres) write(batch []Record) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b := &pgx.Batch{}
	for _, r := range batch {
		b.Queue(`INSERT INTO decision_log (id, decision, version, as_of, outcome, envelope, input, facts, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
			r.ID, r.Decision, r.Version, r.AsOf, r.Outcome, string(r.Envelope), string(r.Input), string(r.Facts), r.RecordedAt)
	}
	if err := p.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("decisionlog: write %d records: %w", len(batch), err)
	}
	p.written.Add(uint64(len(batch)))
	return nil
}

// Close stops accepting records and flushes the queue.
func (p *Postgres) Close(ctx context.Context) error {
	p.once.Do(func() {
		p.mu.Lock()
		p.closed.Store(true)
		close(p.queue)
		p.mu.Unlock()
	})
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

const selectRecord = `SELECT id, decision, version, as_of, outcome, envelope, input, facts, recorded_at FROM decision_log`

// Get reads one record back.
func (p *Postgres) Get(ctx context.Context, id string) (Record, error) {
	rows, err := p.pool.Query(ctx, selectRecord+` WHERE id = $1`, id)
	if err != nil {
		return Record{}, err
	}
	recs, err := scan(rows)
	if err != nil {
		return Record{}, err
	}
	if len(recs) == 0 {
		return Record{}, ErrNotFound
	}
	return recs[0], nil
}

// List returns records of decision (all when empty) made in [from, to), oldest first.
func (p *Postgres) List(ctx context.Context, decision string, from, to time.Time, limit int) ([]Record, error) {
	rows, err := p.pool.Query(ctx, selectRecord+` WHERE ($1 = '' OR decision = $1) AND as_of >= $2 AND as_of < $3
		ORDER BY as_of, id LIMIT $4`, decision, from, to, limit)
	if err != nil {
		return nil, err
	}
	return scan(rows)
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

// Memory keeps the last records in a ring, for the in-memory default.
type Memory struct {
	mu   sync.RWMutex
	ring []Record
	next int
	byID map[string]int
}

// NewMemory keeps at most capacity records.
func NewMemory(capacity int) *Memory {
	return &Memory{ring: make([]Record, 0, capacity), byID: map[string]int{}}
}

// Enqueue stores rec, evicting the oldest when full.
func (m *Memory) Enqueue(rec Record) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.ring) < cap(m.ring) {
		m.byID[rec.ID] = len(m.ring)
		m.ring = append(m.ring, rec)
		return true
	}
	if cap(m.ring) == 0 {
		return false
	}
	delete(m.byID, m.ring[m.next].ID)
	m.ring[m.next] = rec
	m.byID[rec.ID] = m.next
	m.next = (m.next + 1) % cap(m.ring)
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

// List returns kept records of decision made in [from, to).
func (m *Memory) List(_ context.Context, decision string, from, to time.Time, limit int) ([]Record, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []Record
	for _, r := range m.ring {
		if (decision == "" || r.Decision == decision) && !r.AsOf.Before(from) && r.AsOf.Before(to) && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

// Close does nothing: memory needs no flush.
func (m *Memory) Close(context.Context) error { return nil }
