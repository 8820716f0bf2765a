package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"arbiter/internal/testing/demotree"
	"arbiter/internal/testing/testserver"
)

const hupManifest = `decision: ops.greeting
version: v1
valid_from: 2020-01-01T00:00:00+08:00
language: cel
rules: [OPS-01]
input_schema: {type: object}
`

const hupTests = `cases:
  - name: OPS-01 answers with its word
    as_of: 2025-01-01T00:00:00+08:00
    want: {outcome: allow, outputs: {word: WORD}}
`

const hupPolicy = `rules:
  - id: OPS-01
    condition: "false"
    code: NEVER
outputs:
  - name: word
    expression: '"WORD"'
`

func writeHupTree(t *testing.T, dir, word, policy string) {
	t.Helper()
	v := filepath.Join(dir, "policies", "ops", "greeting", "v1")
	if err := os.MkdirAll(v, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"rules", "fixtures"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	testserver.CopyTree(t, filepath.Join(demotree.Root(), "facts"), filepath.Join(dir, "facts"))
	for name, body := range map[string]string{
		"manifest.yaml":   hupManifest,
		"tests.yaml":      strings.ReplaceAll(hupTests, "WORD", word),
		"policy.cel.yaml": strings.ReplaceAll(policy, "WORD", word),
	} {
		if err := os.WriteFile(filepath.Join(v, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSIGHUPReloads runs the binary on a policy folder: SIGHUP after a good edit serves the new
// set; SIGHUP after a bad edit keeps the last good set and reports the failure in /v1/status.
func TestSIGHUPReloads(t *testing.T) {
	dir := t.TempDir()
	writeHupTree(t, dir, "hello", hupPolicy)
	p := testserver.StartProcessEnv(t, "ARBITER_POLICY_DIR="+dir)
	client := testserver.Client()
	word := func() string {
		r := testserver.Post(t, client, p.URL, "/v1/decisions/ops.greeting", map[string]any{"input": map[string]any{}})
		out, _ := r.Body["outputs"].(map[string]any)
		w, _ := out["word"].(string)
		return w
	}
	if got := word(); got != "hello" {
		t.Fatalf("before reload: %q", got)
	}
	writeHupTree(t, dir, "bonjour", hupPolicy)
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return word() == "bonjour" })

	writeHupTree(t, dir, "broken", strings.Replace(hupPolicy, `condition: "false"`, `condition: "nope("`, 1))
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		st := testserver.Get(t, client, p.URL, "/v1/status")
		last, _ := st.Body["last_reload"].(map[string]any)
		return last != nil && last["ok"] == false
	})
	if got := word(); got != "bonjour" {
		t.Fatalf("a failed reload must keep the last good set: got %q", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("condition not met in time")
}
