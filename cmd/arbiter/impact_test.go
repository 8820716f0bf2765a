package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"arbiter/engine"
	"arbiter/engine/facts"
	"arbiter/internal/decisionlog"
)

func demoSet(t *testing.T, edit func(fstest.MapFS)) (*engine.PolicySet, *facts.Catalog) {
	t.Helper()
	core, err := os.ReadFile("../../engine/facts/catalog/core.yaml")
	if err != nil {
		t.Fatal(err)
	}
	demo, err := os.ReadFile("../../engine/testdata/catalog/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := facts.LoadCatalog(fstest.MapFS{"core.yaml": {Data: core}, "demo.yaml": {Data: demo}})
	if err != nil {
		t.Fatal(err)
	}
	tree := fstest.MapFS{}
	for _, f := range []string{
		"rules/demo/rates/schema.yaml", "rules/demo/rates/2024.yaml", "rules/demo/rates/2025.yaml",
		"policies/demo/cel_sum/v1/manifest.yaml", "policies/demo/cel_sum/v1/policy.cel.yaml", "policies/demo/cel_sum/v1/tests.yaml",
	} {
		raw, err := os.ReadFile("../../engine/testdata/good/" + f)
		if err != nil {
			t.Fatal(err)
		}
		tree[f] = &fstest.MapFile{Data: raw}
	}
	if edit != nil {
		edit(tree)
	}
	set, err := engine.Load(context.Background(), tree, cat)
	if err != nil {
		t.Fatal(err)
	}
	return set, cat
}

// TestImpactListsWhatACandidateWouldFlip logs real decisions, then replays them against a
// candidate whose 2024 minimum is higher: only the decision between the two minimums flips.
func TestImpactListsWhatACandidateWouldFlip(t *testing.T) {
	current, cat := demoSet(t, nil)
	store, err := facts.NewMemory(cat, facts.Rows{"demo_accounts": {{"id": "G1", "tier": "gold", "balance": "0"}}})
	if err != nil {
		t.Fatal(err)
	}
	log := decisionlog.NewMemory(100)
	e := engine.New(current, store)
	asOf := time.Date(2024, 6, 1, 0, 0, 0, 0, engine.Beijing)
	for _, amount := range []string{"50", "150", "250"} {
		d, err := e.Decide(context.Background(), engine.Request{Decision: "demo.cel_sum", AsOf: asOf, Input: map[string]any{"account_id": "G1", "amount": amount}, Explain: true})
		if err != nil {
			t.Fatal(err)
		}
		env, _ := json.Marshal(d)
		in, _ := json.Marshal(map[string]any{"account_id": "G1", "amount": amount})
		fs, _ := json.Marshal(d.Explain.Facts)
		log.Enqueue(decisionlog.Record{ID: d.DecisionID, Decision: d.Decision, Version: d.Policy.Version, Outcome: d.Outcome, AsOf: d.AsOf, Envelope: env, Input: in, Facts: fs})
	}
	recs, err := log.List(context.Background(), "demo.cel_sum", asOf.Add(-time.Hour), asOf.Add(time.Hour), 100)
	if err != nil || len(recs) != 3 {
		t.Fatalf("logged %d records: %v", len(recs), err)
	}

	same := Impact(context.Background(), current, recs)
	if same.Replayed != 3 || same.Flipped != 0 {
		t.Fatalf("the current set must decide as logged: %+v", same)
	}
	candidate, _ := demoSet(t, func(m fstest.MapFS) {
		f := "rules/demo/rates/2024.yaml"
		m[f] = &fstest.MapFile{Data: []byte(strings.Replace(string(m[f].Data), `minimum: "100.00"`, `minimum: "200.00"`, 1))}
	})
	rep := Impact(context.Background(), candidate, recs)
	if rep.Replayed != 3 || rep.Flipped != 1 || rep.ByChange["allow -> deny"] != 1 {
		t.Fatalf("want exactly the 150 decision to flip allow -> deny: %+v", rep)
	}
	if rep.Flips[0].Change.Reasons[1][0] != "BELOW_MINIMUM" {
		t.Fatalf("the flip should carry the new reason: %+v", rep.Flips[0])
	}
}
