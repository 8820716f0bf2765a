package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"arbiter/engine"
	"arbiter/store"
)

func TestCommitIsDecidedAtTheClock(t *testing.T) {
	now := at("2025-10-14T18:00:00+08:00")
	clock := func() time.Time { return now }
	in := func(id string) map[string]any { return map[string]any{"account_id": "A", "request_id": id} }
	tests := []struct {
		name       string
		skew       *time.Duration // nil: the default
		asOf       time.Time
		dryRun     bool
		wantCode   engine.Code
		wantAsOf   time.Time
		wantSource string
	}{
		{name: "no as_of: the clock", wantAsOf: now, wantSource: engine.AsOfFromClock},
		{name: "as_of the clock names", asOf: now, wantAsOf: now, wantSource: engine.AsOfFromClock},
		{name: "within the default skew: still the clock", asOf: now.Add(-4 * time.Minute), wantAsOf: now, wantSource: engine.AsOfFromClock},
		{name: "backdated six weeks", asOf: at("2025-09-01T10:00:00+08:00"), wantCode: engine.CodeAsOfNotNow},
		{name: "just past the default skew", asOf: now.Add(engine.DefaultCommitClockSkew + time.Second), wantCode: engine.CodeAsOfNotNow},
		{name: "a configured skew of one second", skew: ptr(time.Second), asOf: now.Add(-2 * time.Second), wantCode: engine.CodeAsOfNotNow},
		{name: "a dry run records nothing and may name another instant", asOf: at("2025-09-01T10:00:00+08:00"), dryRun: true, wantAsOf: at("2025-09-01T10:00:00+08:00"), wantSource: engine.AsOfFromRequest},
		{name: "a harness skew (negative) keeps the request's instant", skew: ptr(-time.Second), asOf: at("2025-09-01T10:00:00+08:00"), wantAsOf: at("2025-09-01T10:00:00+08:00"), wantSource: engine.AsOfFromRequest},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []engine.Option{engine.WithClock(clock)}
			if tt.skew != nil {
				opts = append(opts, engine.WithCommitClockSkew(*tt.skew))
			}
			e := engine.New(loadGood(t), memStore(t, nil), opts...)
			d, err := e.Decide(context.Background(), engine.Request{Decision: "demo.spend", AsOf: tt.asOf, DryRun: tt.dryRun, Input: in(string(rune('a' + i)))})
			if tt.wantCode != "" {
				var ee *engine.Error
				if !errors.As(err, &ee) || ee.Code != tt.wantCode || len(ee.Fields) != 1 || ee.Fields[0].Field != "as_of" {
					t.Fatalf("want %s naming as_of, got %v", tt.wantCode, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !d.AsOf.Equal(tt.wantAsOf) || d.AsOfSource != tt.wantSource {
				t.Errorf("as_of %s (%s), want %s (%s)", d.AsOf, d.AsOfSource, tt.wantAsOf, tt.wantSource)
			}
		})
	}
}

func TestNonCommitDecisionsKeepAnyAsOf(t *testing.T) {
	st := memStore(t, store.Rows{"demo_accounts": {{"id": "G1", "tier": "gold", "balance": "0"}}})
	e := engine.New(loadGood(t), st, engine.WithClock(func() time.Time { return at("2026-01-01T00:00:00+08:00") }))
	d, err := e.Decide(context.Background(), engine.Request{Decision: "demo.cel_sum", AsOf: at("2024-11-30T10:00:00+08:00"), Input: map[string]any{"account_id": "G1", "amount": "1.00"}})
	if err != nil {
		t.Fatalf("a question that records nothing was refused: %v", err)
	}
	if d.AsOfSource != engine.AsOfFromRequest || !d.AsOf.Equal(at("2024-11-30T10:00:00+08:00")) {
		t.Fatalf("as_of %s (%s), want the request's", d.AsOf, d.AsOfSource)
	}
}

func ptr[T any](v T) *T { return &v }

func TestHoldOnReferRecordsAReferredCommit(t *testing.T) {
	for _, hold := range []bool{false, true} {
		t.Run(map[bool]string{false: "without hold_on_refer a referral records nothing", true: "with hold_on_refer a referral records its entries"}[hold], func(t *testing.T) {
			tree := goodTree(t)
			replaceIn(tree, "policies/demo/spend/v1/policy.rego", `"message": "the yearly limit of 2 is used up"} if {
	dec.gte(used, "2")`, `"message": "a second spend waits for review", "effect": "refer"} if {
	dec.gte(used, "1")`)
			if hold {
				appendTo(tree, "policies/demo/spend/v1/manifest.yaml", "  hold_on_refer: true\n")
			}
			set, err := engine.Load(context.Background(), tree, engine.WithCatalog(demoCatalog(t)))
			if err != nil {
				t.Fatal(err)
			}
			e := engine.New(set, memStore(t, nil), engine.WithClock(func() time.Time { return at("2025-05-01T00:00:00+08:00") }))
			spend := func(id string) *engine.Decision {
				d, err := e.Decide(context.Background(), engine.Request{Decision: "demo.spend", Input: map[string]any{"account_id": "A", "request_id": id}})
				if err != nil {
					t.Fatal(err)
				}
				return d
			}
			if d := spend("1"); d.Outcome != "allow" || !d.Commit.Committed {
				t.Fatalf("first: %s %+v", d.Outcome, d.Commit)
			}
			second := spend("2")
			if second.Outcome != "refer" || second.Commit.Committed != hold || (len(second.Commit.Entries) > 0) != hold {
				t.Fatalf("second: %s committed %v entries %v, want refer committed=%v", second.Outcome, second.Commit.Committed, second.Commit.Entries, hold)
			}
			if again := spend("2"); again.Commit.Replayed != hold {
				t.Errorf("the referred request again: replayed %v, want %v", again.Commit.Replayed, hold)
			}
			want := map[bool]string{false: "1", true: "2"}[hold]
			if got := spend("3").Outputs["used_before"]; got != want {
				t.Errorf("used before the third: %v, want %s", got, want)
			}
		})
	}
}
