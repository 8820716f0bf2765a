package facts_test

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"gopkg.in/yaml.v3"

	"arbiter/engine/facts"
)

func TestParseRowsCanonicalValues(t *testing.T) {
	c := testCatalog(t)
	raw, err := os.ReadFile("testdata/rows.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := facts.ParseRows(c, "rows.yaml", raw)
	if err != nil {
		t.Fatal(err)
	}
	a1 := rows["t_accounts"][0]
	want := map[string]any{
		"id": "A1", "tier": "gold", "score": int64(7), "active": true, "balance": "500",
		"opened_on": "2025-03-01", "seen_at": "2025-06-07T04:00:00Z", "tags": []any{"b", "a"},
		"extra": map[string]any{"n": int64(1), "f": "1.5", "e": int64(1000), "s": "x",
			"l": []any{int64(1), "2.50", nil}, "b": true, "z": nil},
	}
	if !reflect.DeepEqual(a1, want) {
		t.Fatalf("A1 =\n%#v\nwant\n%#v", a1, want)
	}
	a3 := rows["t_accounts"][2]
	wantDefaults := map[string]any{
		"id": "A3", "tier": "gold", "score": int64(0), "active": false, "balance": "12345678901234567890.123456789",
		"opened_on": nil, "seen_at": nil, "tags": []any{}, "extra": nil,
	}
	if !reflect.DeepEqual(a3, wantDefaults) {
		t.Fatalf("A3 (defaults) =\n%#v\nwant\n%#v", a3, wantDefaults)
	}
	if got := rows["t_accounts"][1]["seen_at"]; got != "2025-06-07T04:00:00.123456Z" {
		t.Fatalf("fractional timestamp = %v", got)
	}
}

func TestParseRowsMergeKeysAndEmptyTables(t *testing.T) {
	c := testCatalog(t)
	src := "t_orders:\n  - &base {account_id: A1, seq: 1, note: n}\n  - {<<: *base, seq: 2}\nt_accounts: []\n"
	rows, err := facts.ParseRows(c, "m.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := rows["t_orders"][1]; got["account_id"] != "A1" || got["seq"] != int64(2) || got["note"] != "n" {
		t.Fatalf("merged row = %v", got)
	}
	if rs, ok := rows["t_accounts"]; !ok || len(rs) != 0 {
		t.Fatalf("an empty table must be present and empty, got %v, %v", rs, ok)
	}
	// A test case's given may merge another case's tables and replace some of them.
	src = "a: &default\n  t_accounts: [{id: A}]\n  t_orders: [{account_id: A, seq: 1}]\nb:\n  <<: *default\n  t_orders: [{account_id: A, seq: 2}]\n"
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	b := doc["b"]
	rows, err = facts.ParseRowsNode(c, "m.yaml", &b)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows["t_accounts"]) != 1 || len(rows["t_orders"]) != 1 || rows["t_orders"][0]["seq"] != int64(2) {
		t.Fatalf("merged tables = %v", rows)
	}
}

func TestParseRowsErrors(t *testing.T) {
	c := testCatalog(t)
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"unknown table", "t_acounts:\n  - {id: A}\n", []string{`f.yaml:1: unknown table "t_acounts"`}},
		{"unknown column", "t_accounts:\n  - {id: A, teir: gold}\n", []string{`f.yaml:2: table t_accounts has no column "teir"`}},
		{"bare float in a decimal column", "t_accounts:\n  - {id: A, balance: 0.1}\n", []string{`f.yaml:2: t_accounts.balance: decimal 0.1 is a bare YAML float`}},
		{"not a decimal", "t_accounts:\n  - {id: A, balance: \"ten\"}\n", []string{`f.yaml:2: t_accounts.balance: "ten" is not a decimal`}},
		{"string in an int column", "t_accounts:\n  - {id: A, score: \"7\"}\n", []string{`f.yaml:2: t_accounts.score: expected int, got the string "7"`}},
		{"string in a bool column", "t_accounts:\n  - {id: A, active: \"yes\"}\n", []string{`f.yaml:2: t_accounts.active: expected bool`}},
		{"boolean in a text column", "t_accounts:\n  - {id: A, tier: true}\n", []string{`f.yaml:2: t_accounts.tier: expected text, got the boolean true`}},
		{"bad date", "t_accounts:\n  - {id: A, opened_on: 2025-02-30}\n", []string{`f.yaml:2: t_accounts.opened_on: "2025-02-30" is not a date`}},
		{"timestamp without an offset", "t_accounts:\n  - {id: A, seen_at: \"2025-06-07T12:00:00\"}\n", []string{`f.yaml:2: t_accounts.seen_at: "2025-06-07T12:00:00" is not an RFC 3339 timestamp`}},
		{"date given for a timestamp", "t_accounts:\n  - {id: A, seen_at: 2025-06-07}\n", []string{`f.yaml:2: t_accounts.seen_at:`}},
		{"text[] that is not a list", "t_accounts:\n  - {id: A, tags: a}\n", []string{`f.yaml:2: t_accounts.tags: expected a list of text`}},
		{"null inside text[]", "t_accounts:\n  - {id: A, tags: [a, null]}\n", []string{`f.yaml:2: t_accounts.tags: element 1: null is not allowed`}},
		{"missing primary key", "t_orders:\n  - {account_id: A}\n", []string{`f.yaml:2: table t_orders: primary key column seq is required`}},
		{"row that is not a mapping", "t_orders:\n  - A\n", []string{`f.yaml:2: table t_orders: a row must be a mapping`}},
		{"table that is not a list", "t_orders: {account_id: A}\n", []string{`f.yaml:1: table t_orders: expected a list of rows`}},
		{"not a mapping", "- t_orders\n", []string{`f.yaml:1: rows must be a mapping`}},
		{"invalid YAML", "t_orders: [\n", []string{`f.yaml:`, `invalid YAML`}},
		{"a merge that refers to itself", "t_orders:\n  - &x {<<: *x, seq: 2}\n", []string{`f.yaml:2: table t_orders: a merge (<<) refers to itself`}},
		{"json that contains itself", "t_accounts:\n  - {id: A, extra: &e {a: *e}}\n", []string{`f.yaml:2: t_accounts.extra: json value nests too deep`}},
		{"json aliases that multiply", "t_accounts:\n  - {id: A, extra: {a: &a [1,1,1,1,1,1,1,1,1,1], b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], e: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]}}\n",
			[]string{`f.yaml:2: t_accounts.extra: json value nests too deep or repeats too much`}},
		{"every problem at once", "t_accounts:\n  - {id: A, balance: 1.5}\n  - {id: B, score: x}\nnope: []\n",
			[]string{`f.yaml:2: t_accounts.balance`, `f.yaml:3: t_accounts.score`, `f.yaml:4: unknown table "nope"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := facts.ParseRows(c, "f.yaml", []byte(tc.src))
			if err == nil {
				t.Fatal("expected an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestParseRowsNodeOfATestCase(t *testing.T) {
	c := testCatalog(t)
	var doc struct {
		Given yaml.Node `yaml:"given"`
	}
	src := "name: x\ngiven:\n  t_accounts:\n    - {id: A, balance: 2.5}\n"
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	_, err := facts.ParseRowsNode(c, "tests.yaml", &doc.Given)
	if err == nil || !strings.Contains(err.Error(), "tests.yaml:4: t_accounts.balance") {
		t.Fatalf("want an error at tests.yaml:4, got %v", err)
	}
	rows, err := facts.ParseRowsNode(c, "tests.yaml", &yaml.Node{})
	if err != nil || len(rows) != 0 {
		t.Fatalf("an absent given is no rows, got %v, %v", rows, err)
	}
}

func TestLoadRowsDir(t *testing.T) {
	c := testCatalog(t)
	fsys := fstest.MapFS{
		"a.yaml":    {Data: []byte("t_accounts:\n  - {id: A}\n")},
		"b.yaml":    {Data: []byte("t_accounts:\n  - {id: B}\nt_orders:\n  - {account_id: A, seq: 1}\n")},
		"notes.txt": {Data: []byte("ignored")},
	}
	rows, err := facts.LoadRowsDir(c, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows["t_accounts"]) != 2 || len(rows["t_orders"]) != 1 {
		t.Fatalf("merged rows = %v", rows)
	}
	fsys["c.yaml"] = &fstest.MapFile{Data: []byte("t_orders:\n  - {account_id: B, seq: 1}\n  - {account_id: A, seq: 1}\n")}
	_, err = facts.LoadRowsDir(c, fsys)
	if err == nil || !strings.Contains(err.Error(), "c.yaml: table t_orders: primary key (account_id=A, seq=1) is already given in b.yaml") {
		t.Fatalf("want a duplicate key error naming both files, got %v", err)
	}
}

func TestRowsMerge(t *testing.T) {
	r := facts.Rows{"a": {{"id": "1"}}}
	r.Merge(facts.Rows{"a": {{"id": "2"}}, "b": {{"id": "3"}}})
	if len(r["a"]) != 2 || len(r["b"]) != 1 {
		t.Fatalf("Merge = %v", r)
	}
}

func FuzzParseRows(f *testing.F) {
	c := testCatalog(f)
	if raw, err := os.ReadFile("testdata/rows.yaml"); err == nil {
		f.Add(raw)
	}
	for _, s := range []string{
		"t_accounts:\n  - {id: A, balance: \"1.5\", extra: {a: [1, 2.5e3]}}\n",
		"t_orders:\n  - &x {account_id: A, seq: 1}\n  - {<<: [*x], seq: 2}\n",
		"t_orders:\n  - &x {<<: [*x], seq: 2}\n", "t_accounts:\n  - {id: A, tags: &s [a, *s]}\n",
		"t_accounts: ~\n", "", "- 1\n", "t_accounts:\n  - {id: [x]}\n", "t_accounts:\n  - {id: A, extra: .nan}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := facts.ParseRows(c, "fuzz.yaml", data)
		if err != nil {
			return
		}
		// Whatever parses must be accepted by the memory store as it is.
		if _, err := facts.NewMemory(c, rows); err != nil && !strings.Contains(err.Error(), "given twice") {
			t.Fatalf("parsed rows rejected by NewMemory: %v", err)
		}
	})
}
