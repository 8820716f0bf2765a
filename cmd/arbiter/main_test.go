package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"arbiter/internal/testing/testserver"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// chdirRoot runs the command from the repository root, as a policy author would.
func chdirRoot(t *testing.T) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(filepath.Join(wd, "..", "..")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chdir(wd) })
}

func TestCLIUsage(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "usage: arbiter"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"eval without a decision", []string{"eval"}, 2, "usage: arbiter eval"},
		{"eval without input", []string{"eval", "coupon.applicability"}, 2, "--input is required"},
		{"migrate without a database", []string{"migrate"}, 2, "DATABASE_URL is not set"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DATABASE_URL", "")
			code, out, errOut := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Fatalf("exit %d (want %d), output %q %q", code, tt.code, out, errOut)
			}
		})
	}
}

func TestCLICheckAndTest(t *testing.T) {
	chdirRoot(t)
	code, out, errOut := runCLI(t, "check")
	if code != 0 || !strings.Contains(out, "ok: ") {
		t.Fatalf("check: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "test", "policies/coupon")
	if code != 0 || !strings.Contains(out, " passed, 0 failed") {
		t.Fatalf("test: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "test", "policies/does-not-exist")
	if code == 0 || !strings.Contains(out, "no cases matched") {
		t.Fatalf("test of nothing must fail: exit %d %s", code, out)
	}
}

// TestCLITestFailsAndNamesTheCase breaks a copy of a policy's expectations: the command exits
// non-zero and names the failing case with its rule id.
func TestCLITestFailsAndNamesTheCase(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	testserver.CopyTree(t, "policies/coupon", filepath.Join(dir, "policies/coupon"))
	testserver.CopyTree(t, "rules", filepath.Join(dir, "rules"))
	testserver.CopyTree(t, "facts", filepath.Join(dir, "facts"))
	tests := filepath.Join(dir, "policies/coupon/applicability/2020.1/tests.yaml")
	raw, err := os.ReadFile(tests)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(raw), "outcome: allow", "outcome: deny", 1)
	if broken == string(raw) {
		t.Fatal("fixture has no allow case to break")
	}
	if err := os.WriteFile(tests, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "test", "--policies", dir, "policies/coupon/applicability")
	if code != 1 || !strings.Contains(out, "FAIL ") || !strings.Contains(out, "COUPON-") || !strings.Contains(out, "1 failed") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

func TestCLIEvalSampleRequest(t *testing.T) {
	chdirRoot(t)
	t.Setenv("DATABASE_URL", "")
	samples, _ := filepath.Glob("fixtures/requests/coupon.applicability*.json")
	if len(samples) == 0 {
		t.Skip("no coupon.applicability sample request")
	}
	code, out, errOut := runCLI(t, "eval", "coupon.applicability", "--input", samples[0])
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("eval output is not the envelope: %v\n%s", err, out)
	}
	if d["decision"] != "coupon.applicability" || d["outcome"] == "" || d["decision_id"] == "" {
		t.Fatalf("envelope: %s", out)
	}
}
