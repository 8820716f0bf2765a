package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"arbiter/casetest"
	"arbiter/engine"
	"arbiter/engine/lang"
	"arbiter/internal/testing/demotree"
	"arbiter/store"
)

func demoCatalog(t testing.TB) *store.Catalog { return demotree.Catalog(t) }

func goodTree(t testing.TB) fstest.MapFS { return demotree.FS(t) }

func loadGood(t testing.TB) *engine.PolicySet {
	t.Helper()
	set, err := engine.Load(context.Background(), goodTree(t), engine.WithCatalog(demoCatalog(t)))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return set
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(fstest.MapFS)
		file   string
		want   string
	}{
		{
			name: "unknown field in a manifest",
			mutate: func(m fstest.MapFS) {
				appendTo(m, "policies/demo/rego_sum/v1/manifest.yaml", "bogus: 1\n")
			},
			file: "policies/demo/rego_sum/v1/manifest.yaml", want: "field bogus not found",
		},
		{
			name: "overlapping windows of one decision",
			mutate: func(m fstest.MapFS) {
				replaceIn(m, "policies/demo/windowed/v2/manifest.yaml", "valid_from: 2025-01-01", "valid_from: 2024-06-01")
			},
			file: "policies/demo/windowed/v2/manifest.yaml", want: "overlaps version v1",
		},
		{
			name: "rego that does not compile",
			mutate: func(m fstest.MapFS) {
				appendTo(m, "policies/demo/rego_sum/v1/policy.rego", "broken if {\n\tnot_a_function(1)\n}\n")
			},
			file: "policies/demo/rego_sum/v1/policy.rego", want: "undefined function not_a_function",
		},
		{
			name: "cel that does not type-check",
			mutate: func(m fstest.MapFS) {
				replaceIn(m, "policies/demo/cel_sum/v1/policy.cel.yaml", "expression: vars.total * dec(rules.rates.rate)", "expression: vars.total * 2")
			},
			file: "policies/demo/cel_sum/v1/policy.cel.yaml", want: "found no matching overload",
		},
		{
			name: "rule table failing its schema",
			mutate: func(m fstest.MapFS) {
				replaceIn(m, "rules/demo/rates/2025.yaml", `minimum: "200.00"`, `minimum: "-200.001"`)
			},
			file: "rules/demo/rates/2025.yaml", want: "data.minimum",
		},
		{
			name: "rule table with a float",
			mutate: func(m fstest.MapFS) {
				replaceIn(m, "rules/demo/rates/2024.yaml", `rate: "0.1"`, `rate: 0.1`)
			},
			file: "rules/demo/rates/2024.yaml", want: "quoted strings",
		},
		{
			name: "overlapping rule table versions",
			mutate: func(m fstest.MapFS) {
				replaceIn(m, "rules/demo/rates/2025.yaml", "valid_from: 2025-01-01", "valid_from: 2024-12-31")
			},
			file: "rules/demo/rates/2025.yaml", want: "overlaps version 2024",
		},
		{
			name: "fact provider that does not exist",
			mutate: func(m fstest.MapFS) {
				replaceIn(m, "policies/demo/cel_sum/v1/manifest.yaml", "provider: demo.account", "provider: demo.nope")
			},
			file: "policies/demo/cel_sum/v1/manifest.yaml", want: `provider "demo.nope" does not exist`,
		},
		{
			name: "rule table that does not exist",
			mutate: func(m fstest.MapFS) {
				replaceIn(m, "policies/demo/cel_sum/v1/manifest.yaml", "rates: demo.rates", "rates: demo.nope")
			},
			file: "policies/demo/cel_sum/v1/manifest.yaml", want: `rule table "demo.nope" does not exist`,
		},
		{
			name: "test case given rows for an unknown table",
			mutate: func(m fstest.MapFS) {
				replaceIn(m, "policies/demo/cel_sum/v1/tests.yaml", "demo_accounts: [{id: B1", "nope_table: [{id: B1")
			},
			file: "policies/demo/cel_sum/v1/tests.yaml", want: "nope_table",
		},
		{
			name: "test case without a rule id in its name",
			mutate: func(m fstest.MapFS) {
				replaceIn(m, "policies/demo/cel_sum/v1/tests.yaml", "name: DEMO-01 DEMO-02 both reasons", "name: both reasons")
			},
			file: "policies/demo/cel_sum/v1/tests.yaml", want: "must cite a catalog rule id",
		},
		{
			name: "decision id not matching its folder",
			mutate: func(m fstest.MapFS) {
				replaceIn(m, "policies/demo/rego_sum/v1/manifest.yaml", "decision: demo.rego_sum", "decision: demo.other")
			},
			file: "policies/demo/rego_sum/v1/manifest.yaml", want: "the folder makes it",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := goodTree(t)
			tt.mutate(tree)
			set, err := engine.Load(context.Background(), tree, engine.WithCatalog(demoCatalog(t)))
			if err == nil {
				// tests.yaml problems are found when the cases are loaded beside the set.
				_, err = casetest.Load(tree, set)
			}
			var le *engine.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("want a *LoadError, got %v", err)
			}
			for _, p := range le.Problems {
				if p.File == tt.file && strings.Contains(p.Message, tt.want) {
					return
				}
			}
			t.Fatalf("no problem in %s containing %q; got:\n%v", tt.file, tt.want, err)
		})
	}
}

func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	tree := goodTree(t)
	appendTo(tree, "policies/demo/rego_sum/v1/manifest.yaml", "bogus: 1\n")
	replaceIn(tree, "rules/demo/rates/2024.yaml", `rate: "0.1"`, `rate: 0.1`)
	replaceIn(tree, "policies/demo/cel_sum/v1/manifest.yaml", "provider: demo.account", "provider: demo.nope")
	_, err := engine.Load(context.Background(), tree, engine.WithCatalog(demoCatalog(t)))
	var le *engine.LoadError
	if !errors.As(err, &le) || len(le.Problems) < 3 {
		t.Fatalf("want at least 3 problems, got %v", err)
	}
	files := map[string]bool{}
	for _, p := range le.Problems {
		files[p.File] = true
	}
	for _, f := range []string{"policies/demo/rego_sum/v1/manifest.yaml", "rules/demo/rates/2024.yaml", "policies/demo/cel_sum/v1/manifest.yaml"} {
		if !files[f] {
			t.Errorf("no problem reported for %s", f)
		}
	}
}

func TestVersionSelectionAtWindowEdges(t *testing.T) {
	set := loadGood(t)
	e := engine.New(set, memStore(t, nil))
	tests := []struct {
		name    string
		asOf    string
		pin     string
		want    string
		wantErr engine.Code
	}{
		{name: "on v1 valid_from", asOf: "2024-01-01T00:00:00+08:00", want: "v1"},
		{name: "one second before v1 valid_to", asOf: "2024-12-31T23:59:59+08:00", want: "v1"},
		{name: "on v1 valid_to, which is v2 valid_from", asOf: "2025-01-01T00:00:00+08:00", want: "v2"},
		{name: "one second after v1 valid_to", asOf: "2025-01-01T00:00:01+08:00", want: "v2"},
		{name: "same instant in UTC", asOf: "2024-12-31T16:00:00Z", want: "v2"},
		{name: "before every window", asOf: "2023-12-31T23:59:59+08:00", wantErr: engine.CodeNoEffectiveVersion},
		{name: "pinned v1 outside its window", asOf: "2026-01-01T00:00:00+08:00", pin: "v1", want: "v1"},
		{name: "pinned unknown version", asOf: "2026-01-01T00:00:00+08:00", pin: "v9", wantErr: engine.CodeUnknownVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := e.Decide(context.Background(), engine.Request{Decision: "demo.windowed", AsOf: at(tt.asOf), Version: tt.pin, Input: map[string]any{}})
			if tt.wantErr != "" {
				if engine.CodeOf(err) != tt.wantErr {
					t.Fatalf("want %s, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Policy.Version != tt.want || d.Outputs["version"] != tt.want {
				t.Fatalf("want %s, got policy %s output %v", tt.want, d.Policy.Version, d.Outputs["version"])
			}
			if d.Policy.Pinned != (tt.pin != "") {
				t.Fatalf("pinned = %v", d.Policy.Pinned)
			}
		})
	}
}

func TestRuleTableVersionFollowsAsOf(t *testing.T) {
	set := loadGood(t)
	e := engine.New(set, memStore(t, store.Rows{"demo_accounts": {{"id": "G1", "tier": "gold", "balance": "0"}}}))
	for _, tt := range []struct{ asOf, table, fee string }{
		{"2024-12-31T23:59:59+08:00", "2024", "30"},
		{"2025-01-01T00:00:00+08:00", "2025", "60"},
	} {
		for _, decision := range []string{"demo.rego_sum", "demo.cel_sum"} {
			d, err := e.Decide(context.Background(), engine.Request{Decision: decision, AsOf: at(tt.asOf), Input: map[string]any{"account_id": "G1", "amount": "300"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Tables) != 1 || d.Tables[0].Version != tt.table || d.Tables[0].Digest == "" {
				t.Fatalf("%s at %s: tables %+v, want version %s", decision, tt.asOf, d.Tables, tt.table)
			}
			if d.Outputs["fee"] != tt.fee {
				t.Fatalf("%s at %s: fee %v, want %s", decision, tt.asOf, d.Outputs["fee"], tt.fee)
			}
		}
	}
}

func TestInvalidInputNamesEveryField(t *testing.T) {
	set := loadGood(t)
	e := engine.New(set, memStore(t, nil))
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"missing fields", `{}`, []string{"input.account_id", "input.amount"}},
		{"negative amount", `{"account_id":"G1","amount":"-1.00"}`, []string{"input.amount"}},
		{"over-precise amount", `{"account_id":"G1","amount":"1.001"}`, []string{"input.amount"}},
		{"non-numeric amount", `{"account_id":"G1","amount":"ten"}`, []string{"input.amount"}},
		{"amount as a JSON number", `{"account_id":"G1","amount":12.5}`, []string{"input.amount"}},
		{"unknown field", `{"account_id":"G1","amount":"1","extra":true}`, []string{"input.extra"}},
		{"several at once", `{"account_id":"","amount":"x","extra":1}`, []string{"input.account_id", "input.amount", "input.extra"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in any
			dec := json.NewDecoder(strings.NewReader(tt.input))
			dec.UseNumber()
			if err := dec.Decode(&in); err != nil {
				t.Fatal(err)
			}
			_, err := e.Decide(context.Background(), engine.Request{Decision: "demo.cel_sum", AsOf: at("2025-01-01T00:00:00Z"), Input: in})
			var ee *engine.Error
			if !errors.As(err, &ee) || ee.Code != engine.CodeInvalidInput {
				t.Fatalf("want invalid_input, got %v", err)
			}
			got := map[string]bool{}
			for _, f := range ee.Fields {
				got[f.Field] = true
				if f.Message == "" {
					t.Errorf("%s has no message", f.Field)
				}
			}
			for _, w := range tt.want {
				if !got[w] {
					t.Errorf("field %s not named; got %+v", w, ee.Fields)
				}
			}
			if len(ee.Fields) != len(tt.want) {
				t.Errorf("want exactly %v, got %+v", tt.want, ee.Fields)
			}
		})
	}
}

func TestUnknownDecision(t *testing.T) {
	e := engine.New(loadGood(t), memStore(t, nil))
	_, err := e.Decide(context.Background(), engine.Request{Decision: "demo.nope", Input: map[string]any{}})
	if !errors.Is(err, engine.ErrUnknownDecision) {
		t.Fatalf("want unknown_decision, got %v", err)
	}
}

func TestAsOfDefaultsToTheServerClockAndSaysSo(t *testing.T) {
	now := at("2024-07-01T08:00:00+08:00")
	e := engine.New(loadGood(t), memStore(t, nil), engine.WithClock(func() time.Time { return now }))
	d, err := e.Decide(context.Background(), engine.Request{Decision: "demo.windowed", Input: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	if !d.AsOf.Equal(now) || d.AsOfSource != engine.AsOfFromClock || d.Policy.Version != "v1" {
		t.Fatalf("as_of %s (%s), version %s", d.AsOf, d.AsOfSource, d.Policy.Version)
	}
}

func TestCommitNeverOverspendsUnderConcurrency(t *testing.T) {
	e := engine.New(loadGood(t), memStore(t, nil), engine.WithClock(func() time.Time { return at("2025-05-01T00:00:00+08:00") }))
	const n = 20
	var wg sync.WaitGroup
	results := make([]*engine.Decision, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i], errs[i] = e.Decide(context.Background(), engine.Request{
				Decision: "demo.spend", AsOf: at("2025-05-01T00:00:00+08:00"),
				Input: map[string]any{"account_id": "A", "request_id": "r" + string(rune('a'+i))},
			})
		}(i)
	}
	wg.Wait()
	allowed := 0
	for i := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if results[i].Outcome == lang.OutcomeAllow {
			allowed++
			if !results[i].Commit.Committed {
				t.Fatalf("allowed but not committed: %+v", results[i].Commit)
			}
		} else if results[i].Reasons[0].Code != "LIMIT_REACHED" {
			t.Fatalf("unexpected reasons %+v", results[i].Reasons)
		}
	}
	if allowed != 2 {
		t.Fatalf("want exactly 2 of %d spends allowed, got %d", n, allowed)
	}
}

func TestCommitIsIdempotentByKey(t *testing.T) {
	e := engine.New(loadGood(t), memStore(t, nil), engine.WithClock(func() time.Time { return at("2025-05-01T00:00:00+08:00") }))
	req := engine.Request{Decision: "demo.spend", AsOf: at("2025-05-01T00:00:00+08:00"), Input: map[string]any{"account_id": "A", "request_id": "same"}}
	first, err := e.Decide(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.Decide(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Commit.Committed || first.Commit.Replayed {
		t.Fatalf("first: %+v", first.Commit)
	}
	if !second.Commit.Replayed || second.DecisionID != first.DecisionID {
		t.Fatalf("second should replay the first answer: %+v / %s vs %s", second.Commit, second.DecisionID, first.DecisionID)
	}
	third, err := e.Decide(context.Background(), engine.Request{Decision: "demo.spend", AsOf: req.AsOf, Input: map[string]any{"account_id": "A", "request_id": "other"}})
	if err != nil {
		t.Fatal(err)
	}
	if third.Outputs["used_before"] != "1" {
		t.Fatalf("the replay must not have consumed again: used_before %v", third.Outputs["used_before"])
	}
}

func TestDryRunRecordsNothing(t *testing.T) {
	e := engine.New(loadGood(t), memStore(t, nil), engine.WithClock(func() time.Time { return at("2025-05-01T00:00:00+08:00") }))
	in := map[string]any{"account_id": "A", "request_id": "dry"}
	d, err := e.Decide(context.Background(), engine.Request{Decision: "demo.spend", AsOf: at("2025-05-01T00:00:00+08:00"), Input: in, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Commit.Committed || !d.Commit.DryRun {
		t.Fatalf("dry run committed: %+v", d.Commit)
	}
	d, err = e.Decide(context.Background(), engine.Request{Decision: "demo.spend", AsOf: at("2025-05-01T00:00:00+08:00"), Input: in})
	if err != nil {
		t.Fatal(err)
	}
	if d.Commit.Replayed || d.Outputs["used_before"] != "0" {
		t.Fatalf("a dry run must leave no trace: %+v used_before %v", d.Commit, d.Outputs["used_before"])
	}
}

func memStore(t testing.TB, rows store.Rows) store.Store {
	t.Helper()
	if rows == nil {
		rows = store.Rows{}
	}
	m, err := store.NewMemory(demoCatalog(t), rows)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func appendTo(m fstest.MapFS, name, text string) {
	m[name] = &fstest.MapFile{Data: append(append([]byte{}, m[name].Data...), text...)}
}

func replaceIn(m fstest.MapFS, name, old, new string) {
	s := string(m[name].Data)
	if !strings.Contains(s, old) {
		panic("replaceIn: " + name + " lacks " + old)
	}
	m[name] = &fstest.MapFile{Data: []byte(strings.Replace(s, old, new, 1))}
}

func TestCELEvaluationErrorNamesTheRule(t *testing.T) {
	tree := goodTree(t)
	replaceIn(tree, "policies/demo/cel_sum/v1/policy.cel.yaml", `condition: facts.account.tier != "gold"`, `condition: facts.account.nope != "gold"`)
	set, err := engine.Load(context.Background(), tree, engine.WithCatalog(demoCatalog(t)))
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(set, memStore(t, store.Rows{"demo_accounts": {{"id": "G1", "tier": "gold", "balance": "0"}}}))
	_, err = e.Decide(context.Background(), engine.Request{Decision: "demo.cel_sum", AsOf: at("2025-01-01T00:00:00Z"), Input: map[string]any{"account_id": "G1", "amount": "1"}})
	if engine.CodeOf(err) != engine.CodePolicyError || !strings.Contains(err.Error(), "rule DEMO-02") {
		t.Fatalf("want a policy_error naming rule DEMO-02, got %v", err)
	}
}

func TestSharedModulesArePartOfTheVersion(t *testing.T) {
	tree := goodTree(t)
	lib := "package arbiter.demo.lib\n\nminimum_override := \"1\"\n"
	tree["policies/demo/_lib/v1/lib.rego"] = &fstest.MapFile{Data: []byte(lib)}
	replaceIn(tree, "policies/demo/rego_sum/v1/manifest.yaml", "entrypoint: data.arbiter.demo.rego_sum.decision", "entrypoint: data.arbiter.demo.rego_sum.decision\nmodules: [demo/_lib/v1/lib.rego]")
	before, err := engine.Load(context.Background(), tree, engine.WithCatalog(demoCatalog(t)))
	if err != nil {
		t.Fatal(err)
	}
	tree["policies/demo/_lib/v1/lib.rego"] = &fstest.MapFile{Data: []byte(lib + "# changed\n")}
	after, err := engine.Load(context.Background(), tree, engine.WithCatalog(demoCatalog(t)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := before.Decision("demo.rego_sum")
	a, _ := after.Decision("demo.rego_sum")
	if b.Versions[0].Digest == a.Versions[0].Digest {
		t.Fatal("changing a shared module must change the digest of the versions that use it")
	}
	replaceIn(tree, "policies/demo/rego_sum/v1/manifest.yaml", "modules: [demo/_lib/v1/lib.rego]", "modules: [../outside.rego]")
	if _, err := engine.Load(context.Background(), tree, engine.WithCatalog(demoCatalog(t))); err == nil || !strings.Contains(err.Error(), "under policies/") {
		t.Fatalf("a module outside policies/ must be refused, got %v", err)
	}
}

func TestFactKeysFromOtherFacts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(fstest.MapFS)
		want   string
	}{
		{"unknown fact", func(m fstest.MapFS) {
			replaceIn(m, "policies/demo/tiered/v1/manifest.yaml", "{facts.account.tier}", "{facts.nope.tier}")
		}, `no fact "nope"`},
		{"a cycle", func(m fstest.MapFS) {
			replaceIn(m, "policies/demo/tiered/v1/manifest.yaml", `key: {id: "{input.account_id}"}`, `key: {id: "{facts.tier.tier}"}`)
		}, "depends on itself"},
		{"a list of rows", func(m fstest.MapFS) {
			replaceIn(m, "policies/demo/spend/v1/manifest.yaml", `used:
    provider: ledger.usage
    key: {key: "spend:{input.account_id}:{as_of:2006}"}`, `used:
    provider: ledger.usage
    key: {key: "spend:{input.account_id}:{as_of:2006}"}
  again:
    provider: ledger.usage
    key: {key: "{facts.used.key}"}`)
		}, "list of rows"},
		{"a lock from facts", func(m fstest.MapFS) {
			replaceIn(m, "policies/demo/spend/v1/manifest.yaml", `locks: ["spend:{input.account_id}:{as_of:2006}"]`, `locks: ["spend:{facts.used.key}"]`)
		}, "locks are taken before facts load"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := goodTree(t)
			tt.mutate(tree)
			_, err := engine.Load(context.Background(), tree, engine.WithCatalog(demoCatalog(t)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want a load problem containing %q, got %v", tt.want, err)
			}
		})
	}
}
