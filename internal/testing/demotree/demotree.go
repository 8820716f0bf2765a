// Package demotree is a small policy tree for tests: demo policies in Rego and CEL, their rule
// tables and tests.yaml, and demo fact tables beside the shipped core catalog (the ledger).
package demotree

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"testing/fstest"

	"arbiter/store"
)

//go:embed all:tree
var tree embed.FS

// Root is the repository's root folder.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// FS returns a fresh copy of the demo tree (policies/, rules/, facts/) that a test may mutate.
func FS(t testing.TB) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(tree, "tree", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(tree, p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("tree", p)
		m[filepath.ToSlash(rel)] = &fstest.MapFile{Data: raw}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	core, err := os.ReadFile(filepath.Join(Root(), "facts", "core.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m["facts/core.yaml"] = &fstest.MapFile{Data: core}
	return m
}

// Catalog returns the demo tree's fact catalog.
func Catalog(t testing.TB) *store.Catalog {
	t.Helper()
	sub, err := fs.Sub(FS(t), "facts")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := store.LoadCatalog(sub)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// WriteTo writes the demo tree into dir, for a server that reads a policy folder.
func WriteTo(t testing.TB, dir string) {
	t.Helper()
	for name, f := range FS(t) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
