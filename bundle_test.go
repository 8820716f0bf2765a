package arbiter_test

import (
	"context"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"gopkg.in/yaml.v3"

	"arbiter"
	"arbiter/engine"
)

// TestServedRuleTablesAreNeverExamples guards the served tree: a rule-table version that marks
// itself as an example or a draft would decide real requests, so it must live outside rules/.
func TestServedRuleTablesAreNeverExamples(t *testing.T) {
	err := fs.WalkDir(arbiter.Bundle(), "rules", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, "/schema.yaml") {
			return err
		}
		raw, err := fs.ReadFile(arbiter.Bundle(), p)
		if err != nil {
			return err
		}
		var v struct {
			Version string         `yaml:"version"`
			Data    map[string]any `yaml:"data"`
		}
		if err := yaml.Unmarshal(raw, &v); err != nil {
			return err
		}
		lower := strings.ToLower(v.Version)
		if strings.Contains(lower, "example") || strings.Contains(lower, "draft") || v.Data["example"] == true {
			t.Errorf("%s: version %q is an example or draft; keep it under docs/examples/", p, v.Version)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDocumentedExampleTablesStayValid loads the served tree with each documented example table
// added, so the examples keep matching their table's schema.
func TestDocumentedExampleTablesStayValid(t *testing.T) {
	examples := os.DirFS("docs/examples")
	tree := fstest.MapFS{}
	err := fs.WalkDir(arbiter.Bundle(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(arbiter.Bundle(), p)
		tree[p] = &fstest.MapFile{Data: raw}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	added := 0
	err = fs.WalkDir(examples, "rules", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(examples, p)
		tree[p] = &fstest.MapFile{Data: raw}
		added++
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if added == 0 {
		t.Fatal("no example tables under docs/examples/rules")
	}
	if _, err := engine.Load(context.Background(), tree); err != nil {
		t.Fatalf("an example table no longer loads: %v", err)
	}
}
