package server_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"arbiter/internal/server"
	"arbiter/internal/testing/demotree"
	"arbiter/internal/testing/yamlbomb"
)

// TestFixturesWithAnAliasBombAreRefused: a fixtures file holding a 3 KB "billion laughs" stops the
// in-memory server from starting, at once, with an error naming the file and line.
func TestFixturesWithAnAliasBombAreRefused(t *testing.T) {
	dir := t.TempDir()
	demotree.WriteTo(t, dir)
	fixtures := t.TempDir()
	rows := "demo_accounts:\n  - {id: G1, tier: gold}\n  - id: B1\n    tier: basic\n    bomb:\n" + yamlbomb.Mapping(6)
	if err := os.WriteFile(filepath.Join(fixtures, "accounts.yaml"), []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	svc, err := server.Build(context.Background(), server.Config{PolicyDir: dir, FixturesDir: fixtures, EvalTimeout: time.Second, MaxBodyBytes: 1 << 20, LogQueue: 10},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		svc.Close()
		t.Fatal("a server started on fixtures with an alias bomb")
	}
	if !strings.Contains(err.Error(), "accounts.yaml:") || !strings.Contains(err.Error(), "over budget: aliases expand the document beyond") {
		t.Fatalf("the error does not name the file and the budget: %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("refusing the fixtures took %v", took)
	}
}
