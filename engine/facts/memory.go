package facts

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/shopspring/decimal"
)

// Memory is an in-memory store over canonical rows; it is the embedded default and the test store.
type Memory struct {
	cat     *Catalog
	mu      sync.RWMutex
	commit  sync.Mutex
	tables  map[string][]map[string]any
	indexes map[string]map[string][]map[string]any // provider -> key -> rows (sorted)
	commits map[string]*CommitRecord
}

// NewMemory indexes rows for every provider of the catalog.
func NewMemory(c *Catalog, rows Rows) (*Memory, error) {
	if err := checkKeys(c, rows); err != nil {
		return nil, err
	}
	m := &Memory{cat: c, tables: map[string][]map[string]any{}, commits: map[string]*CommitRecord{}}
	for t, rs := range rows {
		if _, ok := c.tables[t]; !ok {
			return nil, fmt.Errorf("facts: unknown table %q", t)
		}
		m.tables[t] = append([]map[string]any{}, rs...)
	}
	m.reindex()
	return m, nil
}

func (m *Memory) reindex() {
	idx := map[string]map[string][]map[string]any{}
	for name, p := range m.cat.providers {
		byKey := map[string][]map[string]any{}
		for _, r := range m.tables[p.Table] {
			k := keyOf(p.By, func(col string) any { return r[col] })
			byKey[k] = append(byKey[k], r)
		}
		t := m.cat.tables[p.Table]
		for _, rs := range byKey {
			sortRows(rs, p.OrderBy, t.PrimaryKey)
		}
		idx[name] = byKey
	}
	m.indexes = idx
}

func keyOf(cols []string, get func(string) any) string {
	var b strings.Builder
	for _, c := range cols {
		fmt.Fprint(&b, get(c))
		b.WriteByte(0)
	}
	return b.String()
}

func sortRows(rs []map[string]any, orderBy, pk []string) {
	cols := append(append([]string{}, orderBy...), pk...)
	sort.SliceStable(rs, func(i, j int) bool {
		for _, c := range cols {
			a, b := fmt.Sprint(rs[i][c]), fmt.Sprint(rs[j][c])
			if a != b {
				return a < b
			}
		}
		return false
	})
}

// Load answers every lookup from the indexes.
func (m *Memory) Load(_ context.Context, lookups []Lookup) (Facts, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.load(lookups)
}

func (m *Memory) load(lookups []Lookup) (Facts, error) {
	out := make(Facts, len(lookups))
	for _, l := range lookups {
		p, ok := m.cat.providers[l.Provider]
		if !ok {
			return nil, fmt.Errorf("facts: unknown provider %q", l.Provider)
		}
		rs := m.indexes[l.Provider][keyOf(p.By, func(col string) any { return l.Key[col] })]
		if p.One {
			if len(rs) == 0 {
				return nil, &NotFoundError{Provider: l.Provider, Field: l.Field, Key: l.Key}
			}
			out[l.Name] = rs[0]
			continue
		}
		list := make([]any, len(rs))
		for i, r := range rs {
			list[i] = r
		}
		out[l.Name] = list
	}
	return out, nil
}

// Commit runs fn under a process-wide commit lock; ledger entries and commits become visible only if fn succeeds.
func (m *Memory) Commit(ctx context.Context, _ []string, fn func(ctx context.Context, tx Tx) error) error {
	m.commit.Lock()
	defer m.commit.Unlock()
	tx := &memTx{m: m}
	if err := fn(ctx, tx); err != nil {
		return err
	}
	if tx.rec == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commits[tx.rec.Decision+"\x00"+tx.rec.IdempotencyKey] = tx.rec
	for _, e := range tx.entries {
		m.tables["ledger_entries"] = append(m.tables["ledger_entries"], map[string]any{
			"decision_id": tx.rec.DecisionID, "key": e.Key, "amount": e.Amount.String(),
			"decision": tx.rec.Decision, "idempotency_key": tx.rec.IdempotencyKey, "created_at": nil,
		})
	}
	m.reindex()
	return nil
}

type memTx struct {
	m       *Memory
	rec     *CommitRecord
	entries []LedgerEntry
}

func (t *memTx) Load(ctx context.Context, lookups []Lookup) (Facts, error) {
	return t.m.Load(ctx, lookups)
}

func (t *memTx) FindCommit(_ context.Context, decision, key string) (*CommitRecord, error) {
	t.m.mu.RLock()
	defer t.m.mu.RUnlock()
	return t.m.commits[decision+"\x00"+key], nil
}

func (t *memTx) SaveCommit(_ context.Context, rec CommitRecord, entries []LedgerEntry) error {
	if _, dup := t.m.commits[rec.Decision+"\x00"+rec.IdempotencyKey]; dup {
		return fmt.Errorf("facts: commit %s/%s already exists", rec.Decision, rec.IdempotencyKey)
	}
	t.rec = &rec
	t.entries = entries
	return nil
}

// Ping always succeeds.
func (m *Memory) Ping(context.Context) error { return nil }

// Close releases nothing.
func (m *Memory) Close() {}

var _ = decimal.Zero
