package casetest_test

import (
	"context"
	"os"
	"path"
	"slices"
	"testing"
	"time"

	"arbiter/casetest"
	"arbiter/engine"
	"arbiter/engine/lang"
	"arbiter/store"
)

// TestExplainedCasesAgree runs every catalog case of the shipped tree traced, as arbiter eval
// --explain does: the traced evaluation must still pass the case (it decides as Eval does), and
// the conditions that name a catalog rule (a Rego "reasons" body whose head carries the rule id, a
// CEL rule) must have held exactly for the rule ids the decision's reasons give.
func TestExplainedCasesAgree(t *testing.T) {
	ctx := context.Background()
	tree := os.DirFS("..")
	set, err := engine.Load(ctx, tree)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := casetest.Load(tree, set)
	if err != nil {
		t.Fatal(err)
	}
	checked, attributed := 0, 0
	for _, tc := range cases {
		mem, err := store.NewMemory(set.Catalog(), tc.Rows)
		if err != nil {
			t.Fatalf("%s: %v", tc.Name, err)
		}
		e := engine.New(set, mem, engine.WithTables(tc.Tables), engine.WithClock(func() time.Time { return tc.AsOf }),
			engine.WithTimeout(time.Minute)) // tracing is several times slower than a decision
		req := tc.Request()
		req.Trace, req.Explain = true, true
		d, err := e.Decide(ctx, req)
		mem.Close()
		if fails := tc.Check(d, err); len(fails) > 0 {
			t.Errorf("%s (%s) traced: %v", tc.Name, tc.File, fails)
			continue
		}
		if d == nil || d.Commit != nil && d.Commit.Replayed {
			continue
		}
		if d.Explain == nil || len(d.Explain.Conditions) == 0 {
			t.Errorf("%s (%s): no conditions explained", tc.Name, tc.File)
			continue
		}
		checked++
		// Conditions of the version's own files: shared modules may be other decisions' policies
		// (benefit.matrix runs the MDF ones), whose reasons are not this decision's.
		dir := path.Dir(tc.File)
		named := map[string]bool{} // rule id -> some naming condition held
		dynamic := false           // a reasons body held whose rule id is computed ("rule": window_rule)
		for _, c := range d.Explain.Conditions {
			if c.Kind != lang.ConditionKindRule || path.Dir(c.File) != dir || (c.Name != "reasons" && c.Name != c.Rule) {
				continue
			}
			if c.Rule == "" {
				dynamic = dynamic || c.Status == lang.ConditionHeld
				continue
			}
			named[c.Rule] = named[c.Rule] || c.Status == lang.ConditionHeld
		}
		if len(named) == 0 {
			continue
		}
		attributed++
		var held, gave []string
		for id, ok := range named {
			if ok {
				held = append(held, id)
			}
		}
		for _, r := range d.Reasons {
			if _, ok := named[r.Rule]; ok && !slices.Contains(gave, r.Rule) {
				gave = append(gave, r.Rule)
			}
		}
		slices.Sort(held)
		slices.Sort(gave)
		if dynamic {
			// A computed rule id may be any of them: every held one must still be given.
			for _, id := range held {
				if !slices.Contains(gave, id) {
					t.Errorf("%s (%s): the condition of %s held; the reasons give %v", tc.Name, tc.File, id, gave)
				}
			}
			continue
		}
		if !slices.Equal(held, gave) {
			t.Errorf("%s (%s): conditions held for %v; the reasons give %v", tc.Name, tc.File, held, gave)
		}
	}
	t.Logf("%d cases traced, %d with conditions naming catalog rules", checked, attributed)
	if checked < len(cases)/2 || attributed < 100 {
		t.Fatalf("%d of %d cases traced, %d attributed", checked, len(cases), attributed)
	}
}
