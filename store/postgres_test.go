package store_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"arbiter/internal/testing/pgtest"
	"arbiter/store"
)

// countingTracer counts what a pool sends: plain queries, batches and the statements inside them.
type countingTracer struct {
	queries, batches, batchQueries atomic.Int64
}

func (c *countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.queries.Add(1)
	return ctx
}
func (c *countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *countingTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.batches.Add(1)
	return ctx
}
func (c *countingTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {
	c.batchQueries.Add(1)
}
func (c *countingTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (c *countingTracer) reset() { c.queries.Store(0); c.batches.Store(0); c.batchQueries.Store(0) }

func TestLoadIsOneBatch(t *testing.T) {
	c := testCatalog(t)
	url := typedDatabase(t)
	ctx := context.Background()
	tr := &countingTracer{}
	pg, err := store.OpenPostgresWith(ctx, url, c, func(cfg *pgxpool.Config) { cfg.ConnConfig.Tracer = tr })
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if err := pg.Seed(ctx, typedRows(t, c)); err != nil {
		t.Fatal(err)
	}
	lookups := typedLookups[:11] // the last two cannot match anything (a key of the wrong type, NULL) and are not sent
	for round := range 2 {
		tr.reset()
		if _, err := pg.Load(ctx, lookups); err != nil {
			t.Fatal(err)
		}
		if tr.batches.Load() != 1 || tr.queries.Load() != 0 || tr.batchQueries.Load() != int64(len(lookups)) {
			t.Fatalf("round %d: %d batches, %d plain queries, %d statements in batches; want 1, 0, %d",
				round, tr.batches.Load(), tr.queries.Load(), tr.batchQueries.Load(), len(lookups))
		}
	}
	tr.reset()
	f, err := pg.Load(ctx, typedLookups[11:])
	if err != nil {
		t.Fatal(err)
	}
	if tr.batches.Load() != 0 || tr.queries.Load() != 0 || len(f) != 2 {
		t.Fatalf("lookups that cannot match must not reach the server: %d batches, %d queries, facts %v", tr.batches.Load(), tr.queries.Load(), f)
	}
}

func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "postgres://postgres@" + addr + "/test?sslmode=disable&connect_timeout=2"
}

func TestUnavailableWhenTheServerIsDown(t *testing.T) {
	c := testCatalog(t)
	ctx := context.Background()
	pg, err := store.OpenPostgres(ctx, closedPortURL(t), c)
	if err != nil {
		t.Fatalf("opening is lazy and must not fail: %v", err)
	}
	defer pg.Close()
	_, err = pg.Load(ctx, typedLookups[:1])
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Load: want ErrUnavailable, got %v", err)
	}
	if err := pg.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Ping: want ErrUnavailable, got %v", err)
	}
	called := false
	err = pg.Commit(ctx, []string{"k"}, func(context.Context, store.Tx) error { called = true; return nil })
	if !errors.Is(err, store.ErrUnavailable) || called {
		t.Fatalf("Commit: want ErrUnavailable without running fn, got %v (fn ran: %v)", err, called)
	}
	if err := store.Migrate(ctx, closedPortURL(t), c); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Migrate: want ErrUnavailable, got %v", err)
	}
	// A URL that cannot work is a plain error, for the store and for Migrate.
	if _, err := store.OpenPostgres(ctx, "postgres://x:y@host:notaport/db", c); err == nil || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("OpenPostgres with a malformed URL: got %v", err)
	}
	if err := store.Migrate(ctx, "postgres://x:y@host:notaport/db", c); err == nil || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Migrate with a malformed URL: got %v", err)
	}
}

func TestUnavailableWhenClosedOrExhausted(t *testing.T) {
	c := testCatalog(t)
	url := typedDatabase(t)
	ctx := context.Background()

	pg, err := store.OpenPostgresWith(ctx, url, c, func(cfg *pgxpool.Config) { cfg.MaxConns = 1 })
	if err != nil {
		t.Fatal(err)
	}
	held, err := pg.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = pg.Load(short, typedLookups[:1])
	cancel()
	// Every connection busy while the database answers is overload, not an outage.
	if !errors.Is(err, store.ErrOverloaded) || errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("no connection in time: want ErrOverloaded (wrapping the deadline), got %v", err)
	}
	held.Release()

	pg.Close()
	if _, err := pg.Load(ctx, typedLookups[:1]); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("closed pool: want ErrUnavailable, got %v", err)
	}
}

func TestBadQueryIsNotUnavailable(t *testing.T) {
	fsys := fstest.MapFS{"x.yaml": {Data: []byte("tables:\n  not_migrated:\n    primary_key: [id]\n    columns:\n      id: {type: text}\nproviders:\n  x.one:\n    table: not_migrated\n    by: [id]\n    one: true\n")}}
	c, err := store.LoadCatalog(fsys)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pg, err := store.OpenPostgres(ctx, pgtest.New(t), c)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	_, err = pg.Load(ctx, []store.Lookup{{Name: "x", Provider: "x.one", Key: map[string]any{"id": "1"}}})
	if err == nil || errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "not_migrated") {
		t.Fatalf("a missing table is a plain error naming it, got %v", err)
	}
	if err := pg.Ping(ctx); err != nil {
		t.Fatalf("the pool must still work: %v", err)
	}
}

func TestSeedAndReplaceAll(t *testing.T) {
	c := testCatalog(t)
	rows := typedRows(t, c)
	pg := postgresStore(t, c, rows)
	ctx := context.Background()
	count := func(table string) int {
		var n int
		if err := pg.Pool().QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count("t_accounts") != 5 || count("t_orders") != 5 {
		t.Fatalf("seeded %d accounts, %d orders", count("t_accounts"), count("t_orders"))
	}
	// Seed replaces the tables it names and leaves the others alone.
	if err := pg.Seed(ctx, store.Rows{"t_accounts": {{"id": "ONLY"}}}); err != nil {
		t.Fatal(err)
	}
	if count("t_accounts") != 1 || count("t_orders") != 5 {
		t.Fatalf("after Seed: %d accounts, %d orders", count("t_accounts"), count("t_orders"))
	}
	// A failing insert undoes the whole seed: ledger_entries.amount is NOT NULL in the migration.
	err := pg.Seed(ctx, store.Rows{"t_accounts": {{"id": "NEW"}}, "ledger_entries": {{"decision_id": "D", "key": "k", "decision": "x"}}})
	if err == nil {
		t.Fatal("seeding a ledger entry without an amount succeeded")
	}
	if count("t_accounts") != 1 {
		t.Fatal("a failed seed left its rows behind")
	}
	if err := pg.Seed(ctx, store.Rows{"t_accounts": {{"id": "x", "nope": 1}}}); err == nil {
		t.Fatal("Seed accepted an unknown column")
	}
	// Ledger rows without created_at get the migration's now().
	if err := pg.Seed(ctx, store.Rows{"ledger_entries": {{"decision_id": "D", "key": "k", "amount": "2", "decision": "x"}}}); err != nil {
		t.Fatal(err)
	}
	f, err := pg.Load(ctx, usage("k"))
	if err != nil {
		t.Fatal(err)
	}
	if r := f["usage"].([]any)[0].(map[string]any); r["created_at"] == nil || r["amount"] != "2" {
		t.Fatalf("seeded ledger row = %v", r)
	}
	err = pg.Commit(ctx, []string{"k"}, func(ctx context.Context, tx store.Tx) error {
		return tx.SaveCommit(ctx, store.CommitRecord{Decision: "x", IdempotencyKey: "i", RequestHash: "h", DecisionID: "D2"},
			[]store.LedgerEntry{{Key: "k", Amount: decimal.NewFromInt(1)}})
	})
	if err != nil {
		t.Fatal(err)
	}
	// ReplaceAll leaves exactly the given rows: every catalog table, the ledger and the commits are emptied.
	if err := pg.ReplaceAll(ctx, store.Rows{"t_orders": {{"account_id": "Z", "seq": 1}}}); err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]int{"t_accounts": 0, "t_orders": 1, "ledger_entries": 0, "commits": 0} {
		if got := count(table); got != want {
			t.Errorf("after ReplaceAll %s has %d rows, want %d", table, got, want)
		}
	}
}

// TestMigrateMatchesTheCatalog reads back what Migrate created from the catalog: every table and
// column must exist with the declared type, nullability, default and primary key, every provider's
// lookup must be served by an index, every provider's statement must run, and a second Migrate must
// find nothing to change.
func TestMigrateMatchesTheCatalog(t *testing.T) {
	c, err := store.LoadCatalog(os.DirFS("../facts"))
	if err != nil {
		t.Fatal(err)
	}
	url := pgtest.New(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	udt := map[string]string{"text": "text", "int": "int8", "bool": "bool", "decimal": "numeric", "date": "date", "timestamp": "timestamptz", "text[]": "_text", "json": "jsonb"}
	type dbColumn struct {
		udt, nullable string
		def           *string
	}
	for _, table := range c.Tables() {
		rows, err := conn.Query(ctx, `SELECT column_name, udt_name, is_nullable, column_default FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1`, table)
		if err != nil {
			t.Fatal(err)
		}
		db := map[string]dbColumn{}
		for rows.Next() {
			var name string
			var col dbColumn
			if err := rows.Scan(&name, &col.udt, &col.nullable, &col.def); err != nil {
				t.Fatal(err)
			}
			db[name] = col
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(db) == 0 {
			t.Errorf("table %s: declared in the catalog but Migrate did not create it", table)
			continue
		}
		pk, cols := store.TableInfo(c, table)
		declared := map[string]bool{}
		for _, col := range cols {
			declared[col.Name] = true
			got, ok := db[col.Name]
			if !ok {
				t.Errorf("%s.%s: declared %s in the catalog but missing in the migration", table, col.Name, col.Type)
				continue
			}
			if got.udt != udt[col.Type] && !(col.Type == "int" && got.udt == "int4") { // integer columns scan as int64 too
				t.Errorf("%s.%s: the catalog says %s (%s) but the migration creates %s", table, col.Name, col.Type, col.SQLType, got.udt)
				continue
			}
			if wantNullable := map[bool]string{true: "NO", false: "YES"}[col.NotNull]; got.nullable != wantNullable {
				t.Errorf("%s.%s: is_nullable is %s, want %s (not null: %v)", table, col.Name, got.nullable, wantNullable, col.NotNull)
			}
			switch {
			case col.HasDefault && got.def == nil:
				t.Errorf("%s.%s: the catalog default is %v but the migration has none", table, col.Name, col.Default)
			case col.HasDefault:
				v, err := store.CanonicalFromDB(col.Type, func(dest any) error {
					return conn.QueryRow(ctx, fmt.Sprintf("SELECT (%s)::%s", *got.def, col.SQLType)).Scan(dest)
				})
				if err != nil {
					t.Errorf("%s.%s: cannot evaluate the migration default %s: %v", table, col.Name, *got.def, err)
				} else if !reflect.DeepEqual(v, col.Default) {
					t.Errorf("%s.%s: the catalog default is %#v but the migration's is %s (%#v)", table, col.Name, col.Default, *got.def, v)
				}
			case got.def != nil && !volatileDefault(*got.def):
				t.Errorf("%s.%s: the migration default is %s but the catalog declares none (memory facts would be null)", table, col.Name, *got.def)
			}
		}
		for name, col := range db {
			if !declared[name] && col.nullable == "NO" && col.def == nil {
				t.Errorf("%s.%s: NOT NULL without a default and not in the catalog: seeding rows would fail", table, name)
			}
		}
		var dbPK []string
		err = conn.QueryRow(ctx, `SELECT coalesce(array_agg(a.attname ORDER BY array_position(i.indkey::int2[], a.attnum)), '{}')
			FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
			WHERE i.indrelid = $1::regclass AND i.indisprimary`, table).Scan(&dbPK)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(dbPK, pk) {
			t.Errorf("table %s: the catalog primary key is %v but the migration's is %v", table, pk, dbPK)
		}
		var indexes [][]string
		rows, err = conn.Query(ctx, `SELECT array(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, ord)
				JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.ord)
			FROM pg_index i WHERE i.indrelid = $1::regclass`, table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var cols []string
			if err := rows.Scan(&cols); err != nil {
				t.Fatal(err)
			}
			indexes = append(indexes, cols)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		for _, name := range providersOf(c, table) {
			p, _ := c.Provider(name)
			served := !slices.ContainsFunc(pk, func(col string) bool { return !slices.Contains(p.By, col) })
			for _, ix := range indexes {
				if len(ix) >= len(p.By) && !slices.ContainsFunc(ix[:len(p.By)], func(col string) bool { return !slices.Contains(p.By, col) }) {
					served = true
				}
			}
			if !served {
				t.Errorf("provider %s: no index of %s leads with %v (indexes %v)", name, table, p.By, indexes)
			}
		}
	}
	if err := store.Migrate(ctx, url, c); err != nil {
		t.Errorf("Migrate again: %v", err)
	}

	pg, err := store.OpenPostgres(ctx, url, c)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	for _, table := range c.Tables() {
		_, cols := store.TableInfo(c, table)
		types := map[string]string{}
		for _, col := range cols {
			types[col.Name] = col.Type
		}
		for _, name := range providersOf(c, table) {
			p, _ := c.Provider(name)
			key := map[string]any{}
			for _, col := range p.By {
				key[col] = sampleKey(types[col])
			}
			_, err := pg.Load(ctx, []store.Lookup{{Name: "x", Provider: name, Key: key}})
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("provider %s: its statement fails against the migrations: %v\n%s", name, err, store.ProviderSQL(c, name))
			}
		}
	}
}

func volatileDefault(def string) bool {
	d := strings.ToLower(def)
	return strings.Contains(d, "now()") || strings.Contains(d, "current_timestamp") || strings.Contains(d, "nextval(") || strings.Contains(d, "gen_random_uuid()")
}

func providersOf(c *store.Catalog, table string) []string {
	var out []string
	for _, name := range store.ProviderNames(c) {
		if p, _ := c.Provider(name); p.Table == table {
			out = append(out, name)
		}
	}
	return out
}

func sampleKey(typ string) any {
	switch typ {
	case "int":
		return int64(0)
	case "bool":
		return false
	case "decimal":
		return "0"
	case "date":
		return "2025-01-01"
	case "timestamp":
		return "2025-01-01T00:00:00Z"
	}
	return "x"
}

func BenchmarkMemoryLoad(b *testing.B) {
	c := testCatalog(b)
	rows := typedRows(b, c)
	for i := range 200 {
		rows["ledger_entries"] = append(rows["ledger_entries"], map[string]any{"decision_id": fmt.Sprintf("D%d", i), "key": fmt.Sprintf("limit:%d", i%20), "amount": "1", "decision": "x", "created_at": "2025-01-01T00:00:00Z"})
	}
	m := memoryStore(b, c, rows)
	benchLoad(b, m)
}

func BenchmarkPostgresLoad(b *testing.B) {
	c := testCatalog(b)
	rows := typedRows(b, c)
	for i := range 200 {
		rows["ledger_entries"] = append(rows["ledger_entries"], map[string]any{"decision_id": fmt.Sprintf("D%d", i), "key": fmt.Sprintf("limit:%d", i%20), "amount": "1", "decision": "x", "created_at": "2025-01-01T00:00:00Z"})
	}
	pg := postgresStore(b, c, rows)
	benchLoad(b, pg)
}

// benchLoad: three lookups, as a typical decision makes (one row, a list, the ledger).
func benchLoad(b *testing.B, s store.Store) {
	lookups := []store.Lookup{
		{Name: "account", Provider: "t.account", Key: map[string]any{"id": "A1"}},
		{Name: "orders", Provider: "t.orders", Key: map[string]any{"account_id": "A1"}},
		{Name: "usage", Provider: "ledger.usage", Key: map[string]any{"key": "limit:7"}},
	}
	ctx := context.Background()
	f, err := s.Load(ctx, lookups)
	if err != nil {
		b.Fatal(err)
	}
	if len(f["orders"].([]any)) != 5 || len(f["usage"].([]any)) != 10 {
		b.Fatalf("unexpected facts %v", f)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Load(ctx, lookups); err != nil {
			b.Fatal(err)
		}
	}
}

type holdKey struct{}

// holdingTracer stops the first batch sent under a context carrying holdKey (a commit's locks)
// until release is closed, after telling held.
type holdingTracer struct {
	once          sync.Once
	held, release chan struct{}
}

func (h *holdingTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	if ctx.Value(holdKey{}) != nil {
		h.once.Do(func() { close(h.held); <-h.release })
	}
	return ctx
}
func (h *holdingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}
func (h *holdingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData)     {}
func (h *holdingTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (h *holdingTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// TestCommitTimesFollowCommitOrder: a commit that began its transaction first but took the lock
// second gets the later created_at, so ledger.usage lists entries in the order they were committed.
func TestCommitTimesFollowCommitOrder(t *testing.T) {
	c := testCatalog(t)
	ctx := context.Background()
	h := &holdingTracer{held: make(chan struct{}), release: make(chan struct{})}
	pg, err := store.OpenPostgresWith(ctx, typedDatabase(t), c, func(cfg *pgxpool.Config) { cfg.ConnConfig.Tracer = h })
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	save := func(ctx context.Context, id string) error {
		return pg.Commit(ctx, []string{"limit:K"}, func(ctx context.Context, tx store.Tx) error {
			return tx.SaveCommit(ctx, store.CommitRecord{Decision: "test.order", IdempotencyKey: id, RequestHash: "h", DecisionID: id},
				[]store.LedgerEntry{{Key: "limit:K", Amount: decimal.NewFromInt(1)}})
		})
	}
	late := make(chan error, 1)
	go func() { late <- save(context.WithValue(ctx, holdKey{}, true), "began-first") }()
	<-h.held // its transaction has begun; its locks are not taken yet
	time.Sleep(20 * time.Millisecond)
	if err := save(ctx, "committed-first"); err != nil {
		t.Fatal(err)
	}
	close(h.release)
	if err := <-late; err != nil {
		t.Fatal(err)
	}
	f, err := pg.Load(ctx, usage("limit:K"))
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(f["usage"], "decision_id"); !slices.Equal(got, []string{"committed-first", "began-first"}) {
		t.Fatalf("ledger.usage order = %v, want the commit order", got)
	}
	err = pg.Commit(ctx, nil, func(ctx context.Context, tx store.Tx) error {
		a, err := tx.FindCommit(ctx, "test.order", "committed-first")
		if err != nil {
			return err
		}
		b, err := tx.FindCommit(ctx, "test.order", "began-first")
		if err != nil {
			return err
		}
		if !b.CreatedAt.After(a.CreatedAt) {
			t.Errorf("commit times %v then %v do not follow the commit order", a.CreatedAt, b.CreatedAt)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestIntegerColumnKeys: a migration may create an int column as integer; a key beyond its range
// matches nothing in both stores instead of failing in PostgreSQL.
func TestIntegerColumnKeys(t *testing.T) {
	c, err := store.LoadCatalog(fstest.MapFS{"x.yaml": {Data: []byte("tables:\n  t_small:\n    primary_key: [id]\n    columns:\n      id: {type: int}\n      n: {type: int}\nproviders:\n  t.small:\n    table: t_small\n    by: [n]\n")}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	url := pgtest.New(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE t_small (id integer PRIMARY KEY, n integer)"); err != nil {
		t.Fatal(err)
	}
	pg, err := store.OpenPostgres(ctx, url, c)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	rows := store.Rows{"t_small": {{"id": 1, "n": 5}, {"id": 2, "n": -5}}}
	if err := pg.Seed(ctx, rows); err != nil {
		t.Fatal(err)
	}
	stores := map[string]store.Store{"memory": memoryStore(t, c, rows), "postgres": pg}
	tests := []struct {
		name string
		key  any
		want []string
	}{
		{"in range", 5, []string{"1"}},
		{"negative, as text", "-5", []string{"2"}},
		{"beyond integer", int64(1) << 40, nil},
		{"beyond bigint, as text", "99999999999999999999", nil},
	}
	for _, tc := range tests {
		for name, s := range stores {
			f, err := s.Load(ctx, []store.Lookup{{Name: "x", Provider: "t.small", Key: map[string]any{"n": tc.key}}})
			if err != nil {
				t.Errorf("%s: %s: %v", tc.name, name, err)
				continue
			}
			if got := ids(f["x"], "id"); !slices.Equal(got, tc.want) {
				t.Errorf("%s: %s: ids %v, want %v", tc.name, name, got, tc.want)
			}
		}
	}
}
