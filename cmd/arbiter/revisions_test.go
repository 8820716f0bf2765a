package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"arbiter/internal/testing/demotree"
	"arbiter/internal/testing/pgtest"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestPublishWorkflow publishes a folder, refuses an edit of a published version naming the file,
// adds a version with new-version, lists, exports and rolls back.
func TestPublishWorkflow(t *testing.T) {
	t.Setenv("DATABASE_URL", pgtest.New(t))
	dir := t.TempDir()
	demotree.WriteTo(t, dir)
	if code, out, errs := runCmd(t, "revisions"); code != 0 || !strings.Contains(out, "no published revision") {
		t.Fatalf("revisions before any publish: %d %s %s", code, out, errs)
	}
	if code, out, errs := runCmd(t, "publish", dir, "-m", "first", "--author", "ana"); code != 0 || !strings.Contains(out, "published r1") {
		t.Fatalf("publish: %d %s %s", code, out, errs)
	}
	file := filepath.Join(dir, "rules", "demo", "rates", "2025.yaml")
	orig, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, bytes.Replace(orig, []byte(`rate: "0.2"`), []byte(`rate: "0.25"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	// The edited version also breaks a case; skip the cases to reach the immutability check.
	code, _, errs := runCmd(t, "publish", dir, "-m", "edit in place", "--skip-tests")
	if code != 1 || !strings.Contains(errs, "rules/demo/rates/2025.yaml") || !strings.Contains(errs, "immutable") {
		t.Fatalf("an edited published version must be refused naming it: %d %s", code, errs)
	}
	if err := os.WriteFile(file, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "new-version", "rules/demo/rates", "--dir", dir, "--valid-from", "2026-01-01T00:00:00+08:00")
	if code != 0 || !strings.Contains(out, "rules/demo/rates/2026.yaml") || !strings.Contains(out, "rules/demo/rates/2025.yaml") {
		t.Fatalf("new-version: %d %s %s", code, out, errs)
	}
	if code, out, errs = runCmd(t, "publish", dir, "-m", "2026 rates"); code != 0 || !strings.Contains(out, "published r2") || !strings.Contains(out, "+ rules/demo/rates/2026.yaml") {
		t.Fatalf("publish of a new version: %d %s %s", code, out, errs)
	}
	// An empty log is never an all-clear.
	if code, out, errs = runCmd(t, "impact", "--revision", "r2"); code != 1 || !strings.Contains(out, "WARNING: no logged decision matched") || !strings.Contains(errs, "nothing was replayed") {
		t.Fatalf("impact over an empty log: %d %s %s", code, out, errs)
	}
	if code, out, _ = runCmd(t, "revisions"); code != 0 || !strings.Contains(out, "2026 rates") || !strings.Contains(out, "first") {
		t.Fatalf("revisions: %s", out)
	}
	if code, out, errs = runCmd(t, "rollback", "r1"); code != 0 || !strings.Contains(out, "published r3") {
		t.Fatalf("rollback: %d %s %s", code, out, errs)
	}
	exported := t.TempDir()
	if code, out, errs = runCmd(t, "export", "--revision", "r3", exported); code != 0 {
		t.Fatalf("export: %d %s %s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(exported, "rules", "demo", "rates", "2026.yaml")); !os.IsNotExist(err) {
		t.Fatalf("r3 restores r1, which has no 2026 table: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(exported, "rules", "demo", "rates", "2025.yaml")); !bytes.Equal(got, orig) {
		t.Fatalf("exported 2025 differs from r1's:\n%s", got)
	}
}
