package casetest

import (
	"encoding/json"
	"testing"
	"testing/fstest"

	"arbiter/engine/lang"
	"arbiter/internal/testing/demotree"
)

// FuzzTestsFile reads tests.yaml as Load does: any input gives cases or problems naming the file,
// and the cases it gives hold values JSON can carry (they become request bodies).
func FuzzTestsFile(f *testing.F) {
	cat := demotree.Catalog(f)
	for _, s := range []string{
		"cases:\n  - name: DEMO-01 x\n    as_of: 2024-06-01T00:00:00+08:00\n    input: {account_id: G1, amount: \"300\"}\n    want: {outcome: allow}\n",
		"cases:\n  - name: DEMO-02 y\n    as_of: 2024-06-01T00:00:00+08:00\n    given: {demo_accounts: [{id: B1, tier: gold}]}\n    want: {outcome: deny, reasons: [R]}\n",
		"cases:\n  - name: DEMO-03 z\n    as_of: 2024-06-01T00:00:00+08:00\n    tables: {demo.rates: {rate: \"0.5\"}}\n    want: {outputs: {fee: \"1.00\"}, outcome: allow}\n",
		"base: &b {demo_accounts: [{id: A}]}\ncases:\n  - {name: DEMO-04 m, as_of: 2024-06-01, given: {<<: *b}, want: {error: invalid_input, fields: [a]}}\n",
		"cases:\n  - name: DEMO-05 d\n    input: {a: 1, a: 2}\n    want: {outcome: allow}\n", "cases: []\n", "cases: [{name: X}]\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var ps lang.Problems
		fsys := fstest.MapFS{"policies/demo/f/v1/tests.yaml": {Data: []byte(s)}}
		cases := loadFile(fsys, "policies/demo/f/v1", cat, &ps)
		for _, p := range ps.List {
			if p.File != "policies/demo/f/v1/tests.yaml" {
				t.Fatalf("a problem that does not name the file: %v", p)
			}
		}
		if ps.Len() > 0 {
			return
		}
		for _, c := range cases {
			if _, err := json.Marshal(c.Input); err != nil {
				t.Fatalf("case %q: an input JSON cannot carry: %v", c.Name, err)
			}
			if _, err := json.Marshal(c.Want.Outputs); err != nil {
				t.Fatalf("case %q: outputs JSON cannot carry: %v", c.Name, err)
			}
		}
	})
}
