package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"arbiter/engine"
	"arbiter/engine/lang"
)

// explainEval runs eval --explain --json on the in-memory default and decodes the envelope.
func explainEval(t *testing.T, decision, body string) *engine.Decision {
	t.Helper()
	file := filepath.Join(t.TempDir(), "req.json")
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "eval", decision, "--input", file, "--explain", "--json")
	if code != 0 {
		t.Fatalf("eval --explain --json: exit %d\n%s%s", code, out, errs)
	}
	var d engine.Decision
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if d.Explain == nil || len(d.Explain.Conditions) == 0 {
		t.Fatalf("no conditions in the explanation:\n%s", out)
	}
	return &d
}

// ruleStatus maps each catalog rule id the policy's rule conditions name to whether some part of it
// held (a Rego rule id may have several bodies: one holding is enough).
func ruleStatus(conds []lang.Condition) map[string]bool {
	held := map[string]bool{}
	for _, c := range conds {
		if c.Kind != lang.ConditionKindRule || c.Rule == "" || c.Code == "" {
			continue
		}
		held[c.Rule] = held[c.Rule] || c.Status == lang.ConditionHeld
	}
	return held
}

// checkAgrees: the rule ids whose conditions held are exactly the decision's reasons' rule ids.
func checkAgrees(t *testing.T, d *engine.Decision) map[string]bool {
	t.Helper()
	status := ruleStatus(d.Explain.Conditions)
	var held, reasons []string
	for id, ok := range status {
		if ok {
			held = append(held, id)
		}
	}
	for _, r := range d.Reasons {
		if !slices.Contains(reasons, r.Rule) {
			reasons = append(reasons, r.Rule)
		}
	}
	slices.Sort(held)
	slices.Sort(reasons)
	if !slices.Equal(held, reasons) {
		t.Fatalf("%s: conditions held for %v, the reasons name %v", d.Decision, held, reasons)
	}
	return status
}

// TestEvalExplainRego: partner.path_exit for PTN-A2 (three blockers) and PTN-A1 (none) names the
// rule bodies that held and those that did not, with the failing expression, in agreement with the
// reasons; the text form shows the same.
func TestEvalExplainRego(t *testing.T) {
	chdirRoot(t)
	t.Setenv("DATABASE_URL", "")
	d := explainEval(t, "partner.path_exit", `{"input": {"account_id": "PTN-A2"}, "as_of": "2025-06-01T10:00:00+08:00"}`)
	status := checkAgrees(t, d)
	for id, want := range map[string]bool{"EXIT-00": false, "EXIT-01": true, "EXIT-02": true, "EXIT-03": false, "EXIT-06": true, "EXIT-07": false, "EXIT-10": false} {
		if got, ok := status[id]; !ok || got != want {
			t.Errorf("%s held: %v (listed %v), want %v", id, got, ok, want)
		}
	}
	for _, c := range d.Explain.Conditions {
		if c.Rule == "EXIT-00" && (c.Status != lang.ConditionNotHeld || len(c.Failed) == 0 || !strings.Contains(c.Failed[0], `account.path == "none"`)) {
			t.Errorf("EXIT-00 should name the expression that failed: %+v", c)
		}
		if c.Rule == "EXIT-01" && (!strings.HasSuffix(c.File, "partner/path_exit/2026.1/policy.rego") || c.Line == 0) {
			t.Errorf("EXIT-01 should carry its file and line: %+v", c)
		}
	}
	if d.Explain.Facts == nil || d.Explain.Rules == nil {
		t.Errorf("--explain keeps the facts and rule tables: %+v", d.Explain)
	}

	allow := explainEval(t, "partner.path_exit", `{"input": {"account_id": "PTN-A1"}, "as_of": "2025-06-01T10:00:00+08:00"}`)
	if allow.Outcome != "allow" {
		t.Fatalf("PTN-A1: %s", allow.Outcome)
	}
	for id, held := range checkAgrees(t, allow) {
		if held {
			t.Errorf("PTN-A1 may exit, yet %s held", id)
		}
	}

	file := filepath.Join(t.TempDir(), "req.json")
	os.WriteFile(file, []byte(`{"input": {"account_id": "PTN-A2"}, "as_of": "2025-06-01T10:00:00+08:00"}`), 0o644)
	code, text, errs := runCLI(t, "eval", "partner.path_exit", "--input", file, "--explain")
	if code != 0 {
		t.Fatalf("eval --explain: exit %d\n%s%s", code, text, errs)
	}
	for _, re := range []string{
		`(?m)^partner\.path_exit 2026\.1 \(rego\) as of 2025-06-01T10:00:00\+08:00: deny$`,
		`(?m)^  held +rule +EXIT-01 reasons JOINED_PARTNER_PLAN +\[policy\.rego:\d+\]`,
		`(?m)^  not held +rule +EXIT-00 reasons NOT_IN_PATH +\[policy\.rego:\d+\]`,
		`(?m)^ +failed at line \d+: account\.path == "none"$`,
		`(?m)^  held +rule +EXIT-06 reasons HAS_TEST_VOUCHER`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("eval --explain text does not match %s:\n%s", re, text)
		}
	}

	// Without --explain nothing is traced: the envelope carries no conditions.
	code, out, _ := runCLI(t, "eval", "partner.path_exit", "--input", file)
	if code != 0 || strings.Contains(out, `"conditions"`) || strings.Contains(out, `"explain"`) {
		t.Fatalf("eval without --explain: exit %d\n%s", code, out)
	}
}

// TestEvalExplainCEL: incentive.performance (the fixture request) reports every variable's value,
// each rule's condition held or not in agreement with the reasons, and the outputs' values.
func TestEvalExplainCEL(t *testing.T) {
	chdirRoot(t)
	t.Setenv("DATABASE_URL", "")
	raw, err := os.ReadFile("fixtures/requests/incentive.performance.json")
	if err != nil {
		t.Fatal(err)
	}
	d := explainEval(t, "incentive.performance", string(raw))
	status := checkAgrees(t, d)
	if !status["PERF-03"] || status["PERF-09"] {
		t.Errorf("PERF-03 should hold and PERF-09 not: %v", status)
	}
	if _, ok := status["PERF-07"]; !ok {
		t.Errorf("PERF-07 (not held) should be listed: %v", status)
	}
	vars, outs := 0, map[string]any{}
	for _, c := range d.Explain.Conditions {
		switch c.Kind {
		case lang.ConditionKindVariable:
			vars++
			if c.Status != lang.ConditionValue || c.Line == 0 || c.Source == "" {
				t.Errorf("variable %s: %+v", c.Name, c)
			}
		case lang.ConditionKindOutput:
			outs[c.Name] = c.Value
		}
	}
	if vars == 0 {
		t.Error("no variables explained")
	}
	for k, v := range d.Outputs {
		a, _ := json.Marshal(v)
		b, _ := json.Marshal(outs[k])
		if string(a) != string(b) {
			t.Errorf("output %s: explained %s, decided %s", k, b, a)
		}
	}

	file := filepath.Join(t.TempDir(), "req.json")
	os.WriteFile(file, raw, 0o644)
	code, text, errs := runCLI(t, "eval", "incentive.performance", "--input", file, "--explain")
	if code != 0 {
		t.Fatalf("eval --explain: exit %d\n%s%s", code, text, errs)
	}
	for _, re := range []string{
		`(?m)^  held +rule +PERF-03 CLOUD_RESELLER_NO_PERFORMANCE +\[policy\.cel\.yaml:\d+\] vars\.p\.kind == "cloud_reseller"`,
		`(?m)^  not held +rule +PERF-09 YANXUAN_PRICE_DIFFERENCE_ONLY`,
		`(?m)^ +variable +beneficiary = "INC-G1"`,
		`(?m)^ +output +beneficiary_performance_total = "1050.00"`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("eval --explain text does not match %s:\n%s", re, text)
		}
	}
}
