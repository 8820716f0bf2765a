package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"arbiter/internal/testing/demotree"
	"arbiter/internal/testing/pgtest"
)

// TestCLIMigrateCreatesTheTreesFactTables: migrate and seed create the tables of the policy tree's
// catalog (the demo tables are in no SQL file), a second migrate changes nothing, and a table that
// drifted from the catalog fails migrate with its name and column.
func TestCLIMigrateCreatesTheTreesFactTables(t *testing.T) {
	dir := t.TempDir()
	demotree.WriteTo(t, dir)
	if err := os.MkdirAll(filepath.Join(dir, "fixtures"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fixtures", "demo.yaml"), []byte("demo_accounts:\n  - {id: A1, balance: \"12.345\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	url := pgtest.New(t)
	t.Setenv("DATABASE_URL", url)
	for _, args := range [][]string{{"migrate", "--policies", dir}, {"seed", "--policies", dir}, {"migrate", "--policies", dir}} {
		if code, out, errOut := runCLI(t, args...); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tier, balance string
	if err := conn.QueryRow(ctx, "SELECT tier, balance::text FROM demo_accounts WHERE id = 'A1'").Scan(&tier, &balance); err != nil {
		t.Fatal(err)
	}
	if tier != "basic" || balance != "12.345" {
		t.Fatalf("seeded row: tier %q balance %q", tier, balance)
	}
	if _, err := conn.Exec(ctx, "ALTER TABLE demo_tiers ALTER COLUMN discount TYPE text"); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "migrate", "--policies", dir)
	if code == 0 || !strings.Contains(out+errOut, "table demo_tiers column discount") {
		t.Fatalf("migrate over a drifted table: exit %d\n%s%s", code, out, errOut)
	}
}
