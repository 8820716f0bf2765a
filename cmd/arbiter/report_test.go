package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"arbiter/internal/testing/demotree"
)

// TestCLITestCoverageAndReports runs the demo tree's cases with every report: the coverage counts a
// rule id only when a case's answer cites it, JSON carries the same figures, JUnit lists each case.
func TestCLITestCoverageAndReports(t *testing.T) {
	dir := t.TempDir()
	demotree.WriteTo(t, dir)
	code, out, errOut := runCLI(t, "test", "--policies", dir, "--coverage")
	if code != 0 || !strings.Contains(out, "rule coverage: ") {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	junit := filepath.Join(t.TempDir(), "cases.xml")
	code, out, errOut = runCLI(t, "test", "--policies", dir, "--coverage", "--json", "--junit", junit)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	var rep testReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.Passed == 0 || rep.Failed != 0 || rep.Coverage == nil || rep.Coverage.Rules == 0 {
		t.Fatalf("report %+v", rep)
	}
	if rep.Coverage.Fired+countNever(rep) != rep.Coverage.Rules {
		t.Fatalf("fired %d + never %d != rules %d", rep.Coverage.Fired, countNever(rep), rep.Coverage.Rules)
	}
	raw, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suites junitSuites
	if err := xml.Unmarshal(raw, &suites); err != nil {
		t.Fatal(err)
	}
	tests := 0
	for _, s := range suites.Suites {
		tests += s.Tests
	}
	if tests != rep.Passed {
		t.Fatalf("JUnit has %d cases, JSON %d", tests, rep.Passed)
	}
}

func countNever(rep testReport) int {
	n := 0
	for _, v := range rep.Coverage.Versions {
		n += len(v.Never)
	}
	return n
}

// TestCLIFmt lists an unformatted Rego file, rewrites it with -w, then finds nothing to do.
func TestCLIFmt(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.rego")
	if err := os.WriteFile(file, []byte("package p\nallow if {   input.x == 1 }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runCLI(t, "fmt", dir); code != 1 || !strings.Contains(out, "p.rego") {
		t.Fatalf("want the file listed and exit 1, got %d %q", code, out)
	}
	if code, _, errOut := runCLI(t, "fmt", "-w", dir); code != 0 {
		t.Fatalf("fmt -w: exit %d %s", code, errOut)
	}
	if code, out, _ := runCLI(t, "fmt", dir); code != 0 || out != "" {
		t.Fatalf("after -w: exit %d %q", code, out)
	}
}
