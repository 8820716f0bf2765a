package engine_test

import (
	"context"
	"testing"
	"testing/fstest"

	"arbiter/engine"
	"arbiter/internal/testing/demotree"
)

// TestExamplesAreNeverLoaded: example and draft files would not even load, yet the tree does.
func TestExamplesAreNeverLoaded(t *testing.T) {
	tests := []struct {
		name string
		path string
	}{
		{name: "rule-table example", path: "rules/demo/rates/2026.example.yaml"},
		{name: "rule-table draft", path: "rules/demo/rates/2026.draft.yaml"},
		{name: "policy version example", path: "policies/demo/cel_sum/v9.example/manifest.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tree := demotree.FS(t)
			tree[tc.path] = &fstest.MapFile{Data: []byte("not: [valid\n")}
			if _, err := engine.Load(context.Background(), tree); err != nil {
				t.Fatalf("%s was loaded: %v", tc.path, err)
			}
			if !engine.IsExample(tc.path) {
				t.Fatalf("IsExample(%s) = false", tc.path)
			}
		})
	}
	if engine.IsExample("rules/demo/rates/2025.yaml") || engine.IsExample("policies/demo/cel_sum/v1/manifest.yaml") {
		t.Fatal("a served file counts as an example")
	}
}
