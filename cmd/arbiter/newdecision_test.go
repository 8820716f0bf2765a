package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"arbiter/internal/server"
	"arbiter/internal/testing/pgtest"
	"arbiter/internal/testing/testserver"
)

// A new domain written as files only: a fact table and its provider, fixture rows, a rule table, and
// a Rego policy with its manifest and cases. Nothing in it is known to the Go code.
var loyaltyDomain = map[string]string{
	"facts/loyalty.yaml": `tables:
  loyalty_members:
    primary_key: [id]
    columns:
      id: {type: text}
      tier: {type: text, default: basic}
      points: {type: int, default: 0}
      frozen: {type: bool, default: false}
providers:
  loyalty.member:
    table: loyalty_members
    by: [id]
    one: true
`,
	"fixtures/loyalty.yaml": `loyalty_members:
  - {id: LOY-M1, tier: gold, points: 12000}
  - {id: LOY-M2, points: 300}
  - {id: LOY-M3, tier: gold, points: 9000, frozen: true}
`,
	"rules/loyalty/redemption/schema.yaml": `type: object
additionalProperties: false
required: [points_per_yuan, minimum_points, gold_bonus_rate]
properties:
  points_per_yuan: {type: integer, minimum: 1}
  minimum_points: {type: integer, minimum: 0}
  gold_bonus_rate: {type: string, format: decimal}
`,
	"rules/loyalty/redemption/2025.yaml": `table: loyalty.redemption
version: "2025"
valid_from: 2025-01-01T00:00:00+08:00
description: 100 points a yuan, at least 1000 points, gold members 10% more.
data:
  points_per_yuan: 100
  minimum_points: 1000
  gold_bonus_rate: "0.10"
`,
	"policies/loyalty/redeem/v1/manifest.yaml": `decision: loyalty.redeem
version: v1
description: May a member turn points into cash, and for how much?
valid_from: 2025-01-01T00:00:00+08:00
language: rego
entrypoint: data.arbiter.loyalty.redeem.decision
rules: [LOY-01, LOY-02, LOY-03]
facts:
  member:
    provider: loyalty.member
    key: {id: "{input.member_id}"}
tables:
  redemption: loyalty.redemption
input_schema:
  type: object
  required: [member_id, points]
  additionalProperties: false
  properties:
    member_id: {type: string, minLength: 1}
    points: {type: integer, minimum: 1}
`,
	"policies/loyalty/redeem/v1/policy.rego": `package arbiter.loyalty.redeem

member := input.facts.member

table := input.rules.redemption

points := input.request.points

reasons contains {"code": "ACCOUNT_FROZEN", "rule": "LOY-01", "message": "The member's points are frozen."} if {
	member.frozen
}

reasons contains {"code": "BELOW_MINIMUM", "rule": "LOY-02", "message": sprintf("At least %d points are redeemed at once.", [table.minimum_points])} if {
	points < table.minimum_points
}

reasons contains {"code": "INSUFFICIENT_POINTS", "rule": "LOY-03", "message": sprintf("The member holds %d points.", [member.points])} if {
	points > member.points
}

default bonus := "0"

bonus := table.gold_bonus_rate if member.tier == "gold"

decision := {
	"reasons": reasons,
	"outputs": {
		"cash_value": dec.fixed(dec.mul(dec.div(points, table.points_per_yuan), dec.add("1", bonus)), 2),
		"remaining_points": member.points - points,
	},
}
`,
	"policies/loyalty/redeem/v1/tests.yaml": `cases:
  - name: LOY-02 LOY-03 a gold member redeems 2500 points for 25 yuan and 10% more
    as_of: 2025-06-01T10:00:00+08:00
    input: {member_id: LOY-M1, points: 2500}
    given:
      loyalty_members: [{id: LOY-M1, tier: gold, points: 12000}]
    want:
      outcome: allow
      reasons: []
      outputs: {cash_value: "27.50", remaining_points: 9500}
  - name: LOY-03 a member cannot redeem more than it holds
    as_of: 2025-06-01T10:00:00+08:00
    input: {member_id: LOY-M2, points: 1000}
    given:
      loyalty_members: [{id: LOY-M2, points: 300}]
    want:
      outcome: deny
      reasons: [INSUFFICIENT_POINTS]
      outputs: {cash_value: "10.00"}
  - name: LOY-02 fewer than the minimum points
    as_of: 2025-06-01T10:00:00+08:00
    input: {member_id: LOY-M2, points: 200}
    given:
      loyalty_members: [{id: LOY-M2, points: 300}]
    want:
      outcome: deny
      reasons: [BELOW_MINIMUM]
  - name: LOY-01 frozen points are not redeemed
    as_of: 2025-06-01T10:00:00+08:00
    input: {member_id: LOY-M3, points: 1000}
    given:
      loyalty_members: [{id: LOY-M3, tier: gold, points: 9000, frozen: true}]
    want:
      outcome: deny
      reasons: [ACCOUNT_FROZEN]
  - name: LOY-01 an unknown member is fact_not_found on the key's field
    as_of: 2025-06-01T10:00:00+08:00
    input: {member_id: LOY-NOBODY, points: 1000}
    want:
      error: fact_not_found
      fields: [input.member_id]
`,
}

// loyaltyTree copies the shipped facts/, policies/, rules/ and fixtures/ and adds the loyalty domain.
func loyaltyTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"facts", "policies", "rules", "fixtures"} {
		testserver.CopyTree(t, filepath.Join("..", "..", sub), filepath.Join(dir, sub))
	}
	for name, text := range loyaltyDomain {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// loyaltyAnswer is the part of a loyalty.redeem envelope the test reads.
type loyaltyAnswer struct {
	status  int
	outcome string
	codes   []string
	cash    any
	table   string
	policy  any
}

func redeemPoints(t *testing.T, client *http.Client, baseURL, member string, points int) loyaltyAnswer {
	t.Helper()
	r := testserver.Post(t, client, baseURL, "/v1/decisions/loyalty.redeem",
		map[string]any{"input": map[string]any{"member_id": member, "points": points}, "as_of": "2025-06-01T10:00:00+08:00"})
	a := loyaltyAnswer{status: r.Status}
	a.outcome, _ = r.Body["outcome"].(string)
	reasons, _ := r.Body["reasons"].([]any)
	for _, x := range reasons {
		a.codes = append(a.codes, x.(map[string]any)["code"].(string))
	}
	if out, ok := r.Body["outputs"].(map[string]any); ok {
		a.cash = out["cash_value"]
	}
	tables, _ := r.Body["tables"].([]any)
	for _, x := range tables {
		if m := x.(map[string]any); m["table"] == "loyalty.redemption" {
			a.table, _ = m["version"].(string)
		}
	}
	if p, ok := r.Body["policy"].(map[string]any); ok {
		a.policy = p["version"]
	}
	return a
}

// checkLoyaltyOverHTTP decides the fixture members over HTTP.
func checkLoyaltyOverHTTP(t *testing.T, client *http.Client, baseURL string) {
	t.Helper()
	for _, tt := range []struct {
		name, member string
		points       int
		outcome      string
		codes        []string
		cash         any
	}{
		{"gold member", "LOY-M1", 2500, "allow", nil, "27.50"},
		{"short of points", "LOY-M2", 1000, "deny", []string{"INSUFFICIENT_POINTS"}, "10.00"},
		{"frozen", "LOY-M3", 1000, "deny", []string{"ACCOUNT_FROZEN"}, "11.00"},
	} {
		a := redeemPoints(t, client, baseURL, tt.member, tt.points)
		if a.status != http.StatusOK || a.outcome != tt.outcome || !slices.Equal(a.codes, tt.codes) || a.cash != tt.cash || a.table != "2025" || a.policy != "v1" {
			t.Errorf("%s: %+v, want HTTP 200 %s %v cash %v under loyalty.redemption 2025 and policy v1", tt.name, a, tt.outcome, tt.codes, tt.cash)
		}
	}
	if a := redeemPoints(t, client, baseURL, "LOY-NOBODY", 1000); a.status != http.StatusUnprocessableEntity {
		t.Errorf("unknown member: HTTP %d, want 422", a.status)
	}
}

// TestNewDecisionFromFilesOnly adds a domain to a copy of the shipped tree without any Go change:
// `arbiter check` loads it, `arbiter test` passes its cases, and a server built on the tree answers
// the new decision over HTTP with facts from the tree's fixtures, in memory and in PostgreSQL (where
// `arbiter migrate` creates the new table from the tree's catalog and `arbiter seed` fills it).
func TestNewDecisionFromFilesOnly(t *testing.T) {
	dir := loyaltyTree(t)
	if code, out, errOut := runCLI(t, "check", "--policies", dir); code != 0 || !strings.Contains(out, "ok: ") {
		t.Fatalf("arbiter check: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, "test", "--policies", dir, "policies/loyalty")
	if code != 0 || !strings.Contains(out, "cases: 5 passed, 0 failed") {
		t.Fatalf("arbiter test: exit %d\n%s%s", code, out, errOut)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	t.Run("memory", func(t *testing.T) {
		svc, err := server.Build(context.Background(), server.Config{PolicyDir: dir, EvalTimeout: 5 * time.Second, MaxBodyBytes: 1 << 20}, logger)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(svc.Close)
		hs := httptest.NewServer(svc.Handler)
		t.Cleanup(hs.Close)
		checkLoyaltyOverHTTP(t, hs.Client(), hs.URL)
	})

	t.Run("postgres", func(t *testing.T) {
		url := pgtest.New(t) // migrated with the shipped catalog: the new table is not there yet
		ctx := context.Background()
		t.Setenv("DATABASE_URL", url)
		// migrate creates loyalty_members from the tree's catalog; seed loads the tree's fixtures.
		for _, cmd := range []string{"migrate", "seed"} {
			if code, out, errOut := runCLI(t, cmd, "--policies", dir); code != 0 {
				t.Fatalf("arbiter %s: exit %d\n%s%s", cmd, code, out, errOut)
			}
		}
		srv := testserver.Start(t, testserver.Options{DatabaseURL: url, PolicyDir: dir})
		checkLoyaltyOverHTTP(t, srv.Client, srv.URL)
		// The facts are PostgreSQL's: a change is seen by the next decision.
		if _, err := srv.Postgres.Pool().Exec(ctx, `UPDATE loyalty_members SET points = 2000 WHERE id = 'LOY-M1'`); err != nil {
			t.Fatal(err)
		}
		if a := redeemPoints(t, srv.Client, srv.URL, "LOY-M1", 2500); a.outcome != "deny" || !slices.Equal(a.codes, []string{"INSUFFICIENT_POINTS"}) {
			t.Errorf("after the update: %+v, want deny INSUFFICIENT_POINTS", a)
		}
	})
}
