package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"arbiter/internal/testing/pgtest"
	"arbiter/store"
)

// typedRows are testdata/rows.yaml, parsed.
func typedRows(t testing.TB, c *store.Catalog) store.Rows {
	t.Helper()
	raw, err := os.ReadFile("testdata/rows.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := store.ParseRows(c, "rows.yaml", raw)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func memoryStore(t testing.TB, c *store.Catalog, rows store.Rows) *store.Memory {
	t.Helper()
	m, err := store.NewMemory(c, rows)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// typedDatabase is a fresh migrated database with the tables of testdata/typed.sql.
func typedDatabase(t testing.TB) string {
	t.Helper()
	url := pgtest.New(t)
	ddl, err := os.ReadFile("testdata/typed.sql")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, string(ddl)); err != nil {
		t.Fatal(err)
	}
	return url
}

func postgresStore(t testing.TB, c *store.Catalog, rows store.Rows) *store.Postgres {
	t.Helper()
	ctx := context.Background()
	pg, err := store.OpenPostgres(ctx, typedDatabase(t), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Close)
	if err := pg.Seed(ctx, rows); err != nil {
		t.Fatal(err)
	}
	return pg
}

// bothStores returns the memory and PostgreSQL stores over the same rows.
func bothStores(t *testing.T, rows store.Rows) (*store.Catalog, map[string]store.Store) {
	t.Helper()
	c := testCatalog(t)
	if rows == nil {
		rows = typedRows(t, c)
	}
	return c, map[string]store.Store{"memory": memoryStore(t, c, rows), "postgres": postgresStore(t, c, rows)}
}

// typedLookups cover every provider shape of testdata/typed.yaml.
var typedLookups = []store.Lookup{
	{Name: "a1", Provider: "t.account", Key: map[string]any{"id": "A1"}, Field: "input.account_id"},
	{Name: "a3", Provider: "t.account", Key: map[string]any{"id": "A3"}},
	{Name: "accent", Provider: "t.account", Key: map[string]any{"id": "é"}},
	{Name: "gold", Provider: "t.accounts_by_tier", Key: map[string]any{"tier": "gold", "active": true}},
	{Name: "day", Provider: "t.accounts_by_day", Key: map[string]any{"opened_on": "2025-03-01"}},
	{Name: "sevens", Provider: "t.accounts_by_score", Key: map[string]any{"score": int64(7)}},
	{Name: "sevens_from_text", Provider: "t.accounts_by_score", Key: map[string]any{"score": "7"}},
	{Name: "orders", Provider: "t.orders", Key: map[string]any{"account_id": "A1"}},
	{Name: "orders_by_note", Provider: "t.orders_by_note", Key: map[string]any{"account_id": "A1"}},
	{Name: "order", Provider: "t.order", Key: map[string]any{"account_id": "A1", "seq": json.Number("3")}},
	{Name: "none", Provider: "t.orders", Key: map[string]any{"account_id": "nobody"}},
	{Name: "wrong_type", Provider: "t.accounts_by_score", Key: map[string]any{"score": "seven"}},
	{Name: "null_key", Provider: "t.orders", Key: map[string]any{"account_id": nil}},
}

func ids(v any, col string) []string {
	var out []string
	for _, r := range v.([]any) {
		out = append(out, fmt.Sprint(r.(map[string]any)[col]))
	}
	return out
}

// TestStoresAgree is the contract between the stores: the same rows give deep-equal canonical facts.
func TestStoresAgree(t *testing.T) {
	_, stores := bothStores(t, nil)
	ctx := context.Background()
	got := map[string]store.Facts{}
	for name, s := range stores {
		f, err := s.Load(ctx, typedLookups)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got[name] = f
	}
	mem, pg := got["memory"], got["postgres"]
	for _, l := range typedLookups {
		if !reflect.DeepEqual(mem[l.Name], pg[l.Name]) {
			t.Errorf("%s differs:\nmemory   %#v\npostgres %#v", l.Name, mem[l.Name], pg[l.Name])
		}
	}
	for name, f := range got {
		checks := []struct {
			what      string
			got, want any
		}{
			{"a1 balance", f["a1"].(map[string]any)["balance"], "500"},
			{"a1 seen_at", f["a1"].(map[string]any)["seen_at"], "2025-06-07T04:00:00Z"},
			{"a1 extra", f["a1"].(map[string]any)["extra"], map[string]any{"n": int64(1), "f": "1.5", "e": int64(1000), "s": "x", "l": []any{int64(1), "2.50", nil}, "b": true, "z": nil}},
			{"a3 tags", f["a3"].(map[string]any)["tags"], []any{}},
			{"a3 opened_on", f["a3"].(map[string]any)["opened_on"], nil},
			{"accent extra", f["accent"].(map[string]any)["extra"], "plain"},
			{"gold by seen_at", ids(f["gold"], "id"), []string{"A4", "A1", "A2"}},
			{"day by balance", ids(f["day"], "id"), []string{"A2", "é", "A1"}},
			{"sevens", ids(f["sevens"], "id"), []string{"A1", "A2"}},
			{"int key given as text", ids(f["sevens_from_text"], "id"), []string{"A1", "A2"}},
			{"orders by amount, NULL last", ids(f["orders"], "seq"), []string{"5", "2", "1", "3", "4"}},
			{"orders by note, byte order", ids(f["orders_by_note"], "seq"), []string{"2", "5", "3", "1", "4"}},
			{"order amount", f["order"].(map[string]any)["amount"], "10"},
			{"no rows", f["none"], []any{}},
			{"key of the wrong type", f["wrong_type"], []any{}},
			{"NULL key", f["null_key"], []any{}},
		}
		for _, c := range checks {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("%s: %s = %#v, want %#v", name, c.what, c.got, c.want)
			}
		}
	}
}

func TestNotFoundError(t *testing.T) {
	_, stores := bothStores(t, nil)
	for name, s := range stores {
		t.Run(name, func(t *testing.T) {
			_, err := s.Load(context.Background(), []store.Lookup{
				{Name: "a1", Provider: "t.account", Key: map[string]any{"id": "A1"}},
				{Name: "ghost", Provider: "t.account", Key: map[string]any{"id": "ZZ"}, Field: "input.account_id"},
			})
			var nf *store.NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("want *NotFoundError, got %v", err)
			}
			if !errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("errors.Is mismatch for %v", err)
			}
			if nf.Provider != "t.account" || nf.Field != "input.account_id" || nf.Key["id"] != "ZZ" || nf.Code() != "fact_not_found" {
				t.Fatalf("NotFoundError = %+v", nf)
			}
		})
	}
}

func TestLoadRejectsBadLookups(t *testing.T) {
	_, stores := bothStores(t, nil)
	tests := []struct {
		name   string
		lookup store.Lookup
		want   string
	}{
		{"unknown provider", store.Lookup{Name: "x", Provider: "t.nope", Key: map[string]any{"id": "A"}}, `unknown provider "t.nope"`},
		{"missing key column", store.Lookup{Name: "x", Provider: "t.order", Key: map[string]any{"account_id": "A1"}}, "looked up by [account_id seq]"},
		{"other key column", store.Lookup{Name: "x", Provider: "t.account", Key: map[string]any{"name": "A1"}}, "looked up by [id]"},
	}
	for name, s := range stores {
		for _, tc := range tests {
			_, err := s.Load(context.Background(), []store.Lookup{tc.lookup})
			if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: %s: got %v, want an error containing %q", name, tc.name, err, tc.want)
			}
		}
	}
}

func TestNewMemoryAcceptsRowsBuiltInCode(t *testing.T) {
	c := testCatalog(t)
	m := memoryStore(t, c, store.Rows{"t_accounts": {
		{"id": "G1", "balance": "0.10", "score": 3, "seen_at": time.Date(2025, 6, 7, 12, 0, 0, 0, time.FixedZone("CST", 8*3600)), "tags": []string{"x"}},
		{"id": "G2", "balance": decimal.RequireFromString("2.50"), "extra": map[string]any{"k": 2.5}},
	}})
	f, err := m.Load(context.Background(), []store.Lookup{
		{Name: "g1", Provider: "t.account", Key: map[string]any{"id": "G1"}},
		{Name: "g2", Provider: "t.account", Key: map[string]any{"id": "G2"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	g1, g2 := f["g1"].(map[string]any), f["g2"].(map[string]any)
	if g1["balance"] != "0.1" || g1["score"] != int64(3) || g1["seen_at"] != "2025-06-07T04:00:00Z" || !reflect.DeepEqual(g1["tags"], []any{"x"}) || g1["tier"] != "basic" {
		t.Fatalf("g1 = %#v", g1)
	}
	if g2["balance"] != "2.5" || !reflect.DeepEqual(g2["extra"], map[string]any{"k": "2.5"}) {
		t.Fatalf("g2 = %#v", g2)
	}
	for _, bad := range []store.Rows{
		{"nope": {{"id": "x"}}},
		{"t_accounts": {{"id": "x", "nope": 1}}},
		{"t_accounts": {{"id": "x", "balance": 0.1}}},
		{"t_accounts": {{"id": "x"}, {"id": "x"}}},
		{"t_accounts": {{"tier": "gold"}}},
		{"t_accounts": {{"id": "x\x00"}}},                                          // PostgreSQL text cannot hold NUL
		{"t_accounts": {{"id": "x", "tier": "\xff"}}},                              // nor invalid UTF-8
		{"t_accounts": {{"id": "x", "tags": []string{"a\x00"}}}},                   // in a text[] either
		{"t_accounts": {{"id": "x", "extra": json.RawMessage(`{"k": "\u0000"}`)}}}, // nor in json
		{"t_accounts": {{"id": "x", "balance": decimal.New(1, 131072)}}},           // beyond numeric
		{"t_accounts": {{"id": "x", "extra": map[string]any{"n": decimal.New(1, 131072)}}}},
		{"t_accounts": {{"id": "x", "seen_at": time.Date(0, 12, 31, 23, 0, 0, 0, time.UTC)}}}, // no year 0
		{"t_accounts": {{"id": "x", "opened_on": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}},
	} {
		if _, err := store.NewMemory(c, bad); err == nil {
			t.Errorf("NewMemory(%v) accepted bad rows", bad)
		}
	}
}

func usage(key string) []store.Lookup {
	return []store.Lookup{{Name: "usage", Provider: "ledger.usage", Key: map[string]any{"key": key}}}
}

func sumUsage(t testing.TB, f store.Facts) decimal.Decimal {
	sum := decimal.Zero
	for _, r := range f["usage"].([]any) {
		sum = sum.Add(decimal.RequireFromString(r.(map[string]any)["amount"].(string)))
	}
	return sum
}

// TestCommitAtMostOnce: 50 concurrent commits against one limit of 1 leave exactly one entry.
func TestCommitAtMostOnce(t *testing.T) {
	_, stores := bothStores(t, store.Rows{})
	for name, s := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			var wg sync.WaitGroup
			var written atomic.Int64
			errs := make(chan error, 50)
			for i := range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := s.Commit(ctx, []string{"limit:K1"}, func(ctx context.Context, tx store.Tx) error {
						f, err := tx.Load(ctx, usage("limit:K1"))
						if err != nil {
							return err
						}
						if sumUsage(t, f).GreaterThanOrEqual(decimal.NewFromInt(1)) {
							return nil // the limit is used up: a denial writes nothing
						}
						time.Sleep(2 * time.Millisecond) // evaluation time: without the lock, others read the same sum
						written.Add(1)
						return tx.SaveCommit(ctx, store.CommitRecord{Decision: "test.limit", IdempotencyKey: fmt.Sprintf("k%d", i),
							RequestHash: "h", DecisionID: fmt.Sprintf("d%d", i), Answer: json.RawMessage(`{"ok":true}`)},
							[]store.LedgerEntry{{Key: "limit:K1", Amount: decimal.NewFromInt(1)}})
					})
					if err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("commit failed: %v", err)
			}
			f, err := s.Load(ctx, usage("limit:K1"))
			if err != nil {
				t.Fatal(err)
			}
			rows := f["usage"].([]any)
			if len(rows) != 1 || written.Load() != 1 {
				t.Fatalf("want exactly one ledger entry, got %d (written %d): %v", len(rows), written.Load(), rows)
			}
			r := rows[0].(map[string]any)
			if r["key"] != "limit:K1" || r["amount"] != "1" || r["decision"] != "test.limit" || r["created_at"] == nil {
				t.Fatalf("entry = %v", r)
			}
			// Exactly one commit record too: the one whose decision id the entry carries.
			var found []string
			err = s.Commit(ctx, nil, func(ctx context.Context, tx store.Tx) error {
				for i := range 50 {
					rec, err := tx.FindCommit(ctx, "test.limit", fmt.Sprintf("k%d", i))
					if err != nil {
						return err
					}
					if rec != nil {
						found = append(found, rec.DecisionID)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(found) != 1 || found[0] != r["decision_id"] {
				t.Fatalf("commit records %v, want exactly the one of entry %v", found, r["decision_id"])
			}
		})
	}
}

func TestCommitIsAllOrNothing(t *testing.T) {
	_, stores := bothStores(t, store.Rows{})
	for name, s := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			boom := errors.New("policy failed")
			err := s.Commit(ctx, []string{"b", "a"}, func(ctx context.Context, tx store.Tx) error {
				if err := tx.SaveCommit(ctx, store.CommitRecord{Decision: "test.fail", IdempotencyKey: "K", RequestHash: "h", DecisionID: "D1", Answer: json.RawMessage(`{}`)},
					[]store.LedgerEntry{{Key: "a", Amount: decimal.NewFromInt(5)}, {Key: "b", Amount: decimal.NewFromInt(-2)}}); err != nil {
					return err
				}
				f, err := tx.Load(ctx, usage("a"))
				if err != nil {
					return err
				}
				if got := sumUsage(t, f); !got.Equal(decimal.NewFromInt(5)) {
					t.Errorf("inside the commit, its own entry should be visible: sum %s", got)
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("Commit returned %v, want the function's error", err)
			}
			f, err := s.Load(ctx, append(usage("a"), store.Lookup{Name: "b", Provider: "ledger.usage", Key: map[string]any{"key": "b"}}))
			if err != nil {
				t.Fatal(err)
			}
			if n := len(f["usage"].([]any)) + len(f["b"].([]any)); n != 0 {
				t.Fatalf("a failed commit left %d ledger entries", n)
			}
			err = s.Commit(ctx, nil, func(ctx context.Context, tx store.Tx) error {
				rec, err := tx.FindCommit(ctx, "test.fail", "K")
				if rec != nil || err != nil {
					t.Errorf("a failed commit left its record: %v, %v", rec, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCommitRecordsAreFound(t *testing.T) {
	_, stores := bothStores(t, store.Rows{})
	for name, s := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			before := time.Now().Add(-time.Minute)
			rec := store.CommitRecord{Decision: "test.redeem", IdempotencyKey: "PAY1", RequestHash: "abc", DecisionID: "D9", Answer: json.RawMessage(`{"outcome": "allow", "n": 1}`)}
			err := s.Commit(ctx, []string{"coupon:K1"}, func(ctx context.Context, tx store.Tx) error {
				return tx.SaveCommit(ctx, rec, []store.LedgerEntry{{Key: "coupon:K1", Amount: decimal.RequireFromString("1.50")}})
			})
			if err != nil {
				t.Fatal(err)
			}
			var found *store.CommitRecord
			err = s.Commit(ctx, []string{"coupon:K1"}, func(ctx context.Context, tx store.Tx) error {
				var err error
				if found, err = tx.FindCommit(ctx, "test.redeem", "PAY1"); err != nil {
					return err
				}
				if other, err := tx.FindCommit(ctx, "test.other", "PAY1"); other != nil || err != nil {
					t.Errorf("FindCommit of another decision = %v, %v", other, err)
				}
				// The same idempotency key cannot be committed twice.
				if err := tx.SaveCommit(ctx, rec, nil); err == nil {
					t.Error("a second SaveCommit with the same key succeeded")
				}
				return errors.New("roll back")
			})
			if err == nil || found == nil {
				t.Fatalf("FindCommit = %v, %v", found, err)
			}
			var a, b any
			_ = json.Unmarshal(found.Answer, &a)
			_ = json.Unmarshal(rec.Answer, &b)
			if found.RequestHash != "abc" || found.DecisionID != "D9" || !reflect.DeepEqual(a, b) || found.CreatedAt.Before(before) {
				t.Fatalf("found = %+v", found)
			}
			f, err := s.Load(ctx, usage("coupon:K1"))
			if err != nil {
				t.Fatal(err)
			}
			r := f["usage"].([]any)[0].(map[string]any)
			if r["amount"] != "1.5" || r["decision_id"] != "D9" || r["idempotency_key"] != "PAY1" {
				t.Fatalf("ledger row = %v", r)
			}
		})
	}
}

// TestLocksNeverDeadlock: commits naming the same keys in opposite orders all finish.
func TestLocksNeverDeadlock(t *testing.T) {
	_, stores := bothStores(t, store.Rows{})
	for name, s := range stores {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			for i := range 20 {
				locks := []string{"x", "y", "z"}
				if i%2 == 1 {
					locks = []string{"z", "y", "x"}
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := s.Commit(ctx, locks, func(ctx context.Context, tx store.Tx) error {
						time.Sleep(time.Millisecond)
						return nil
					})
					if err != nil {
						t.Errorf("commit %d: %v", i, err)
					}
				}()
			}
			wg.Wait()
		})
	}
}

// TestStoresAgreeAtTheEdges: lookups and rows at the edges give the same answer from both stores.
func TestStoresAgreeAtTheEdges(t *testing.T) {
	c := testCatalog(t)
	rows := typedRows(t, c)
	rows["t_flags"] = []map[string]any{{"id": "F1", "label": nil}} // NULL in every row: no column to leave out
	stores := map[string]store.Store{"memory": memoryStore(t, c, rows), "postgres": postgresStore(t, c, rows)}
	one := func(name, provider string, key map[string]any) store.Lookup {
		return store.Lookup{Name: name, Provider: provider, Key: key}
	}
	tests := []struct {
		name    string
		lookups []store.Lookup
		want    store.Facts // nil: want a *NotFoundError
	}{
		{"an explicit null stays null where the catalog has a default",
			[]store.Lookup{one("f1", "t.flag", map[string]any{"id": "F1"})}, store.Facts{"f1": map[string]any{"id": "F1", "label": nil}}},
		{"a name used twice answers the last lookup",
			[]store.Lookup{one("x", "t.order", map[string]any{"account_id": "A1", "seq": 1}), one("x", "t.order", map[string]any{"account_id": "A1", "seq": 2})},
			store.Facts{"x": map[string]any{"account_id": "A1", "seq": int64(2), "amount": "9.5", "placed_at": nil, "note": "B"}}},
		{"a key holding NUL matches nothing", []store.Lookup{one("x", "t.account", map[string]any{"id": "A1\x00"})}, nil},
		{"a key of invalid UTF-8 matches nothing", []store.Lookup{one("x", "t.orders", map[string]any{"account_id": "A1\xff"})}, store.Facts{"x": []any{}}},
		{"a composite key holding NUL matches nothing", []store.Lookup{one("x", "t.order", map[string]any{"account_id": "A1\x003", "seq": 3})}, nil},
		{"a date key of year 0 matches nothing", []store.Lookup{one("x", "t.accounts_by_day", map[string]any{"opened_on": "0000-01-01"})}, store.Facts{"x": []any{}}},
		{"no lookups", nil, store.Facts{}},
	}
	for _, tc := range tests {
		for name, s := range stores {
			got, err := s.Load(context.Background(), tc.lookups)
			if tc.want == nil {
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s: %s: want fact_not_found, got %v, %v", tc.name, name, got, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %s: %v", tc.name, name, err)
			} else if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s: %s:\n got %#v\nwant %#v", tc.name, name, got, tc.want)
			}
		}
	}
}
