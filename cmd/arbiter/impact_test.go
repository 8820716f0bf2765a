package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"arbiter/engine"
	"arbiter/impact"
	"arbiter/internal/testing/demotree"
	"arbiter/store"
	"arbiter/store/decisionlog"
)

func demoSet(t *testing.T, edit func(fstest.MapFS)) (*engine.PolicySet, *store.Catalog) {
	t.Helper()
	cat := demotree.Catalog(t)
	all := demotree.FS(t)
	tree := fstest.MapFS{}
	for _, f := range []string{
		"rules/demo/rates/schema.yaml", "rules/demo/rates/2024.yaml", "rules/demo/rates/2025.yaml",
		"policies/demo/cel_sum/v1/manifest.yaml", "policies/demo/cel_sum/v1/policy.cel.yaml", "policies/demo/cel_sum/v1/tests.yaml",
	} {
		tree[f] = all[f]
	}
	if edit != nil {
		edit(tree)
	}
	set, err := engine.Load(context.Background(), tree, engine.WithCatalog(cat))
	if err != nil {
		t.Fatal(err)
	}
	return set, cat
}

// TestImpactListsWhatACandidateWouldFlip logs real decisions, then replays them against a
// candidate whose 2024 minimum is higher: only the decision between the two minimums flips.
func TestImpactListsWhatACandidateWouldFlip(t *testing.T) {
	current, cat := demoSet(t, nil)
	store, err := store.NewMemory(cat, store.Rows{"demo_accounts": {{"id": "G1", "tier": "gold", "balance": "0"}}})
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

	same, err := impact.Run(context.Background(), current, impact.Records(recs), impact.Options{})
	if err != nil || same.Replayed != 3 || same.Changed != 0 {
		t.Fatalf("the current set must decide as logged: %+v", same)
	}
	candidate, _ := demoSet(t, func(m fstest.MapFS) {
		f := "rules/demo/rates/2024.yaml"
		m[f] = &fstest.MapFile{Data: []byte(strings.Replace(string(m[f].Data), `minimum: "100.00"`, `minimum: "200.00"`, 1))}
	})
	rep, err := impact.Run(context.Background(), candidate, impact.Records(recs), impact.Options{})
	if err != nil || rep.Replayed != 3 || rep.Changed != 1 || rep.ByOutcome["allow -> deny"] != 1 || rep.ReasonsAdded["BELOW_MINIMUM"] != 1 {
		t.Fatalf("want exactly the 150 decision to flip allow -> deny: %+v", rep)
	}
	if c := rep.Examples[0].Change; c == nil || c.ReasonsAdded[0] != "BELOW_MINIMUM" {
		t.Fatalf("the flip should carry the new reason: %+v", rep.Examples[0])
	}
}
