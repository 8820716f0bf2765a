package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLISchemas: arbiter schemas writes the same files as are committed, and --check finds a
// stale one.
func TestCLISchemas(t *testing.T) {
	chdirRoot(t)
	out := t.TempDir()
	code, stdout, errs := runCLI(t, "schemas", "--out", out)
	if code != 0 || !strings.Contains(stdout, "wrote") {
		t.Fatalf("schemas: exit %d\n%s%s", code, stdout, errs)
	}
	for _, f := range []string{"schemas/manifest.schema.json", "schemas/rules/partner/exit.schema.json", ".vscode/settings.json"} {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(out, f))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s written differs from the committed one (%v)", f, err)
		}
	}
	if code, stdout, errs := runCLI(t, "schemas", "--check"); code != 0 {
		t.Fatalf("schemas --check on the committed tree: exit %d\n%s%s", code, stdout, errs)
	}
	if err := os.WriteFile(filepath.Join(out, "schemas", "facts.schema.json"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = runCLI(t, "schemas", "--out", out, "--check")
	if code != 1 || !strings.Contains(stdout, "stale schemas/facts.schema.json") {
		t.Fatalf("schemas --check over a stale file: exit %d\n%s", code, stdout)
	}
}
