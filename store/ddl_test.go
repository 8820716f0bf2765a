package store_test

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"arbiter/internal/testing/pgtest"
	"arbiter/store"
)

func catalogOf(t *testing.T, src string) *store.Catalog {
	t.Helper()
	c, err := store.LoadCatalog(fstest.MapFS{"d.yaml": &fstest.MapFile{Data: []byte(src)}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDDL(t *testing.T) {
	c := catalogOf(t, `
tables:
  d_things:
    primary_key: [id]
    columns:
      id: {type: text}
      label: {type: text, default: "it's"}
      owner: {type: text, required: true}
      n: {type: int, default: -3}
      price: {type: decimal, default: "-12.50"}
      ok: {type: bool, default: true}
      day: {type: date, default: "2025-01-31"}
      at: {type: timestamp, default: "2025-01-31T08:00:00+08:00"}
      tags: {type: "text[]", default: [a, "b'c"]}
      none: {type: "text[]", default: []}
      doc: {type: json, default: {k: [1, "x"]}}
      note: {type: text}
  d_pairs:
    primary_key: [a, b]
    columns:
      a: {type: text}
      b: {type: int}
      c: {type: text}
providers:
  d.thing: {table: d_things, by: [id], one: true}
  d.thing_by_id_owner: {table: d_things, by: [owner, id], one: true}
  d.things_of: {table: d_things, by: [owner], order_by: [day]}
  d.things_on: {table: d_things, by: [day, ok]}
  d.pairs: {table: d_pairs, by: [a]}
  d.pairs_by_c: {table: d_pairs, by: [c]}
  d.pairs_by_b: {table: d_pairs, by: [b, a]}
`)
	want := []string{
		`CREATE TABLE IF NOT EXISTS "d_pairs" (
    "a" text NOT NULL,
    "b" bigint NOT NULL,
    "c" text,
    PRIMARY KEY ("a", "b")
)`,
		`CREATE TABLE IF NOT EXISTS "d_things" (
    "id" text NOT NULL,
    "label" text NOT NULL DEFAULT 'it''s'::text,
    "owner" text NOT NULL,
    "n" bigint NOT NULL DEFAULT -3,
    "price" numeric NOT NULL DEFAULT -12.5,
    "ok" boolean NOT NULL DEFAULT true,
    "day" date NOT NULL DEFAULT '2025-01-31'::date,
    "at" timestamptz NOT NULL DEFAULT '2025-01-31T00:00:00Z'::timestamptz,
    "tags" text[] NOT NULL DEFAULT ARRAY['a', 'b''c']::text[],
    "none" text[] NOT NULL DEFAULT '{}'::text[],
    "doc" jsonb NOT NULL DEFAULT '{"k":[1,"x"]}'::jsonb,
    "note" text,
    PRIMARY KEY ("id")
)`,
		// Widest first (then by name): the owner index serves d.thing_by_id_owner too. d.thing and
		// d.pairs_by_b give the whole primary key; d.pairs leads it.
		`CREATE INDEX IF NOT EXISTS "d_pairs_c_idx" ON "d_pairs" ("c", "a", "b")`,
		`CREATE INDEX IF NOT EXISTS "d_things_owner_idx" ON "d_things" ("owner", "day", "id")`,
		`CREATE INDEX IF NOT EXISTS "d_things_day_ok_idx" ON "d_things" ("day", "ok", "id")`,
	}
	got := c.DDL()
	if !slices.Equal(got, want) {
		t.Fatalf("DDL:\n%s\nwant:\n%s", strings.Join(got, ";\n"), strings.Join(want, ";\n"))
	}
}

func TestDDLIndexNamesFitPostgres(t *testing.T) {
	long := strings.Repeat("x", 40)
	c := catalogOf(t, `
tables:
  d_`+long+`:
    primary_key: [id]
    columns:
      id: {type: text}
      first_`+long+`: {type: text}
      second_`+long+`: {type: text}
providers:
  d.a: {table: d_`+long+`, by: [first_`+long+`]}
  d.b: {table: d_`+long+`, by: [second_`+long+`]}
`)
	var names []string
	for _, stmt := range c.DDL() {
		if rest, ok := strings.CutPrefix(stmt, `CREATE INDEX IF NOT EXISTS "`); ok {
			name, _, _ := strings.Cut(rest, `"`)
			if len(name) > 63 {
				t.Errorf("index name %s is %d bytes, PostgreSQL keeps 63", name, len(name))
			}
			names = append(names, name)
		}
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("want two distinct index names, got %v", names)
	}
}

// TestDDLRunsOnPostgres creates a catalog of every type and default from nothing, twice.
func TestDDLRunsOnPostgres(t *testing.T) {
	c := catalogOf(t, `
tables:
  d_all:
    primary_key: [id]
    columns:
      id: {type: text}
      label: {type: text, default: "it's"}
      n: {type: int, default: -3}
      price: {type: decimal, default: "-12.50"}
      ok: {type: bool, default: true}
      day: {type: date, default: "2025-01-31"}
      at: {type: timestamp, default: "2025-01-31T08:00:00+08:00"}
      tags: {type: "text[]", default: [a, "b'c"]}
      doc: {type: json, default: {k: [1, "x", 1.5]}}
providers:
  d.by_day: {table: d_all, by: [day]}
`)
	url := pgtest.New(t)
	ctx := context.Background()
	for round := range 2 {
		if err := store.Migrate(ctx, url, c); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	pg, err := store.OpenPostgres(ctx, url, c)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// A row inserted by hand gets the database defaults, which must read back as the catalog's.
	if _, err := conn.Exec(ctx, `INSERT INTO d_all (id) VALUES ('x')`); err != nil {
		t.Fatal(err)
	}
	f, err := pg.Load(ctx, []store.Lookup{{Name: "r", Provider: "d.by_day", Key: map[string]any{"day": "2025-01-31"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": "x", "label": "it's", "n": int64(-3), "price": "-12.5", "ok": true, "day": "2025-01-31",
		"at": "2025-01-31T00:00:00Z", "tags": []any{"a", "b'c"}, "doc": map[string]any{"k": []any{int64(1), "x", "1.5"}}}
	rows, _ := f["r"].([]any)
	if len(rows) != 1 {
		t.Fatalf("got %v", f)
	}
	for k, v := range want {
		if got := rows[0].(map[string]any)[k]; !equalValue(got, v) {
			t.Errorf("%s = %#v, want %#v", k, got, v)
		}
	}
}

func equalValue(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		return ok && slices.EqualFunc(x, y, equalValue)
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if !equalValue(v, y[k]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// driftCatalog is what the tables of TestMigrateDrift are compared with.
const driftCatalog = `
tables:
  d_accounts:
    primary_key: [id]
    columns:
      id: {type: text}
      tier: {type: text, default: basic}
      score: {type: int, default: 0}
      note: {type: text}
      owner: {type: text, required: true}
providers:
  d.account: {table: d_accounts, by: [id], one: true}
  d.by_owner: {table: d_accounts, by: [owner]}
`

func TestMigrateDrift(t *testing.T) {
	tests := []struct {
		name     string
		existing string   // the table as the database has it
		insert   string   // a row in it; empty: id A1, owner o
		want     []string // each drift error, as table/column: detail fragment; none: Migrate succeeds
	}{
		{
			name:     "missing nullable and defaulted columns are added",
			existing: `CREATE TABLE d_accounts (id text PRIMARY KEY, owner text NOT NULL)`,
		},
		{
			name:     "an int column may be narrower, and extra nullable columns stay",
			existing: `CREATE TABLE d_accounts (id text PRIMARY KEY, tier text NOT NULL DEFAULT 'basic', score integer NOT NULL DEFAULT 0, note text, owner text NOT NULL, legacy text, stamp timestamptz NOT NULL DEFAULT now())`,
		},
		{
			name:     "a required column cannot be added",
			existing: `CREATE TABLE d_accounts (id text PRIMARY KEY)`,
			insert:   `INSERT INTO d_accounts (id) VALUES ('A1')`,
			want:     []string{"d_accounts/owner: missing"},
		},
		{
			name:     "a column of another type",
			existing: `CREATE TABLE d_accounts (id text PRIMARY KEY, tier text NOT NULL DEFAULT 'basic', score numeric NOT NULL DEFAULT 0, owner text NOT NULL)`,
			want:     []string{"d_accounts/score: the catalog says int (bigint) but the database has numeric"},
		},
		{
			name:     "nullability both ways",
			existing: `CREATE TABLE d_accounts (id text PRIMARY KEY, tier text DEFAULT 'basic', note text NOT NULL, owner text NOT NULL)`,
			insert:   `INSERT INTO d_accounts (id, note, owner) VALUES ('A1', 'n', 'o')`,
			want: []string{"d_accounts/tier: the catalog never gives NULL",
				"d_accounts/note: the database column is NOT NULL but the catalog allows NULL"},
		},
		{
			name:     "defaults missing or different",
			existing: `CREATE TABLE d_accounts (id text PRIMARY KEY, tier text NOT NULL, score bigint NOT NULL DEFAULT 7, owner text NOT NULL)`,
			insert:   `INSERT INTO d_accounts (id, tier, owner) VALUES ('A1', 'basic', 'o')`,
			want: []string{"d_accounts/tier: the catalog default is 'basic'::text but the database column has none",
				"d_accounts/score: the catalog default is 0 but the database's is 7"},
		},
		{
			name:     "another primary key and an extra NOT NULL column",
			existing: `CREATE TABLE d_accounts (id text, owner text NOT NULL, region text NOT NULL, PRIMARY KEY (id, owner))`,
			insert:   `INSERT INTO d_accounts (id, owner, region) VALUES ('A1', 'o', 'r')`,
			want: []string{"d_accounts/region: not in the catalog, and NOT NULL without a default",
				"d_accounts/: the catalog primary key is (id) but the database's is (id, owner)"},
		},
	}
	c := catalogOf(t, driftCatalog)
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := pgtest.New(t)
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, tt.existing); err != nil {
				t.Fatal(err)
			}
			insert := tt.insert
			if insert == "" {
				insert = `INSERT INTO d_accounts (id, owner) VALUES ('A1', 'o')`
			}
			if _, err := conn.Exec(ctx, insert); err != nil {
				t.Fatal(err)
			}
			err = store.Migrate(ctx, url, c)
			var got []string
			for _, e := range flatten(err) {
				var d *store.DriftError
				if !errors.As(e, &d) {
					t.Fatalf("Migrate: %v is not a *DriftError", e)
				}
				if !strings.Contains(d.Error(), "table d_accounts") {
					t.Errorf("%q does not name the table", d.Error())
				}
				got = append(got, d.Table+"/"+d.Column+": "+d.Detail)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Migrate: got %d differences %q, want %q", len(got), got, tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("difference %d: got %q, want it to start with %q", i, got[i], w)
				}
			}
			var cols []string
			if err := conn.QueryRow(ctx, `SELECT array_agg(column_name::text ORDER BY column_name) FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = 'd_accounts'`).Scan(&cols); err != nil {
				t.Fatal(err)
			}
			if len(tt.want) > 0 {
				if slices.Contains(cols, "note") != strings.Contains(tt.existing, "note") {
					t.Errorf("a failed Migrate kept an added column: %v", cols)
				}
				return
			}
			// The missing columns now exist and the existing row has the catalog defaults.
			pg, err := store.OpenPostgres(ctx, url, c)
			if err != nil {
				t.Fatal(err)
			}
			defer pg.Close()
			f, err := pg.Load(ctx, []store.Lookup{{Name: "a", Provider: "d.account", Key: map[string]any{"id": "A1"}}})
			if err != nil {
				t.Fatalf("Load after Migrate (columns %v): %v", cols, err)
			}
			want := map[string]any{"id": "A1", "tier": "basic", "score": int64(0), "note": nil, "owner": "o"}
			if got := f["a"].(map[string]any); !equalValue(got, want) {
				t.Errorf("row = %v, want %v", got, want)
			}
			var indexed bool
			if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE tablename = 'd_accounts' AND indexname = 'd_accounts_owner_idx')`).Scan(&indexed); err != nil || !indexed {
				t.Errorf("the index d.by_owner needs was not created (%v)", err)
			}
		})
	}
}

func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// TestMigrateAdoptsALegacyDatabase: a database migrated when every domain had its own migration counted
// nine of them; its engine tables are today's 001, and its fact tables are kept and checked.
func TestMigrateAdoptsALegacyDatabase(t *testing.T) {
	url := pgtest.New(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// The template holds the tables of later engine migrations, which a legacy database never had.
	if _, err := conn.Exec(ctx, `DROP TABLE arbiter_engine_version;
		DROP TABLE policy_draft_files, policy_drafts, policy_revisions, policy_tree_files, policy_trees, policy_blobs;
		DROP VIEW decision_log_with_facts; DROP TABLE decision_log, decision_log_facts; DROP FUNCTION arbiter_decision_log_partition(timestamptz);
		CREATE TABLE decision_log (id text PRIMARY KEY, decision text NOT NULL, version text NOT NULL, as_of timestamptz NOT NULL,
			outcome text NOT NULL, envelope jsonb, input jsonb, facts jsonb, recorded_at timestamptz NOT NULL DEFAULT now());
		CREATE INDEX decision_log_decision_as_of_idx ON decision_log (decision, as_of);
		INSERT INTO decision_log VALUES ('L1', 'd.x', '1', '2023-05-01Z', 'allow', '{}', '{"n": 1}', '{"a": 1}', '2023-05-02T10:00:00Z'),
			('L2', 'd.x', '1', '2023-07-01Z', 'deny', '{}', '{"n": 2}', '{"a": 2}', '2023-07-31T23:59:59Z');
		CREATE TABLE arbiter_schema_version (version int4 NOT NULL); INSERT INTO arbiter_schema_version VALUES (9);
		CREATE TABLE d_accounts (id text PRIMARY KEY, tier text NOT NULL DEFAULT 'basic', score bigint NOT NULL DEFAULT 0, note text, owner text NOT NULL);
		INSERT INTO d_accounts (id, owner) VALUES ('A1', 'o')`); err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx, url, catalogOf(t, driftCatalog)); err != nil {
		t.Fatal(err)
	}
	var version, rows int
	var legacy bool
	if err := conn.QueryRow(ctx, `SELECT (SELECT version FROM arbiter_engine_version), (SELECT count(*) FROM d_accounts),
		to_regclass('arbiter_schema_version') IS NOT NULL`).Scan(&version, &rows, &legacy); err != nil {
		t.Fatal(err)
	}
	engineMigrations, _ := fs.Glob(store.Migrations(), "*.sql")
	if version != len(engineMigrations) || rows != 1 || legacy {
		t.Fatalf("engine version %d (want %d: every engine migration), %d rows kept (want 1), legacy table left: %v", version, len(engineMigrations), rows, legacy)
	}
	// The unpartitioned log's records moved into the partitions of their months, facts and all.
	for id, want := range map[string]string{"L1": "decision_log_2023_05", "L2": "decision_log_2023_07"} {
		var part, facts string
		if err := conn.QueryRow(ctx, `SELECT l.tableoid::regclass::text, v.facts::text FROM decision_log l JOIN decision_log_with_facts v USING (id) WHERE l.id = $1`, id).Scan(&part, &facts); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if part != want || !strings.HasPrefix(facts, `{"a": `) {
			t.Errorf("%s is in %s with facts %s, want %s", id, part, facts, want)
		}
	}
}

func TestRequiredMustBeABool(t *testing.T) {
	_, err := store.LoadCatalog(fstest.MapFS{"d.yaml": &fstest.MapFile{Data: []byte(
		"tables:\n  d:\n    primary_key: [id]\n    columns:\n      id: {type: text}\n      x: {type: text, required: yes please}\n")}})
	if err == nil || !strings.Contains(err.Error(), "d.yaml:6: table d: column x: required must be true or false") {
		t.Fatalf("got %v", err)
	}
}
