package store_test

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"gopkg.in/yaml.v3"

	"arbiter/internal/testing/yamlbomb"
	"arbiter/store"
)

func TestParseRowsCanonicalValues(t *testing.T) {
	c := testCatalog(t)
	raw, err := os.ReadFile("testdata/rows.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := store.ParseRows(c, "rows.yaml", raw)
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
	rows, err := store.ParseRows(c, "m.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := rows["t_orders"][1]; got["account_id"] != "A1" || got["seq"] != int64(2) || got["note"] != "n" {
		t.Fatalf("merged row = %v", got)
	}
	if rs, ok := rows["t_accounts"]; !ok || len(rs) != 0 {
		t.Fatalf("an empty table must be present and empty, got %v, %v", rs, ok)
	}
	// Merges inside a json value follow YAML too: own keys win, then the first base.
	src = "t_accounts:\n  - {id: A, extra: &j {a: 1, b: {c: 2}}}\n  - {id: B, extra: {<<: [*j, {a: 9, d: 4}], b: 3, \"<<\": 5}}\n"
	rows, err = store.ParseRows(c, "m.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rows["t_accounts"][1]["extra"], map[string]any{"a": int64(1), "b": int64(3), "d": int64(4), "<<": int64(5)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("merged json = %#v, want %#v", got, want)
	}
	// A test case's given may merge another case's tables and replace some of them.
	src = "a: &default\n  t_accounts: [{id: A}]\n  t_orders: [{account_id: A, seq: 1}]\nb:\n  <<: *default\n  t_orders: [{account_id: A, seq: 2}]\n"
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	b := doc["b"]
	rows, err = store.ParseRowsNode(c, "m.yaml", &b)
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
		{"a merge that refers to itself", "t_orders:\n  - &x {<<: *x, seq: 2}\n", []string{`f.yaml:2: over budget: alias *x refers to a node that contains it`}},
		{"json that contains itself", "t_accounts:\n  - {id: A, extra: &e {a: *e}}\n", []string{`f.yaml:2: over budget: alias *e refers to a node that contains it`}},
		{"json aliases that multiply", "t_accounts:\n  - {id: A, extra: {a: &a [1,1,1,1,1,1,1,1,1,1], b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], e: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]}}\n",
			[]string{`f.yaml:2: over budget: aliases expand the document beyond`}},
		{"a billion laughs", "t_accounts:\n  - id: A\n    extra:\n" + yamlbomb.Mapping(6), []string{`f.yaml:`, `over budget: aliases expand the document beyond`}},
		{"a larger file than the budget", "t_accounts:\n  - {id: A, tier: \"" + strings.Repeat("x", 4<<20) + "\"}\n", []string{`f.yaml:2: over budget: the file is larger than 4194304 bytes`}},
		{"float in an int column", "t_accounts:\n  - {id: A, score: 1.5}\n", []string{`f.yaml:2: t_accounts.score: expected int, got the number 1.5`}},
		{"int beyond 64 bits", "t_accounts:\n  - {id: A, score: 99999999999999999999}\n", []string{`f.yaml:2: t_accounts.score: expected int`}},
		{"no year 0 in a date", "t_accounts:\n  - {id: A, opened_on: 0000-01-01}\n", []string{`f.yaml:2: t_accounts.opened_on: "0000-01-01" is not a date: there is no year 0`}},
		{"timestamp before year 1 in UTC", "t_accounts:\n  - {id: A, seen_at: \"0001-01-01T00:00:00+08:00\"}\n", []string{`f.yaml:2: t_accounts.seen_at: "0001-01-01T00:00:00+08:00" is outside the years 1 to 9999`}},
		{"timestamp after year 9999 in UTC", "t_accounts:\n  - {id: A, seen_at: \"9999-12-31T23:00:00-08:00\"}\n", []string{`f.yaml:2: t_accounts.seen_at: "9999-12-31T23:00:00-08:00" is outside the years 1 to 9999`}},
		{"decimal beyond numeric", "t_accounts:\n  - {id: A, balance: \"1" + strings.Repeat("0", 131072) + "\"}\n", []string{`f.yaml:2: t_accounts.balance: "10000`, `has more than 131072 digits before the decimal point`}},
		{"decimal with too many places", "t_accounts:\n  - {id: A, balance: \"0." + strings.Repeat("0", 16383) + "1\"}\n", []string{`f.yaml:2: t_accounts.balance: "0.000`}},
		{"exponent beyond the decimal library", "t_accounts:\n  - {id: A, balance: \"1e2000000000\"}\n", []string{`f.yaml:2: t_accounts.balance: "1e2000000000" is not a decimal number`}},
		{"NUL in text", "t_accounts:\n  - {id: \"A\\0\"}\n", []string{`f.yaml:2: t_accounts.id: text cannot contain a NUL character`}},
		{"NUL in text[]", "t_accounts:\n  - {id: A, tags: [\"\\0\"]}\n", []string{`f.yaml:2: t_accounts.tags: element 0: text cannot contain a NUL character`}},
		{"NUL in json", "t_accounts:\n  - {id: A, extra: {k: [\"\\0\"]}}\n", []string{`f.yaml:2: t_accounts.extra: line 2: text cannot contain a NUL character`}},
		{"NUL in a json key", "t_accounts:\n  - {id: A, extra: {\"\\0\": 1}}\n", []string{`f.yaml:2: t_accounts.extra: line 2: key: text cannot contain a NUL character`}},
		{"column given twice", "t_accounts:\n  - id: A\n    tier: gold\n    tier: silver\n", []string{`f.yaml:4: table t_accounts: "tier" is given twice (first at line 3)`}},
		{"table given twice", "t_accounts:\n  - {id: A}\nt_orders: []\nt_accounts:\n  - {id: B}\n", []string{`f.yaml:4: "t_accounts" is given twice (first at line 1)`}},
		{"a quoted << is a column name, not a merge", "t_orders:\n  - &x {account_id: A, seq: 1}\n  - {\"<<\": *x, seq: 2}\n", []string{`f.yaml:3: table t_orders has no column "<<"`}},
		{"a merge of a scalar", "t_orders:\n  - {<<: A, seq: 2}\n", []string{`f.yaml:2: table t_orders: a merge (<<) takes a mapping or a list of mappings, got the string "A"`}},
		{"a merge of a list holding a scalar", "t_orders:\n  - &x {account_id: A, seq: 1}\n  - {<<: [*x, 5], seq: 2}\n", []string{`f.yaml:3: table t_orders: a merge (<<) takes a mapping or a list of mappings, got the integer 5`}},
		{"a json merge of a scalar", "t_accounts:\n  - {id: A, extra: {<<: 1}}\n", []string{`f.yaml:2: t_accounts.extra: line 2: a merge (<<) takes a mapping`}},
		{"primary key given twice", "t_orders:\n  - {account_id: A, seq: 1}\n  - {account_id: B, seq: 1}\n  - {account_id: A, seq: 1, note: again}\n", []string{`f.yaml:4: table t_orders: primary key (account_id=A, seq=1) is already given at line 2`}},
		{"every problem at once", "t_accounts:\n  - {id: A, balance: 1.5}\n  - {id: B, score: x}\nnope: []\n",
			[]string{`f.yaml:2: t_accounts.balance`, `f.yaml:3: t_accounts.score`, `f.yaml:4: unknown table "nope"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.ParseRows(c, "f.yaml", []byte(tc.src))
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

// TestParseRowsMergesOfMerges: aliases can name one base exponentially often (ten merges of ten
// merges of ...); each base must be followed once.
func TestParseRowsMergesOfMerges(t *testing.T) {
	c := testCatalog(t)
	var b strings.Builder
	b.WriteString("bases:\n  - &l0 {account_id: A, note: deep}\n")
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&b, "  - &l%d {<<: [%s]}\n", i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 10), ", "))
	}
	b.WriteString("given:\n  t_orders:\n    - {<<: *l30, seq: 1}\n")
	var doc struct {
		Given yaml.Node `yaml:"given"`
	}
	if err := yaml.Unmarshal([]byte(b.String()), &doc); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var rows store.Rows
	var err error
	go func() {
		defer close(done)
		rows, err = store.ParseRowsNode(c, "tests.yaml", &doc.Given)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ParseRowsNode follows merges of merges exponentially")
	}
	if err != nil {
		t.Fatal(err)
	}
	if r := rows["t_orders"][0]; r["account_id"] != "A" || r["note"] != "deep" || r["seq"] != int64(1) {
		t.Fatalf("row = %v", r)
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
	_, err := store.ParseRowsNode(c, "tests.yaml", &doc.Given)
	if err == nil || !strings.Contains(err.Error(), "tests.yaml:4: t_accounts.balance") {
		t.Fatalf("want an error at tests.yaml:4, got %v", err)
	}
	rows, err := store.ParseRowsNode(c, "tests.yaml", &yaml.Node{})
	if err != nil || len(rows) != 0 {
		t.Fatalf("an absent given is no rows, got %v, %v", rows, err)
	}
}

// TestParseRowsNodeGuards: a node that did not come through the budgets of strictyaml (a caller's own
// yaml.Unmarshal) is still refused when it refers to itself or multiplies.
func TestParseRowsNodeGuards(t *testing.T) {
	c := testCatalog(t)
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"a merge that refers to itself", "t_orders:\n  - &x {<<: *x, seq: 2}\n", `f.yaml:2: table t_orders: a merge (<<) refers to itself`},
		{"json that contains itself", "t_accounts:\n  - {id: A, extra: &e {a: *e}}\n", `f.yaml:2: t_accounts.extra: json value nests too deep`},
		{"json aliases that multiply", "t_accounts:\n  - {id: A, extra: {a: &a [1,1,1,1,1,1,1,1,1,1], b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], e: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]}}\n",
			`f.yaml:2: t_accounts.extra: json value nests too deep or repeats too much`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(tc.src), &n); err != nil {
				t.Fatal(err)
			}
			_, err := store.ParseRowsNode(c, "f.yaml", &n)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want %q, got %v", tc.want, err)
			}
		})
	}
}

func TestLoadRowsDir(t *testing.T) {
	c := testCatalog(t)
	fsys := fstest.MapFS{
		"a.yaml":    {Data: []byte("t_accounts:\n  - {id: A}\n")},
		"b.yaml":    {Data: []byte("t_accounts:\n  - {id: B}\nt_orders:\n  - {account_id: A, seq: 1}\n")},
		"notes.txt": {Data: []byte("ignored")},
	}
	rows, err := store.LoadRowsDir(c, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows["t_accounts"]) != 2 || len(rows["t_orders"]) != 1 {
		t.Fatalf("merged rows = %v", rows)
	}
	fsys["c.yaml"] = &fstest.MapFile{Data: []byte("t_orders:\n  - {account_id: B, seq: 1}\n  - {account_id: A, seq: 1}\n")}
	_, err = store.LoadRowsDir(c, fsys)
	if err == nil || !strings.Contains(err.Error(), "c.yaml:3: table t_orders: primary key (account_id=A, seq=1) is already given at b.yaml:4") {
		t.Fatalf("want a duplicate key error naming both places, got %v", err)
	}
	delete(fsys, "c.yaml")
	fsys["d.yaml"] = &fstest.MapFile{Data: []byte("t_accounts:\n  - {id: C}\n  - {id: B, tier: x}\n")}
	fsys["e.yaml"] = &fstest.MapFile{Data: []byte("t_accounts: [{id: E}]\nt_orders: [{account_id: A, seq: 1}]\n")}
	_, err = store.LoadRowsDir(c, fsys)
	for _, want := range []string{"d.yaml:3: table t_accounts: primary key (id=B) is already given at b.yaml:2", "e.yaml:2: table t_orders: primary key (account_id=A, seq=1) is already given at b.yaml:4"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want every duplicate at once, %q missing from %v", want, err)
		}
	}
}

func TestRowsMerge(t *testing.T) {
	r := store.Rows{"a": {{"id": "1"}}}
	r.Merge(store.Rows{"a": {{"id": "2"}}, "b": {{"id": "3"}}})
	if len(r["a"]) != 2 || len(r["b"]) != 1 {
		t.Fatalf("Merge = %v", r)
	}
}

// FuzzParseRows keeps its seeds short: the fuzzer minimizes every input that finds new coverage, in
// time quadratic in its length, and reports no executions meanwhile. From the whole of
// testdata/rows.yaml (1 KB, a quarter of a millisecond to parse twice) each minimization ran for its
// full minute, so fuzzing seemed to stall at 0 execs/sec.
func FuzzParseRows(f *testing.F) {
	c := testCatalog(f)
	for _, s := range []string{
		"t_accounts:\n  - {id: A1, tier: gold, score: 7, active: true, balance: \"500\", opened_on: 2025-03-01}\n",
		"t_accounts:\n  - {id: A2, seen_at: \"2025-06-07T12:00:00.123456+08:00\", tags: [b, a], extra: {n: 1, l: [1, \"2.50\", ~]}}\n",
		"t_orders:\n  - {account_id: A1, seq: 1, amount: \"10\", placed_at: \"2025-01-01T00:00:00+08:00\", note: b}\n",
		"t_accounts:\n  - {id: A, balance: \"1.5\", extra: {a: [1, 2.5e3]}}\n",
		"t_orders:\n  - &x {account_id: A, seq: 1}\n  - {<<: [*x], seq: 2}\n",
		"t_orders:\n  - &x {<<: [*x], seq: 2}\n", "t_accounts:\n  - {id: A, tags: &s [a, *s]}\n",
		"t_accounts: ~\n", "", "- 1\n", "t_accounts:\n  - {id: [x]}\n", "t_accounts:\n  - {id: A, extra: .nan}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := store.ParseRows(c, "fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("an error that does not start with the file name: %v", err)
			}
			return
		}
		// Whatever parses must be accepted by the memory store as it is.
		if _, err := store.NewMemory(c, rows); err != nil {
			t.Fatalf("parsed rows rejected by NewMemory: %v", err)
		}
		// Canonical rows written out again parse to the same rows.
		again, err := store.ParseRows(c, "again.yaml", rowsYAML(t, rows))
		if err != nil {
			t.Fatalf("canonical rows do not parse again: %v\n%s", err, rowsYAML(t, rows))
		}
		if !reflect.DeepEqual(again, rows) {
			t.Fatalf("canonical rows parse again differently:\n%#v\n%#v", rows, again)
		}
	})
}

// rowsYAML writes rows as JSON with every non-ASCII character escaped: a YAML document that means
// exactly the same values (YAML is a superset of JSON, and the escapes keep characters that YAML
// reads as line breaks or refuses unescaped, such as U+0085, out of the text).
func rowsYAML(t *testing.T, rows store.Rows) []byte {
	t.Helper()
	raw, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range string(raw) {
		switch {
		case r < 0x7f:
			b.WriteRune(r)
		case r <= 0xffff:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			fmt.Fprintf(&b, "\\U%08x", r)
		}
	}
	return []byte(b.String())
}

func TestRowsRoundTrip(t *testing.T) {
	c := testCatalog(t)
	tests := []struct {
		name string
		src  string
	}{
		{"every type", "t_accounts:\n  - {id: A1, tier: gold, score: 7, balance: \"500.00\", opened_on: 2025-03-01, seen_at: \"2025-06-07T12:00:00+08:00\", tags: [b, a], extra: {n: 1, f: 1.5, s: x}}\n"},
		{"defaults and explicit nulls", "t_accounts:\n  - {id: A2}\n  - {id: A3, tier: null, extra: null}\n"},
		{"characters YAML treats specially", "t_accounts:\n  - {id: \"\\x85\\u2028\\U0001F600\\t<&>\", tier: \"true\", tags: [\"~\", \"<<\", \"2025-03-01\"], extra: {\"<<\": {\"\\x7f\": \"0x1F\"}}}\n"},
		{"an empty table", "t_orders: []\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := store.ParseRows(c, "f.yaml", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			again, err := store.ParseRows(c, "again.yaml", rowsYAML(t, rows))
			if err != nil {
				t.Fatalf("%v\n%s", err, rowsYAML(t, rows))
			}
			if !reflect.DeepEqual(again, rows) {
				t.Fatalf("round trip changed the rows:\n%#v\n%#v", rows, again)
			}
		})
	}
}
