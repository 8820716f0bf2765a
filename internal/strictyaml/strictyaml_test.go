package strictyaml_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"arbiter/engine/lang"
	"arbiter/internal/strictyaml"
	"arbiter/internal/testing/yamlbomb"
)

func TestLoadBudgets(t *testing.T) {
	small := strictyaml.Budget{Bytes: 1000, Depth: 6, Nodes: 40, Ratio: 2, Slack: 10}
	tests := []struct {
		name string
		src  string
		code string // "" when the document is within the budget
		line int
		want string
	}{
		{"within every budget", "a: [1, 2]\nb: &x {c: d}\ne: *x\n", "", 0, ""},
		{"an empty document", "", "", 0, ""},
		{"too large", "a: 1\nb: " + strings.Repeat("x", 1000) + "\n", lang.ProblemBudget, 2, "larger than 1000 bytes"},
		{"too deep", "a:\n  b:\n    c:\n      d:\n        e:\n          f:\n            g: 1\n", lang.ProblemBudget, 6, "nests deeper than 6 levels"},
		{"too deep through aliases", "x: &x [[[[1]]]]\ny: [*x]\n", lang.ProblemBudget, 2, "aliases nest the document deeper than 6 levels"},
		{"too many nodes", "[" + strings.Repeat("1, ", 30) + "1]\n", lang.ProblemBudget, 1, "more than 40 nodes"},
		{"too many indicators to parse", strings.Repeat("- 1\n", 20), lang.ProblemBudget, 1, "may hold more than 40 nodes"},
		{"dashes and colons inside scalars", "a: 2025-01-01T00:00:00+08:00\nb: 2025-01-01T00:00:00+08:00\nc: 2025-01-01T00:00:00+08:00\n", "", 0, ""},
		{"aliases that multiply", "a: &a [1, 1, 1]\nb: &b [*a, *a, *a]\nc: [*b, *b]\n", lang.ProblemBudget, 3, "aliases expand the document beyond"},
		{"an alias inside its own node", "a: &a [1, *a]\n", lang.ProblemBudget, 1, "alias *a refers to a node that contains it"},
		{"a merge of its own mapping", "a: &a {<<: *a}\n", lang.ProblemBudget, 1, "alias *a refers to a node that contains it"},
		{"a syntax error", "a: [1,\n", lang.ProblemSyntax, 1, "did not find expected node content"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := strictyaml.LoadWithin([]byte(tc.src), small)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("want no error, got %v", err)
				}
				return
			}
			var e *strictyaml.Error
			if !errors.As(err, &e) {
				t.Fatalf("want a *strictyaml.Error, got %v", err)
			}
			if e.Code != tc.code || e.Line != tc.line || !strings.Contains(e.Msg, tc.want) {
				t.Fatalf("got %s at line %d: %q; want %s at line %d containing %q", e.Code, e.Line, e.Msg, tc.code, tc.line, tc.want)
			}
		})
	}
}

// TestAliasBombIsRefusedFast: a 3 KB billion laughs costs well under a second and 100 MB to refuse,
// through each entry point.
func TestAliasBombIsRefusedFast(t *testing.T) {
	bomb := []byte("data:\n" + yamlbomb.Mapping(2))
	var v struct {
		Data any `yaml:"data"`
	}
	for _, tc := range []struct {
		name string
		read func() error
	}{
		{"Load", func() error { _, err := strictyaml.Load(bomb); return err }},
		{"Parse", func() error {
			var ps lang.Problems
			if _, ok := strictyaml.Parse("f.yaml", bomb, &ps); ok {
				return nil
			}
			if ps.Len() != 1 || ps.List[0].Code != lang.ProblemBudget || ps.List[0].File != "f.yaml" || ps.List[0].Line == 0 {
				t.Errorf("problems = %v", ps.List)
			}
			return errors.New(ps.List[0].String())
		}},
		{"Decode", func() error {
			var ps lang.Problems
			if strictyaml.Decode("f.yaml", bomb, &v, &ps) {
				return nil
			}
			if ps.List[0].Code != lang.ProblemBudget {
				t.Errorf("problems = %v", ps.List)
			}
			return errors.New(ps.List[0].String())
		}},
		{"Value", func() error {
			var n yaml.Node
			if err := yaml.Unmarshal(bomb, &n); err != nil {
				t.Fatal(err)
			}
			_, err := strictyaml.Value(&n)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			err := tc.read()
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), "aliases expand the document beyond") {
				t.Fatalf("want the bomb refused, got %v", err)
			}
			if took > 500*time.Millisecond {
				t.Errorf("refusing the bomb took %v", took)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 100<<20 {
				t.Errorf("refusing the bomb allocated %d MB", alloc>>20)
			}
		})
	}
}

// TestLimitsFitTheTree: the real tree's heaviest use of aliases (shared givens merged into many
// cases) is within Limits; a document of plain data as large as the budget allows parses.
func TestLimitsFitTheTree(t *testing.T) {
	var b strings.Builder
	b.WriteString("base: &base {a: 1, b: [1, 2, 3], c: {d: e}}\ncases:\n")
	for i := 0; i < 2000; i++ {
		b.WriteString("  - {<<: *base, n: 1}\n")
	}
	if _, err := strictyaml.Load([]byte(b.String())); err != nil {
		t.Fatalf("2,000 merges of one base: %v", err)
	}
	line := "- " + strings.Repeat("x", 60) + "\n"
	big := strings.Repeat(line, (strictyaml.Limits.Bytes-1)/len(line))
	if _, err := strictyaml.Load([]byte(big)); err != nil {
		t.Fatalf("%d bytes of plain data: %v", len(big), err)
	}
}

func TestValue(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want any
		err  string
	}{
		{"scalars", "a: 1\nb: '2'\nc: true\nd: ~\ne: 2025-01-01\n", map[string]any{"a": int64(1), "b": "2", "c": true, "d": nil, "e": "2025-01-01"}, ""},
		{"a merge: own keys win", "x: &x {a: 1, b: 2}\ny: {<<: *x, b: 3}\n", map[string]any{"x": map[string]any{"a": int64(1), "b": int64(2)}, "y": map[string]any{"a": int64(1), "b": int64(3)}}, ""},
		{"an alias", "x: &x [1]\ny: *x\n", map[string]any{"x": []any{int64(1)}, "y": []any{int64(1)}}, ""},
		{"a key given twice", "0: 0\n0: [00]\n", nil, `line 2: key "0" is given twice (first at line 1)`},
		{"a key given twice in a flow mapping", "a: {b: 1, b: 2}\n", nil, `key "b" is given twice`},
		{"a key that is a mapping", "? {a: 1}\n: 2\n", nil, "line 1: a key must be a scalar"},
		{"a merge of a list", "x: &x [1]\ny: {<<: *x}\n", nil, "merge key needs a mapping"},
		{"an alias inside its own node", "a: &a [*a]\n", nil, "refers to a node that contains it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(tc.src), &n); err != nil {
				t.Fatal(err)
			}
			got, err := strictyaml.Value(&n)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("want an error containing %q, got %v (%v)", tc.err, err, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	type doc struct {
		Name string    `yaml:"name"`
		Data yaml.Node `yaml:"data"`
	}
	tests := []struct {
		name string
		src  string
		code string
		line int
		want string
	}{
		{"an unknown field", "name: a\nnope: 1\n", lang.ProblemSyntax, 2, "field nope not found"},
		{"a field given twice", "name: a\nname: b\n", lang.ProblemSyntax, 2, `mapping key "name" already defined at line 1`},
		{"a wrong type", "name: [1]\n", lang.ProblemSyntax, 1, "cannot unmarshal"},
		{"a bomb under a yaml.Node field", "name: a\ndata:\n" + yamlbomb.Mapping(2), lang.ProblemBudget, 0, "aliases expand the document beyond"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d doc
			var ps lang.Problems
			if strictyaml.Decode("f.yaml", []byte(tc.src), &d, &ps) {
				t.Fatal("want the document refused")
			}
			p := ps.List[0]
			if p.Code != tc.code || p.File != "f.yaml" || (tc.line != 0 && p.Line != tc.line) || !strings.Contains(p.Message, tc.want) {
				t.Fatalf("got %v; want %s at f.yaml:%d containing %q", ps.List, tc.code, tc.line, tc.want)
			}
		})
	}
	var d doc
	var ps lang.Problems
	if !strictyaml.Decode("f.yaml", []byte("name: a\ndata: {b: [1]}\n"), &d, &ps) || d.Name != "a" {
		t.Fatalf("a good document: %v", ps.List)
	}
	if v, err := strictyaml.Value(&d.Data); err != nil || !reflect.DeepEqual(v, map[string]any{"b": []any{int64(1)}}) {
		t.Fatalf("Value(data) = %v, %v", v, err)
	}
}

func FuzzValue(f *testing.F) {
	for _, s := range []string{
		"a: 1\nb: [1, 2.5, x]\n", "x: &a {k: v}\ny: *a\n", "<<: {a: 1}\n", "- !!binary aGk=\n", "~",
		"0: 0\n0: [00] ", "a: &a [*a]\n", "a: &a {<<: *a}\n", "? [1]\n: 2\n", "a: &a [1,1,1]\nb: &b [*a,*a,*a]\nc: [*b,*b,*b]\n",
		smallBomb, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := strictyaml.Load([]byte(s))
		if err != nil {
			var e *strictyaml.Error
			if !errors.As(err, &e) || (e.Code != lang.ProblemBudget && e.Code != lang.ProblemSyntax) {
				t.Fatalf("Load: an error that is not a located problem: %#v", err)
			}
			return
		}
		v, err := strictyaml.Value(n)
		if err != nil {
			return
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("Value gave a value JSON cannot encode: %v", err)
		}
		// yaml.v3 refuses a key given twice when it decodes into a map; Value must refuse it too.
		var any map[string]any
		if err := yaml.Unmarshal([]byte(s), &any); err != nil && strings.Contains(err.Error(), "already defined") {
			t.Fatalf("Value accepted what yaml.v3 refuses: %v", err)
		}
	})
}

// smallBomb is a billion laughs short enough for a fuzz seed (the fuzzer minimizes new inputs in time
// quadratic in their length): nine levels of nine aliases.
const smallBomb = "data:\n  a: &a [x,x,x,x,x,x,x,x,x]\n  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
	"  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n" +
	"  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n  i: [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"

// FuzzDecode decodes into a struct the way the loaders do: whatever the input, Decode answers
// true, or false with problems that name the file.
func FuzzDecode(f *testing.F) {
	type entry struct {
		ID   string    `yaml:"id"`
		When time.Time `yaml:"when"`
	}
	type doc struct {
		Name    string            `yaml:"name"`
		Entries []entry           `yaml:"entries"`
		Keys    map[string]string `yaml:"keys"`
		Data    yaml.Node         `yaml:"data"`
		Ptr     *int              `yaml:"ptr"`
	}
	for _, s := range []string{
		"name: a\nentries: [{id: x, when: 2025-01-01T00:00:00Z}]\nkeys: {a: b}\ndata: {x: [1]}\nptr: 3\n",
		"name: a\nnope: 1\n", "entries: &e [{id: x}]\nkeys: *e\n", smallBomb, "",
		"name: &n a\nkeys: {*n : b}\n", "data: &d {a: *d}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d doc
		var ps lang.Problems
		if strictyaml.Decode("fuzz.yaml", []byte(s), &d, &ps) {
			if ps.Len() != 0 {
				t.Fatalf("Decode succeeded with problems: %v", ps.List)
			}
			if d.Data.Kind != 0 {
				if _, err := strictyaml.Value(&d.Data); err != nil && strings.Contains(err.Error(), "beyond") {
					t.Fatalf("a decoded node is over budget: %v", err)
				}
			}
			return
		}
		if ps.Len() == 0 {
			t.Fatal("Decode failed without a problem")
		}
		for _, p := range ps.List {
			if p.File != "fuzz.yaml" {
				t.Fatalf("a problem that does not name the file: %v", p)
			}
		}
	})
}
