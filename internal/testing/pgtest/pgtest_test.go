package pgtest_test

import (
	"context"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"arbiter/internal/testing/pgtest"
	"arbiter/store"
)

func TestNewGivesFreshMigratedDatabases(t *testing.T) {
	ctx := context.Background()
	var names []string
	t.Run("create", func(t *testing.T) {
		a, b := pgtest.New(t), pgtest.New(t)
		if a == b {
			t.Fatalf("two calls returned the same database %s", a)
		}
		for _, u := range []string{a, b} {
			conn, err := pgx.Connect(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			var tables int
			err = conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables
				WHERE table_schema = current_schema() AND table_name IN ('ledger_entries', 'commits', 'decision_log', 'partner_accounts', 'fh_grants')`).Scan(&tables)
			if err != nil || tables != 5 {
				t.Fatalf("%s: %d of the engine tables and fact tables from the catalog, %v", u, tables, err)
			}
			// Every embedded migration has been applied.
			var version int
			if err := conn.QueryRow(ctx, "SELECT version FROM arbiter_engine_version").Scan(&version); err != nil {
				t.Fatal(err)
			}
			if files, _ := fs.Glob(store.Migrations(), "*.sql"); version != len(files) || version < 1 {
				t.Fatalf("%s: schema version %d, want %d (every migration)", u, version, len(files))
			}
			// Writes in one database are not seen in another.
			if _, err := conn.Exec(ctx, `INSERT INTO commits (decision, idempotency_key, request_hash, decision_id) VALUES ('x', $1, 'h', 'd')`, u); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM commits").Scan(&n); err != nil || n != 1 {
				t.Fatalf("%s: %d commits, %v", u, n, err)
			}
			conn.Close(ctx)
			parsed, _ := url.Parse(u)
			names = append(names, strings.TrimPrefix(parsed.Path, "/"))
		}
	})
	admin, err := pgx.Connect(ctx, pgtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for _, name := range names {
		var exists bool
		if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if exists {
			t.Errorf("database %s outlived its test", name)
		}
	}
}

func TestURLFromEnvironment(t *testing.T) {
	t.Setenv("TEST_DATABASE_URL", "postgres://u@db.example:5433/x")
	if got := pgtest.URL(); got != "postgres://u@db.example:5433/x" {
		t.Fatalf("URL() = %s", got)
	}
	t.Setenv("TEST_DATABASE_URL", "")
	if got := pgtest.URL(); got != pgtest.DefaultURL {
		t.Fatalf("URL() = %s", got)
	}
}

// BenchmarkNew measures one fresh database: a copy of the migrated template, and its drop.
func BenchmarkNew(b *testing.B) {
	pgtest.New(b) // the template is built or found once per process
	for b.Loop() {
		pgtest.New(b)
	}
}

// TestNoServer: without a reachable server New skips the test, except under CI=true, where it fails.
func TestNoServer(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") == "1" {
		pgtest.New(t)
		t.Fatal("New returned without a server")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "postgres://postgres:s3cret@" + l.Addr().String() + "/test?sslmode=disable&connect_timeout=2"
	l.Close()
	tests := []struct {
		name, ci string
		fail     bool
		want     string
	}{
		{"locally it skips", "", false, "--- SKIP: TestNoServer"},
		{"under CI it fails", "true", true, "is required when CI=true"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestNoServer$", "-test.v")
			cmd.Env = append(os.Environ(), "PGTEST_CHILD=1", "CI="+tc.ci, "TEST_DATABASE_URL="+closed)
			out, err := cmd.CombinedOutput()
			if failed := err != nil; failed != tc.fail || !strings.Contains(string(out), tc.want) {
				t.Fatalf("exit error %v, want failure %v and %q in:\n%s", err, tc.fail, tc.want, out)
			}
			if strings.Contains(string(out), "s3cret") {
				t.Fatalf("the message shows the password:\n%s", out)
			}
		})
	}
}
