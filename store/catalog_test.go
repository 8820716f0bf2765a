package store_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"arbiter/store"
)

func TestEmbeddedCatalogLoads(t *testing.T) {
	c, err := store.LoadCatalog(os.DirFS("../facts"))
	if err != nil {
		t.Fatalf("the committed catalog files do not load:\n%v", err)
	}
	if !slices.Contains(c.Tables(), "ledger_entries") {
		t.Fatalf("core table ledger_entries missing from %v", c.Tables())
	}
	p, ok := c.Provider("ledger.usage")
	if !ok {
		t.Fatal("ledger.usage provider missing")
	}
	want := store.Provider{Name: "ledger.usage", Table: "ledger_entries", By: []string{"key"}, OrderBy: []string{"created_at"}}
	if p.Name != want.Name || p.Table != want.Table || !slices.Equal(p.By, want.By) || !slices.Equal(p.OrderBy, want.OrderBy) || p.One {
		t.Fatalf("ledger.usage = %+v, want %+v", p, want)
	}
}

func TestCatalogAccessors(t *testing.T) {
	c := testCatalog(t)
	if got := c.Tables(); !slices.IsSorted(got) || !slices.Contains(got, "t_accounts") || !slices.Contains(got, "ledger_entries") {
		t.Fatalf("Tables() = %v", got)
	}
	p, ok := c.Provider("t.account")
	if !ok || !p.One || p.Table != "t_accounts" || !slices.Equal(p.By, []string{"id"}) {
		t.Fatalf("Provider(t.account) = %+v, %v", p, ok)
	}
	p.By[0] = "changed"
	if again, _ := c.Provider("t.account"); again.By[0] != "id" {
		t.Fatal("Provider returned the catalog's own slice")
	}
	if _, ok := c.Provider("nope"); ok {
		t.Fatal("unknown provider reported as found")
	}
}

func TestLoadCatalogErrors(t *testing.T) {
	const good = "tables:\n  a:\n    primary_key: [id]\n    columns:\n      id: {type: text}\n      doc: {type: json}\nproviders:\n  a.one:\n    table: a\n    by: [id]\n    one: true\n"
	tests := []struct {
		name  string
		files map[string]string
		want  []string // each must appear in the error
	}{
		{
			name:  "unknown field at the root",
			files: map[string]string{"x.yaml": "tabels: {}\n"},
			want:  []string{`x.yaml:1: unknown field "tabels"`},
		},
		{
			name:  "unknown field in a table",
			files: map[string]string{"x.yaml": "tables:\n  a:\n    primary_key: [id]\n    colums: {}\n    columns:\n      id: {type: text}\n"},
			want:  []string{`x.yaml:4: table a: unknown field "colums"`},
		},
		{
			name:  "unknown field in a column",
			files: map[string]string{"x.yaml": "tables:\n  a:\n    primary_key: [id]\n    columns:\n      id: {type: text, defualt: x}\n"},
			want:  []string{`x.yaml:5: table a: column id: unknown field "defualt"`},
		},
		{
			name:  "unknown column type",
			files: map[string]string{"x.yaml": "tables:\n  a:\n    primary_key: [id]\n    columns:\n      id: {type: text}\n      n: {type: integer}\n"},
			want:  []string{`x.yaml:6: table a: column n: unknown type "integer"`},
		},
		{
			name:  "default of the wrong type",
			files: map[string]string{"x.yaml": "tables:\n  a:\n    primary_key: [id]\n    columns:\n      id: {type: text}\n      amount: {type: decimal, default: 0.5}\n"},
			want:  []string{`x.yaml:6: table a: column amount: default: decimal 0.5 is a bare YAML float`},
		},
		{
			name:  "missing primary_key",
			files: map[string]string{"x.yaml": "tables:\n  a:\n    columns:\n      id: {type: text}\n"},
			want:  []string{`x.yaml:2: table a: primary_key is required`},
		},
		{
			name:  "primary key on an undeclared column",
			files: map[string]string{"x.yaml": "tables:\n  a:\n    primary_key: [nope]\n    columns:\n      id: {type: text}\n"},
			want:  []string{`x.yaml:3: table a: primary_key column nope is not declared`},
		},
		{
			name:  "primary key listing a column twice",
			files: map[string]string{"x.yaml": "tables:\n  a:\n    primary_key: [id, id]\n    columns:\n      id: {type: text}\n"},
			want:  []string{`x.yaml:3: table a: primary_key lists column id twice`},
		},
		{
			name:  "primary key on a json column",
			files: map[string]string{"x.yaml": "tables:\n  a:\n    primary_key: [doc]\n    columns:\n      doc: {type: json}\n"},
			want:  []string{`x.yaml:3: table a: primary_key column doc is json, which cannot be a key`},
		},
		{
			name:  "int default that is not an integer",
			files: map[string]string{"x.yaml": "tables:\n  a:\n    primary_key: [id]\n    columns:\n      id: {type: text}\n      n: {type: int, default: \"0\"}\n"},
			want:  []string{`x.yaml:6: table a: column n: default: expected int, got the string "0"`},
		},
		{
			name:  "date default that is not a date",
			files: map[string]string{"x.yaml": "tables:\n  a:\n    primary_key: [id]\n    columns:\n      id: {type: text}\n      d: {type: date, default: 2025-02-30}\n"},
			want:  []string{`x.yaml:6: table a: column d: default: "2025-02-30" is not a date`},
		},
		{
			name:  "text[] default that is not a list",
			files: map[string]string{"x.yaml": "tables:\n  a:\n    primary_key: [id]\n    columns:\n      id: {type: text}\n      tags: {type: \"text[]\", default: \"{}\"}\n"},
			want:  []string{`x.yaml:6: table a: column tags: default: expected a list of text`},
		},
		{
			name:  "column without a type",
			files: map[string]string{"x.yaml": "tables:\n  a:\n    primary_key: [id]\n    columns:\n      id: {type: text}\n      n: {default: 1}\n"},
			want:  []string{`x.yaml:6: table a: column n: type is required`},
		},
		{
			name:  "provider naming an unknown table",
			files: map[string]string{"x.yaml": good, "y.yaml": "providers:\n  b.all:\n    table: b\n    by: [id]\n"},
			want:  []string{`y.yaml:3: provider b.all: unknown table "b"`},
		},
		{
			name:  "provider naming an unknown by column",
			files: map[string]string{"x.yaml": good, "y.yaml": "providers:\n  a.x:\n    table: a\n    by: [idd]\n"},
			want:  []string{`y.yaml:4: provider a.x: by: table a has no column "idd"`},
		},
		{
			name:  "provider naming an unknown order_by column",
			files: map[string]string{"x.yaml": good, "y.yaml": "providers:\n  a.x:\n    table: a\n    by: [id]\n    order_by: [when]\n"},
			want:  []string{`y.yaml:5: provider a.x: order_by: table a has no column "when"`},
		},
		{
			name:  "provider looking up by a json column",
			files: map[string]string{"x.yaml": good, "y.yaml": "providers:\n  a.x:\n    table: a\n    by: [doc]\n"},
			want:  []string{`y.yaml:4: provider a.x: by: column doc is json`},
		},
		{
			name:  "unknown field in a provider",
			files: map[string]string{"x.yaml": good, "y.yaml": "providers:\n  a.x:\n    table: a\n    by: [id]\n    single: true\n"},
			want:  []string{`y.yaml:5: provider a.x: unknown field "single"`},
		},
		{
			name:  "duplicate table across files",
			files: map[string]string{"x.yaml": good, "y.yaml": "tables:\n  a:\n    primary_key: [id]\n    columns:\n      id: {type: text}\n"},
			want:  []string{`y.yaml:2: table a is already declared at x.yaml:2`},
		},
		{
			name:  "duplicate provider across files",
			files: map[string]string{"x.yaml": good, "y.yaml": "providers:\n  a.one:\n    table: a\n    by: [id]\n"},
			want:  []string{`y.yaml:2: provider a.one is already declared at x.yaml:8`},
		},
		{
			name:  "invalid YAML",
			files: map[string]string{"x.yaml": "tables: [\n"},
			want:  []string{`x.yaml:`, "invalid YAML"},
		},
		{
			name: "every problem at once",
			files: map[string]string{
				"x.yaml": "tables:\n  a:\n    columns:\n      id: {type: txt}\n",
				"y.yaml": "providers:\n  q:\n    table: zz\n    by: [id]\n",
			},
			want: []string{`x.yaml:2: table a: primary_key is required`, `x.yaml:4: table a: column id: unknown type "txt"`, `y.yaml:3: provider q: unknown table "zz"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, text := range tc.files {
				fsys[name] = &fstest.MapFile{Data: []byte(text)}
			}
			_, err := store.LoadCatalog(fsys)
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

func TestLoadCatalogIgnoresOtherFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"a.yaml":        {Data: []byte("tables:\n  a:\n    primary_key: [id]\n    columns:\n      id: {type: text}\n")},
		"README.md":     {Data: []byte("not yaml: [")},
		"sub/b.yaml":    {Data: []byte("not: [valid")},
		"empty.yaml":    {Data: []byte("# nothing yet\n")},
		"a.yaml.orig~":  {Data: []byte("x")},
		"notes.yml.txt": {Data: []byte("x")},
	}
	c, err := store.LoadCatalog(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Tables(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("Tables() = %v", got)
	}
}

// testCatalog is the core catalog plus testdata/typed.yaml (every column type).
func testCatalog(t testing.TB) *store.Catalog {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, path := range map[string]string{"core.yaml": "../facts/core.yaml", "typed.yaml": "testdata/typed.yaml"} {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: raw}
	}
	c, err := store.LoadCatalog(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// FuzzLoadCatalog keeps its seeds short, as FuzzParseRows does: whole catalog files (kilobytes) made
// every minimization of a new input run for its full minute.
func FuzzLoadCatalog(f *testing.F) {
	for _, s := range []string{
		"tables:\n  a:\n    primary_key: [id]\n    columns: {id: {type: text}, n: {type: int, default: 0}, d: {type: decimal}}\nproviders:\n  p: {table: a, by: [id], one: true}\n",
		"tables:\n  b:\n    primary_key: [k, s]\n    columns: {k: {type: text}, s: {type: int}, t: {type: timestamp}, x: {type: json}, l: {type: \"text[]\", default: []}}\nproviders:\n  q: {table: b, by: [k], order_by: [t]}\n",
		"tables: {c: {primary_key: [on], columns: {on: {type: date}, f: {type: bool, default: true}}}}\n",
		"tables: &t {a: *t}\nproviders: {p: {table: a, by: *t}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := store.LoadCatalog(fstest.MapFS{"f.yaml": {Data: data}})
		if err != nil {
			if !strings.Contains(err.Error(), "f.yaml") {
				t.Fatalf("an error that does not name the file: %v", err)
			}
			return
		}
		for _, name := range c.Tables() {
			if _, err := store.NewMemory(c, store.Rows{name: {}}); err != nil {
				t.Fatalf("a loaded catalog cannot build a store: %v", err)
			}
		}
	})
}
