package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"arbiter/internal/testing/testserver"
)

// TestIncentiveClosedYearIsEvaluatedAfterItCloses asks for the 2024 growth incentive in February
// 2025, as a partner confirming last year's bill would (rules-partner.md §C.2 INC-09, §D CLAIM-02):
// the 2024 table and statement decide, pinned or not, and as_of stays the instant of the decision.
func TestIncentiveClosedYearIsEvaluatedAfterItCloses(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: testserver.Fixtures(t)})
	const asOf = "2025-02-15T10:00:00+08:00"
	input := map[string]any{"partner_id": "INC-P1", "policy_year": 2024}
	for _, version := range []string{"", "2024.1"} {
		t.Run("version="+version, func(t *testing.T) {
			body := map[string]any{"input": input, "as_of": asOf}
			if version != "" {
				body["version"] = version
			}
			r := testserver.Post(t, srv.Client, srv.URL, "/v1/decisions/incentive.growth", body)
			d := decodeEnvelope(t, r)
			if d.Outcome != "allow" || d.text("total_incentive") != `"22603.46"` || d.text("policy_year") != "2024" {
				t.Fatalf("%s total %s year %s, want allow 22603.46 for 2024\n%s", d.Outcome, d.text("total_incentive"), d.text("policy_year"), r.Raw)
			}
			var env struct {
				AsOf   time.Time `json:"as_of"`
				Tables []struct {
					Table   string     `json:"table"`
					Version string     `json:"version"`
					At      *time.Time `json:"at"`
				} `json:"tables"`
			}
			if err := json.Unmarshal(r.Raw, &env); err != nil {
				t.Fatal(err)
			}
			want, _ := time.Parse(time.RFC3339, asOf)
			if !env.AsOf.Equal(want) {
				t.Errorf("as_of %s, want %s", env.AsOf, asOf)
			}
			if len(env.Tables) != 1 || env.Tables[0].Version != "2024" || env.Tables[0].At == nil || env.Tables[0].At.Year() != 2024 {
				t.Errorf("tables %+v, want growth_policy 2024 chosen at a 2024 instant", env.Tables)
			}
		})
	}
	a := decide(srv.Client, srv.URL, "incentive.growth", map[string]any{"partner_id": "INC-P1", "policy_year": 2025}, asOf)
	if a.status != http.StatusUnprocessableEntity || a.code != "no_table_version" || !slices.Contains(a.fields, "input.policy_year") {
		t.Errorf("policy_year 2025: HTTP %d %s %v, want 422 no_table_version naming input.policy_year\n%s", a.status, a.code, a.fields, a.raw)
	}
}
