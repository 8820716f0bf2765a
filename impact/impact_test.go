package impact_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"arbiter/engine"
	"arbiter/impact"
	"arbiter/internal/testing/demotree"
	"arbiter/store"
)

func loadGood(t testing.TB) *engine.PolicySet {
	t.Helper()
	set, err := engine.Load(context.Background(), demotree.FS(t))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return set
}

func goodTree(t testing.TB) fstest.MapFS { return demotree.FS(t) }

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func memStore(t testing.TB, rows store.Rows) store.Store {
	t.Helper()
	m, err := store.NewMemory(demotree.Catalog(t), rows)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func replaceIn(m fstest.MapFS, name, old, new string) {
	s := string(m[name].Data)
	if !strings.Contains(s, old) {
		panic("replaceIn: " + old + " not in " + name)
	}
	m[name] = &fstest.MapFile{Data: []byte(strings.Replace(s, old, new, 1))}
}

func TestReplayAndDiff(t *testing.T) {
	set := loadGood(t)
	e := engine.New(set, memStore(t, store.Rows{"demo_accounts": {{"id": "G1", "tier": "gold", "balance": "0"}}}), engine.WithTimeout(time.Second))
	req := engine.Request{Decision: "demo.cel_sum", AsOf: at("2024-06-01T00:00:00+08:00"), Input: map[string]any{"account_id": "G1", "amount": "150"}, Explain: true}
	d, err := e.Decide(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := impact.Replay(context.Background(), set, req, d.Explain.Facts)
	if err != nil {
		t.Fatal(err)
	}
	if _, changed := impact.Diff(d, again); changed {
		t.Fatalf("replay over the same facts changed the decision")
	}
	tree := goodTree(t)
	replaceIn(tree, "rules/demo/rates/2024.yaml", `minimum: "100.00"`, `minimum: "200.00"`)
	candidate, err := engine.Load(context.Background(), tree)
	if err != nil {
		t.Fatal(err)
	}
	after, err := impact.Replay(context.Background(), candidate, req, d.Explain.Facts)
	if err != nil {
		t.Fatal(err)
	}
	change, changed := impact.Diff(d, after)
	if !changed || change.Outcome != [2]string{"allow", "deny"} {
		t.Fatalf("raising the minimum should flip allow to deny, got %+v", change)
	}
}
