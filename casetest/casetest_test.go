package casetest_test

import (
	"context"
	"testing"

	"arbiter/casetest"
	"arbiter/engine"
	"arbiter/internal/testing/demotree"
)

func loadGood(t testing.TB) *engine.PolicySet {
	t.Helper()
	set, err := engine.Load(context.Background(), demotree.FS(t))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return set
}

func loadCases(t testing.TB, set *engine.PolicySet) []casetest.Case {
	t.Helper()
	cases, err := casetest.Load(demotree.FS(t), set)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

func TestGoodTreeCasesPass(t *testing.T) {
	set := loadGood(t)
	cases := loadCases(t, set)
	if len(cases) < 8 {
		t.Fatalf("want the demo cases, got %d", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			if r := casetest.Run(context.Background(), set, tc); !r.Passed() {
				t.Fatalf("%s: %v", tc.File, r.Failures)
			}
		})
	}
}

func TestCheckReportsMismatches(t *testing.T) {
	set := loadGood(t)
	tc := loadCases(t, set)[0]
	tc.Want.Outcome = "deny"
	tc.Want.Outputs = map[string]any{"total": "129.98"}
	r := casetest.Run(context.Background(), set, tc)
	if r.Passed() || len(r.Failures) != 2 {
		t.Fatalf("want 2 failures (outcome, total), got %v", r.Failures)
	}
}
