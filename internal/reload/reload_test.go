package reload_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"arbiter/engine"
	"arbiter/internal/reload"
	"arbiter/internal/testing/demotree"
	"arbiter/internal/testing/yamlbomb"
	"arbiter/store"
)

// TestAliasBombKeepsTheLastGoodSet plants a 3 KB "billion laughs" in each kind of YAML file of the
// tree: the reload is refused at once with a problem naming the file, the last good set keeps
// serving, and the tree reloads again once the file is put back.
func TestAliasBombKeepsTheLastGoodSet(t *testing.T) {
	dir := t.TempDir()
	demotree.WriteTo(t, dir)
	source := func() (fs.FS, error) { return os.DirFS(dir), nil }
	ctx := context.Background()
	set, _, err := reload.Build(ctx, source)
	if err != nil {
		t.Fatal(err)
	}
	mem, err := store.NewMemory(set.Catalog(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mem.Close)
	e := engine.New(set, mem)
	m := reload.New(e, source, set.Catalog(), reload.Hooks{})
	good := set.Revision()

	tests := []struct {
		name  string
		file  string
		edit  func(string) string
		where string // how the report names the file
	}{
		{
			name: "rule table data", file: "rules/demo/rates/2024.yaml",
			edit:  func(s string) string { return s + "  bomb:\n" + yamlbomb.Mapping(4) },
			where: "rules/demo/rates/2024.yaml:",
		},
		{
			name: "rule table schema", file: "rules/demo/rates/schema.yaml",
			edit:  func(s string) string { return s + "$defs:\n" + yamlbomb.Mapping(2) },
			where: "rules/demo/rates/schema.yaml:",
		},
		{
			name: "policy manifest", file: "policies/demo/cel_sum/v1/manifest.yaml",
			edit: func(s string) string {
				return replace(t, s, "input_schema:\n", "input_schema:\n  $defs:\n"+yamlbomb.Mapping(4))
			},
			where: "policies/demo/cel_sum/v1/manifest.yaml:",
		},
		{
			name: "cel policy", file: "policies/demo/cel_sum/v1/policy.cel.yaml",
			edit:  func(s string) string { return "shared:\n" + yamlbomb.Mapping(2) + s },
			where: "policies/demo/cel_sum/v1/policy.cel.yaml:",
		},
		{
			name: "tests.yaml", file: "policies/demo/cel_sum/v1/tests.yaml",
			edit: func(s string) string {
				return replace(t, s, `    input: {account_id: G1, amount: "129.89"}`+"\n",
					"    input:\n      account_id: G1\n      amount: \"129.89\"\n      bomb:\n"+yamlbomb.Mapping(8))
			},
			where: "policies/demo/cel_sum/v1/tests.yaml:",
		},
		{
			name: "facts catalog", file: "facts/demo.yaml",
			edit: func(s string) string {
				return replace(t, s, "tables:\n", "tables:\n  bombs:\n    primary_key: [id]\n    columns:\n      id: {type: text}\n"+
					"      extra:\n        type: json\n        default:\n"+yamlbomb.Mapping(10))
			},
			where: "demo.yaml:", // the catalog names its files within facts/
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, filepath.FromSlash(tc.file))
			orig, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(tc.edit(string(orig))), 0o644); err != nil {
				t.Fatal(err)
			}
			restored := false
			restore := func() {
				if !restored {
					restored = true
					if err := os.WriteFile(p, orig, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			t.Cleanup(restore)

			start := time.Now()
			r := m.Reload(ctx)
			took := time.Since(start)
			if r.OK {
				t.Fatal("a tree with an alias bomb was swapped in")
			}
			report := r.Error + "\n" + strings.Join(r.Problems, "\n")
			if !strings.Contains(report, tc.where) || !strings.Contains(report, "aliases expand the document beyond") {
				t.Fatalf("the report does not name %s and the budget:\n%s", tc.where, report)
			}
			// Loading the rest of the tree (compiling every policy, running no case) takes a
			// fraction of this; the bomb itself costs milliseconds.
			if took > 3*time.Second {
				t.Errorf("refusing the bomb took %v", took)
			}
			if got := e.PolicySet().Revision(); got != good || r.ServingRevision != good {
				t.Fatalf("serving %s (report says %s), want the last good %s", got, r.ServingRevision, good)
			}
			// The policy tree's problems carry the over_budget code (the catalog's are plain errors).
			if !strings.HasPrefix(tc.file, "facts/") {
				var le *engine.LoadError
				if _, _, err := reload.Build(ctx, source); !errors.As(err, &le) {
					t.Fatalf("want a *LoadError, got %v", err)
				}
				found := false
				for _, p := range le.Problems {
					if p.File == tc.file && p.Line > 0 {
						found = true
						if p.Code != "over_budget" {
							t.Errorf("problem %v has code %s, want over_budget", p, p.Code)
						}
					}
				}
				if !found {
					t.Errorf("no problem located in %s: %v", tc.file, le.Problems)
				}
			}

			restore()
			if r := m.Reload(ctx); !r.OK || r.ServingRevision != good {
				t.Fatalf("the restored tree does not reload: %+v", r)
			}
		})
	}
}

func replace(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("%q not found", old)
	}
	return strings.Replace(s, old, new, 1)
}
