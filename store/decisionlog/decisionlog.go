// Package decisionlog records every decision off the hot path and reads them back for audit and replay.
//
// Both logs are an engine.Recorder: Record puts the decision on one bounded queue and returns at once;
// one writer goroutine per log encodes it (envelope, input and facts as JSON) and stores it, the
// PostgreSQL log in batches, the memory log in a ring of the latest records. A full queue refuses the
// decision instead of slowing it down, and counts it as dropped.
//
// The PostgreSQL log loses nothing silently: a batch the database refuses is written again row by
// row, so that only a row PostgreSQL cannot store is dropped; while the database is unreachable,
// records wait in a bounded spool on disk (Options.SpoolDir), which survives a restart and is drained
// into the database, with backoff, once it answers again. Every record finally dropped is counted
// with its reason (see the Drop* constants), and Health fails while drops are recent or the spool
// is nearly full. Commit decisions do not pass through here: the store writes their record in the
// commit's own transaction (store.CommitRecord.Log).
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

	"arbiter/engine"
	"arbiter/engine/value"
	"arbiter/store"
)

// ErrNotFound means no decision with that id was logged (or it is no longer kept).
var ErrNotFound = errors.New("decisionlog: not found")

// Record is one logged decision: its envelope, and the input and facts it was made on.
type Record = store.LogRecord

// Why a record was dropped: the reason label of arbiter_decision_log_dropped_total.
const (
	DropQueueFull    = "queue_full"    // the queue was full (the writer is behind)
	DropClosed       = "closed"        // recorded after Close
	DropEncodeFailed = "encode_failed" // the decision could not be encoded as JSON
	DropWriteFailed  = "write_failed"  // PostgreSQL refused the row, or it could not be written and there is no spool
	DropSpoolFull    = "spool_full"    // the database was unreachable and the spool had no room left
)

// DropReasons lists every reason a record is dropped for.
var DropReasons = []string{DropQueueFull, DropClosed, DropEncodeFailed, DropWriteFailed, DropSpoolFull}

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
	// Health is nil while the log keeps what it is given; otherwise it says why not (recent drops, a
	// nearly full spool).
	Health() error
	// Close stops accepting records and stores what is queued.
	Close(ctx context.Context) error
}

// Options tune a log's writer; zero values take the defaults.
type Options struct {
	QueueSize int           // decisions and records waiting to be written; default 10000
	BatchSize int           // records per PostgreSQL write; default 500
	Interval  time.Duration // longest wait before a partial batch is written; default 200ms
	OnError   func(error)   // called from the writer when encoding or a write fails
	// OnDrop is called for every n records dropped, with the reason (one of DropReasons); for a full
	// or closed queue it runs on the caller of Record.
	OnDrop func(reason string, n int)

	// SpoolDir is the folder (PostgreSQL log only) where records wait while the database is
	// unreachable; each log claims a numbered slot in it, and takes over what a stopped one left there.
	// Empty: no spool, and a record that cannot be written is dropped.
	SpoolDir string
	SpoolMax int64 // bytes the spool may hold; default 256 MiB

	// Health fails when at least DropThreshold records were dropped in the last DropWindow (default
	// 100 in 1m), or when the spool holds more than SpoolHighWater of SpoolMax (default 0.8).
	DropThreshold  int
	DropWindow     time.Duration
	SpoolHighWater float64
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
	if o.SpoolMax <= 0 {
		o.SpoolMax = 256 << 20
	}
	if o.DropThreshold <= 0 {
		o.DropThreshold = 100
	}
	if o.DropWindow <= 0 {
		o.DropWindow = time.Minute
	}
	if o.SpoolHighWater <= 0 || o.SpoolHighWater > 1 {
		o.SpoolHighWater = 0.8
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
	in, err2 := value.Marshal(e.input)
	fs, err3 := value.Marshal(e.facts)
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
	recent  *window
	pending sync.Map       // decision id -> *entry queued or in the batch being stored, for Get
	store   func([]Record) // on the writer goroutine; a failure calls drop itself
}

func newWriter(opts Options, store func([]Record)) *writer {
	w := &writer{opts: opts, queue: make(chan entry, opts.QueueSize), done: make(chan struct{}), store: store,
		recent: newWindow(opts.DropWindow)}
	go w.run()
	return w
}

// Record implements engine.Recorder: it queues d, stamped with the current time, and never blocks.
func (w *writer) Record(d *engine.Decision, input any, facts map[string]any, caller string) {
	w.put(entry{d: d, input: input, facts: facts, caller: caller, rec: Record{RecordedAt: time.Now()}})
}

func (w *writer) put(e entry) bool {
	id := e.rec.ID
	if e.d != nil {
		id = e.d.DecisionID
	}
	// Visible to Get before the writer can take it, so that it is never left behind.
	w.pending.Store(id, &e)
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		w.pending.CompareAndDelete(id, &e)
		w.drop(DropClosed, 1)
		return false
	}
	select {
	case w.queue <- e:
		return true
	default:
	}
	w.pending.CompareAndDelete(id, &e)
	w.drop(DropQueueFull, 1)
	return false
}

// queued returns a record still waiting for the writer, encoded now.
func (w *writer) queued(id string) (Record, bool) {
	v, ok := w.pending.Load(id)
	if !ok {
		return Record{}, false
	}
	rec, err := v.(*entry).encode()
	return rec, err == nil
}

func (w *writer) drop(reason string, n int) {
	if n <= 0 {
		return
	}
	w.dropped.Add(uint64(n))
	w.recent.add(time.Now(), n)
	if w.opts.OnDrop != nil {
		w.opts.OnDrop(reason, n)
	}
}

// health fails when the drops of the recent window reach the threshold.
func (w *writer) health() error {
	if n := w.recent.sum(time.Now()); n >= w.opts.DropThreshold {
		return fmt.Errorf("%d decision-log records dropped in the last %v (see arbiter_decision_log_dropped_total)", n, w.opts.DropWindow)
	}
	return nil
}

func (w *writer) report(err error) {
	if w.opts.OnError != nil {
		w.opts.OnError(err)
	}
}

// Dropped counts records not stored, whatever the reason.
func (w *writer) Dropped() uint64 { return w.dropped.Load() }

func (w *writer) run() {
	defer close(w.done)
	ticker := time.NewTicker(w.opts.Interval)
	defer ticker.Stop()
	batch := make([]Record, 0, w.opts.BatchSize)
	flush := func() {
		if len(batch) > 0 {
			w.store(batch)
			for _, r := range batch {
				w.pending.Delete(r.ID)
			}
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
				w.pending.Delete(e.d.DecisionID)
				w.drop(DropEncodeFailed, 1)
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

// Health fails while recent drops reach the threshold.
func (m *Memory) Health() error { return m.w.health() }

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

// Get returns a kept record, or one still queued.
func (m *Memory) Get(_ context.Context, id string) (Record, error) {
	m.mu.RLock()
	i, ok := m.byID[id]
	var rec Record
	if ok {
		rec = m.ring[i]
	}
	m.mu.RUnlock()
	if ok {
		return rec, nil
	}
	if rec, ok := m.w.queued(id); ok {
		return rec, nil
	}
	return Record{}, ErrNotFound
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

// window sums drops over a sliding time window, in 60 buckets.
type window struct {
	mu    sync.Mutex
	width time.Duration
	slots [60]struct {
		at int64
		n  int
	}
}

func newWindow(d time.Duration) *window { return &window{width: max(d/60, time.Millisecond)} }

func (w *window) add(now time.Time, n int) {
	at := now.UnixNano() / int64(w.width)
	w.mu.Lock()
	s := &w.slots[at%int64(len(w.slots))]
	if s.at != at {
		s.at, s.n = at, 0
	}
	s.n += n
	w.mu.Unlock()
}

func (w *window) sum(now time.Time) int {
	at := now.UnixNano() / int64(w.width)
	w.mu.Lock()
	defer w.mu.Unlock()
	total := 0
	for _, s := range w.slots {
		if s.at > at-int64(len(w.slots)) {
			total += s.n
		}
	}
	return total
}
