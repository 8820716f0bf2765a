package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"arbiter/engine"
	"arbiter/store"
)

// yearlyTree is the demo tree plus demo.yearly, whose rates table version is chosen by the year the
// request is for (input.year) rather than by as_of.
func yearlyTree(t testing.TB, at string) fstest.MapFS {
	tree := goodTree(t)
	dir := "policies/demo/yearly/v1/"
	tree[dir+"manifest.yaml"] = &fstest.MapFile{Data: []byte(`decision: demo.yearly
version: v1
description: The demo rate of the year the request is for.
valid_from: 2020-01-01T00:00:00+08:00
language: cel
rules: [DEMO-01]
facts:
  account:
    provider: demo.account
    key: {id: "{input.account_id}"}
tables:
  rates: {table: demo.rates, at: "` + at + `"}
input_schema:
  type: object
  required: [account_id]
  additionalProperties: false
  properties:
    account_id: {type: string, minLength: 1}
    year: {type: [integer, string]}
`)}
	tree[dir+"policy.cel.yaml"] = &fstest.MapFile{Data: []byte(`rules:
  - id: DEMO-01
    condition: dec(facts.account.balance) < dec(rules.rates.minimum)
    code: BELOW_MINIMUM
    message: '"below the minimum"'
outputs:
  - name: rate
    expression: rules.rates.rate
    always: true
`)}
	tree[dir+"tests.yaml"] = &fstest.MapFile{Data: []byte(`cases:
  - name: DEMO-01 the 2024 rate asked for in 2025
    as_of: 2025-01-01T00:00:00+08:00
    input: {account_id: G1, year: 2024}
    given:
      demo_accounts: [{id: G1, tier: gold, balance: "500"}]
    want: {outcome: allow, outputs: {rate: "0.1"}}
`)}
	return tree
}

func TestTableVersionChosenByAnInputDateAtTheYearBoundary(t *testing.T) {
	set, err := engine.Load(context.Background(), yearlyTree(t, "{input.year|as_of:2006}-12-31T23:59:59+08:00"), engine.WithCatalog(demoCatalog(t)))
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(set, memStore(t, store.Rows{"demo_accounts": {{"id": "G1", "tier": "gold", "balance": "500"}}}))
	tests := []struct {
		name        string
		asOf        string
		year        any // nil: not sent
		wantRate    string
		wantVersion string
		wantAt      string
		wantCode    engine.Code
		wantField   string
	}{
		{name: "last instant of 2024 for 2024", asOf: "2024-12-31T23:59:59+08:00", year: int64(2024), wantRate: "0.1", wantVersion: "2024", wantAt: "2024-12-31T23:59:59+08:00"},
		{name: "first instant of 2025 still for 2024", asOf: "2025-01-01T00:00:00+08:00", year: int64(2024), wantRate: "0.1", wantVersion: "2024", wantAt: "2024-12-31T23:59:59+08:00"},
		{name: "weeks into 2025 for 2024", asOf: "2025-02-15T10:00:00+08:00", year: int64(2024), wantRate: "0.1", wantVersion: "2024", wantAt: "2024-12-31T23:59:59+08:00"},
		{name: "first instant of 2025 for 2025", asOf: "2025-01-01T00:00:00+08:00", year: int64(2025), wantRate: "0.2", wantVersion: "2025", wantAt: "2025-12-31T23:59:59+08:00"},
		{name: "no year: the year of as_of in Beijing (UTC still 2024)", asOf: "2024-12-31T16:00:00Z", wantRate: "0.2", wantVersion: "2025", wantAt: "2025-12-31T23:59:59+08:00"},
		{name: "a year with no table version", asOf: "2025-01-01T00:00:00+08:00", year: int64(2023), wantCode: engine.CodeNoTableVersion, wantField: "input.year"},
		{name: "a year that makes no date", asOf: "2025-01-01T00:00:00+08:00", year: "24", wantCode: engine.CodeInvalidInput, wantField: "input.year"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := map[string]any{"account_id": "G1"}
			if tt.year != nil {
				input["year"] = tt.year
			}
			d, err := e.Decide(context.Background(), engine.Request{Decision: "demo.yearly", AsOf: at(tt.asOf), Input: input})
			if tt.wantCode != "" {
				var ee *engine.Error
				if !errors.As(err, &ee) || ee.Code != tt.wantCode || len(ee.Fields) == 0 || ee.Fields[0].Field != tt.wantField {
					t.Fatalf("want %s naming %s, got %v", tt.wantCode, tt.wantField, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Outputs["rate"]; got != tt.wantRate {
				t.Errorf("rate %v, want %s", got, tt.wantRate)
			}
			if len(d.Tables) != 1 || d.Tables[0].Version != tt.wantVersion || d.Tables[0].At == nil || !d.Tables[0].At.Equal(at(tt.wantAt)) {
				t.Errorf("tables %+v, want version %s chosen at %s", d.Tables, tt.wantVersion, tt.wantAt)
			}
			if !d.AsOf.Equal(at(tt.asOf)) {
				t.Errorf("as_of %s, want the request's %s: the table date does not move the decision instant", d.AsOf, tt.asOf)
			}
		})
	}
}

func TestTableAtWithoutFallbackNamesTheMissingField(t *testing.T) {
	set, err := engine.Load(context.Background(), yearlyTree(t, "{input.year}-12-31T00:00:00+08:00"), engine.WithCatalog(demoCatalog(t)))
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(set, memStore(t, store.Rows{"demo_accounts": {{"id": "G1", "tier": "gold", "balance": "500"}}}))
	_, err = e.Decide(context.Background(), engine.Request{Decision: "demo.yearly", AsOf: time.Now(), Input: map[string]any{"account_id": "G1"}})
	var ee *engine.Error
	if !errors.As(err, &ee) || ee.Code != engine.CodeInvalidInput || len(ee.Fields) == 0 || ee.Fields[0].Field != "input.year" {
		t.Fatalf("want invalid_input naming input.year, got %v", err)
	}
}

func TestTableAtFromAFactNamesTheFactField(t *testing.T) {
	set, err := engine.Load(context.Background(), yearlyTree(t, "{facts.account.tier}-12-31T00:00:00+08:00"), engine.WithCatalog(demoCatalog(t)))
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(set, memStore(t, store.Rows{"demo_accounts": {{"id": "G1", "tier": "gold", "balance": "500"}}}))
	_, err = e.Decide(context.Background(), engine.Request{Decision: "demo.yearly", AsOf: time.Now(), Input: map[string]any{"account_id": "G1"}})
	var ee *engine.Error
	if !errors.As(err, &ee) || ee.Code != engine.CodeInvalidInput || len(ee.Fields) == 0 || ee.Fields[0].Field != "facts.account.tier" {
		t.Fatalf("want invalid_input naming facts.account.tier, got %v", err)
	}
}

func TestTableAtLoadErrors(t *testing.T) {
	tests := []struct {
		name, at, want string
	}{
		{name: "bad placeholder", at: "{input.}-12-31T00:00:00+08:00", want: "empty path segment"},
		{name: "a literal date chooses nothing", at: "2024-12-31T00:00:00+08:00", want: "must take its date from the input or a fact"},
		{name: "a fact the manifest does not load", at: "{facts.nope.year}-12-31T00:00:00+08:00", want: `no fact "nope"`},
		{name: "as_of before an alternative", at: "{as_of:2006|input.year}-12-31T00:00:00+08:00", want: "must come last"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := engine.Load(context.Background(), yearlyTree(t, tt.at), engine.WithCatalog(demoCatalog(t)))
			var le *engine.LoadError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "tables.rates.at") {
				t.Fatalf("want a load problem on tables.rates.at containing %q, got %v", tt.want, err)
			}
		})
	}
	tree := yearlyTree(t, "{input.year}")
	replaceIn(tree, "policies/demo/yearly/v1/manifest.yaml", "table: demo.rates, at:", "table: demo.rates, when:")
	if _, err := engine.Load(context.Background(), tree, engine.WithCatalog(demoCatalog(t))); err == nil || !strings.Contains(err.Error(), "field when not found") {
		t.Fatalf("want an unknown-field problem, got %v", err)
	}
}
