package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// ledgerTable is the core table commits append to and ledger.usage reads.
const ledgerTable = "ledger_entries"

// Memory is the in-memory store: the embedded default and the test-case store. Rows are indexed once
// per provider; commits are serialised by one lock and applied only when their function succeeds.
type Memory struct {
	cat      *Catalog
	commitMu sync.Mutex   // one commit at a time
	mu       sync.RWMutex // guards tables, provs' indexes and commits against a commit's publication
	tables   map[string]*memTable
	provs    map[string]*memProvider
	commits  map[commitKey]CommitRecord
	logTo    func(LogRecord) // receives the log records of published commits, under commitMu
}

type memTable struct {
	t     *table
	pks   map[string]struct{}
	provs []*memProvider // providers reading this table
}

type memProvider struct {
	*provider
	index map[string]*bucket
}

// bucket holds the rows of one index key, sorted by order_by then primary key (cap == len, so an
// append by a reader copies), and the answer boxed once so that Load does not allocate it.
type bucket struct {
	rows   []any
	answer any
}

func (p *memProvider) newBucket(rows []any) *bucket {
	b := &bucket{rows: slices.Clip(rows)}
	if p.One {
		b.answer = rows[0]
	} else {
		b.answer = b.rows
	}
	return b
}

type commitKey struct{ decision, key string }

var (
	emptyRows       = []any{}
	emptyAnswer any = emptyRows
)

// NewMemory checks rows against the catalog (rows built in code are converted to canonical values)
// and indexes them for every provider.
func NewMemory(c *Catalog, rows Rows) (*Memory, error) {
	canon, err := canonicalRows(c, rows)
	if err != nil {
		return nil, err
	}
	m := &Memory{cat: c, tables: map[string]*memTable{}, provs: map[string]*memProvider{}, commits: map[commitKey]CommitRecord{}}
	for name, t := range c.tables {
		mt := &memTable{t: t, pks: make(map[string]struct{}, len(canon[name]))}
		for _, r := range canon[name] {
			mt.pks[t.pkString(r)] = struct{}{}
		}
		m.tables[name] = mt
	}
	for name, p := range c.providers {
		mp := &memProvider{provider: p, index: map[string]*bucket{}}
		groups := map[string][]any{}
		for _, r := range canon[p.table.name] {
			if k, ok := p.rowKey(r); ok {
				groups[k] = append(groups[k], r)
			}
		}
		for k, rs := range groups {
			p.sortRows(rs)
			mp.index[k] = mp.newBucket(rs)
		}
		m.provs[name] = mp
		mt := m.tables[p.table.name]
		mt.provs = append(mt.provs, mp)
	}
	return m, nil
}

// sortRows orders rows by order_by, then the primary key, as the PostgreSQL store's ORDER BY does.
func (p *provider) sortRows(rows []any) {
	slices.SortStableFunc(rows, func(a, b any) int {
		ra, rb := a.(map[string]any), b.(map[string]any)
		for _, cl := range p.orderBy {
			if c := cl.typ.compareValues(ra[cl.name], rb[cl.name]); c != 0 {
				return c
			}
		}
		return 0
	})
}

// Load answers every lookup from the indexes.
func (m *Memory) Load(ctx context.Context, lookups []Lookup) (Facts, error) {
	out := make(Facts, len(lookups))
	m.mu.RLock()
	defer m.mu.RUnlock()
	for i := range lookups {
		v, err := m.answer(&lookups[i], nil)
		if err != nil {
			return nil, err
		}
		out[lookups[i].Name] = v
	}
	return out, nil
}

func (m *Memory) answer(l *Lookup, tx *memTx) (any, error) {
	mp, ok := m.provs[l.Provider]
	if !ok {
		return nil, fmt.Errorf("facts: %s: unknown provider %q", l.Name, l.Provider)
	}
	if len(l.Key) != len(mp.by) {
		return nil, badKey(l, mp.provider)
	}
	var b *bucket
	if len(mp.by) == 1 {
		v, present := l.Key[mp.by[0].name]
		if !present {
			return nil, badKey(l, mp.provider)
		}
		if s, isString := v.(string); isString && mp.by[0].typ == typeText {
			b = mp.index[s]
		} else if cv, ok := keyValue(mp.by[0], v); ok {
			var buf [32]byte
			b = mp.index[string(appendKey(buf[:0], cv))]
		}
	} else {
		for _, cl := range mp.by {
			if _, present := l.Key[cl.name]; !present {
				return nil, badKey(l, mp.provider)
			}
		}
		var buf [64]byte
		if k, ok := mp.indexKey(l.Key, buf[:0]); ok {
			b = mp.index[string(k)]
		}
	}
	if tx != nil && len(tx.entries) > 0 && mp.table.name == ledgerTable {
		var rows []any
		if b != nil {
			rows = b.rows
		}
		if merged := tx.withPending(mp, l.Key, rows); len(merged) > 0 {
			b = mp.newBucket(merged)
		}
	}
	switch {
	case b != nil:
		return b.answer, nil
	case mp.One:
		return nil, &NotFoundError{Provider: l.Provider, Field: l.Field, Key: l.Key}
	}
	return emptyAnswer, nil
}

func badKey(l *Lookup, p *provider) error {
	return fmt.Errorf("facts: %s: provider %s is looked up by %v, got key {%s}", l.Name, p.Name, p.By, formatKey(l.Key))
}

// Commit runs fn alone (one commit at a time); its writes become visible only when fn succeeds.
func (m *Memory) Commit(ctx context.Context, locks []string, fn func(ctx context.Context, tx Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.commitMu.Lock()
	defer m.commitMu.Unlock()
	tx := &memTx{m: m, now: time.Now().UTC().Round(time.Microsecond)}
	err := fn(ctx, tx)
	tx.done = true
	if err != nil {
		return err
	}
	m.publish(tx)
	if m.logTo != nil {
		for _, rec := range tx.logs {
			m.logTo(rec)
		}
	}
	return nil
}

// LogTo hands every stored commit's log record (CommitRecord.Log) to fn, once the commit is
// published and before the next one runs; call it before the first commit. fn must not block.
func (m *Memory) LogTo(fn func(LogRecord)) { m.logTo = fn }

func (m *Memory) publish(tx *memTx) {
	if len(tx.entries) == 0 && len(tx.commits) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, rec := range tx.commits {
		m.commits[commitKey{rec.Decision, rec.IdempotencyKey}] = rec
	}
	if len(tx.entries) == 0 {
		return
	}
	mt := m.tables[ledgerTable]
	for _, r := range tx.entries {
		mt.pks[mt.t.pkString(r)] = struct{}{}
		for _, mp := range mt.provs {
			k, ok := mp.rowKey(r)
			if !ok {
				continue
			}
			// Copy on write: slices already handed to readers are never changed.
			var rows []any
			if old := mp.index[k]; old != nil {
				rows = append(make([]any, 0, len(old.rows)+1), old.rows...)
			}
			rows = append(rows, r)
			mp.sortRows(rows)
			mp.index[k] = mp.newBucket(rows)
		}
	}
}

// Ping always succeeds.
func (m *Memory) Ping(context.Context) error { return nil }

// Close releases nothing; the store stays usable.
func (m *Memory) Close() {}

// memTx buffers a commit's writes until its function returns without error.
type memTx struct {
	m       *Memory
	now     time.Time
	entries []map[string]any
	commits []CommitRecord
	logs    []LogRecord
	done    bool
}

var errTxDone = errors.New("facts: the commit has already finished")

// Load sees every earlier commit and this commit's own entries. No other commit can publish while
// this one runs, so the indexes are stable without the read lock.
func (tx *memTx) Load(ctx context.Context, lookups []Lookup) (Facts, error) {
	if tx.done {
		return nil, errTxDone
	}
	out := make(Facts, len(lookups))
	for i := range lookups {
		v, err := tx.m.answer(&lookups[i], tx)
		if err != nil {
			return nil, err
		}
		out[lookups[i].Name] = v
	}
	return out, nil
}

func (tx *memTx) withPending(mp *memProvider, key map[string]any, rows []any) []any {
	want, ok := mp.indexKey(key, nil)
	if !ok {
		return rows
	}
	var merged []any
	for _, r := range tx.entries {
		if k, ok := mp.rowKey(r); ok && k == string(want) {
			if merged == nil {
				merged = append(make([]any, 0, len(rows)+1), rows...)
			}
			merged = append(merged, r)
		}
	}
	if merged == nil {
		return rows
	}
	mp.sortRows(merged)
	return merged
}

func (tx *memTx) FindCommit(ctx context.Context, decision, idempotencyKey string) (*CommitRecord, error) {
	if tx.done {
		return nil, errTxDone
	}
	for i := range tx.commits {
		if tx.commits[i].Decision == decision && tx.commits[i].IdempotencyKey == idempotencyKey {
			rec := tx.commits[i]
			return &rec, nil
		}
	}
	rec, ok := tx.m.commits[commitKey{decision, idempotencyKey}]
	if !ok {
		return nil, nil
	}
	return &rec, nil
}

func (tx *memTx) SaveCommit(ctx context.Context, rec CommitRecord, entries []LedgerEntry) error {
	if tx.done {
		return errTxDone
	}
	if prev, _ := tx.FindCommit(ctx, rec.Decision, rec.IdempotencyKey); prev != nil {
		return fmt.Errorf("facts: commit %s/%s already exists", rec.Decision, rec.IdempotencyKey)
	}
	mt, ok := tx.m.tables[ledgerTable]
	if !ok && len(entries) > 0 {
		return fmt.Errorf("facts: the catalog has no %s table (core.yaml)", ledgerTable)
	}
	rows := make([]map[string]any, 0, len(entries))
	for _, e := range entries {
		r := map[string]any{
			"decision_id": rec.DecisionID, "key": e.Key, "amount": e.Amount.String(),
			"decision": rec.Decision, "idempotency_key": rec.IdempotencyKey, "created_at": formatTimestamp(tx.now),
		}
		mt.t.fillDefaults(r)
		k := mt.t.pkString(r)
		if _, dup := mt.pks[k]; dup {
			return fmt.Errorf("facts: ledger entry %s already exists", mt.t.pkLabel(r))
		}
		for _, p := range append(tx.entries, rows...) {
			if mt.t.pkString(p) == k {
				return fmt.Errorf("facts: ledger entry %s is given twice", mt.t.pkLabel(r))
			}
		}
		rows = append(rows, r)
	}
	rec.CreatedAt = tx.now
	if rec.Log != nil {
		l := *rec.Log
		if l.RecordedAt.IsZero() {
			l.RecordedAt = tx.now
		}
		tx.logs = append(tx.logs, l)
		rec.Log = nil
	}
	tx.commits = append(tx.commits, rec)
	tx.entries = append(tx.entries, rows...)
	return nil
}
