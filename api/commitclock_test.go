package api_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"arbiter/internal/testing/testserver"
)

// TestCommitsAreDecidedAtTheServerClock runs a server whose clock reads 2025-10-14 18:00 (Beijing)
// with the default five-minute skew: a commit cannot be backdated, by as_of or by an input field.
func TestCommitsAreDecidedAtTheServerClock(t *testing.T) {
	now, _ := time.Parse(time.RFC3339, "2025-10-14T18:00:00+08:00")
	srv := testserver.Start(t, testserver.Options{Rows: yamlRows(t, mdfPartnerRows), CommitClockSkew: 5 * time.Minute,
		Clock: func() time.Time { return now }})
	late := func(id string) map[string]any {
		app := mdfApplication(id, "10000.00")
		app["activities"] = []any{map[string]any{"start_date": "2025-10-15", "end_date": "2025-10-15"}}
		return app
	}

	t.Run("a backdated as_of is refused", func(t *testing.T) {
		a := decide(srv.Client, srv.URL, "mdf.apply", late("MDF-CLK-1"), "2025-09-01T10:00:00+08:00")
		if a.status != http.StatusUnprocessableEntity || a.code != "as_of_not_now" || !slices.Contains(a.fields, "as_of") {
			t.Fatalf("HTTP %d %s %v, want 422 as_of_not_now naming as_of\n%s", a.status, a.code, a.fields, a.raw)
		}
	})
	t.Run("a submitted_at cannot stand in for the time of the act", func(t *testing.T) {
		app := late("MDF-CLK-2")
		app["submitted_at"] = "2025-09-01T10:00:00+08:00"
		a := decide(srv.Client, srv.URL, "mdf.apply", app, "2025-10-14T18:00:00+08:00")
		if a.status != http.StatusUnprocessableEntity || a.code != "invalid_input" || !slices.Contains(a.fields, "input.submitted_at") {
			t.Fatalf("HTTP %d %s %v, want 422 invalid_input naming input.submitted_at\n%s", a.status, a.code, a.fields, a.raw)
		}
	})
	for _, tt := range []struct{ name, asOf string }{
		{"without as_of", ""},
		{"with as_of two minutes behind the clock", "2025-10-14T17:58:00+08:00"},
	} {
		t.Run(tt.name+": submitted now, one day before the activity, it is late and consumes nothing", func(t *testing.T) {
			body := map[string]any{"input": late("MDF-CLK-3")}
			if tt.asOf != "" {
				body["as_of"] = tt.asOf
			}
			r := testserver.Post(t, srv.Client, srv.URL, "/v1/decisions/mdf.apply", body)
			var d struct {
				AsOf       time.Time `json:"as_of"`
				AsOfSource string    `json:"as_of_source"`
				Outcome    string    `json:"outcome"`
				Reasons    []struct {
					Code string `json:"code"`
				} `json:"reasons"`
				Outputs map[string]any `json:"outputs"`
			}
			if r.Status != http.StatusOK || json.Unmarshal(r.Raw, &d) != nil {
				t.Fatalf("HTTP %d: %s", r.Status, r.Raw)
			}
			if !d.AsOf.Equal(now) || d.AsOfSource != "server_clock" {
				t.Errorf("as_of %s (%s), want the server clock %s", d.AsOf, d.AsOfSource, now)
			}
			if d.Outcome != "refer" || len(d.Reasons) == 0 || d.Reasons[0].Code != "NEEDS_INFO_LATE_REASON" || d.Outputs["consumed"] != "0.00" {
				t.Errorf("%s %v consumed %v, want refer NEEDS_INFO_LATE_REASON consuming 0.00\n%s", d.Outcome, d.Reasons, d.Outputs["consumed"], r.Raw)
			}
		})
	}
	t.Run("a dry run records nothing and may ask about another instant", func(t *testing.T) {
		r := testserver.Post(t, srv.Client, srv.URL, "/v1/decisions/mdf.apply",
			map[string]any{"input": mdfApplication("MDF-CLK-4", "10000.00"), "as_of": mdfAsOf, "dry_run": true})
		if r.Status != http.StatusOK || r.Body["outcome"] != "allow" || r.Body["as_of_source"] != "request" {
			t.Fatalf("HTTP %d: %s", r.Status, r.Raw)
		}
	})
	// Every shipped commit decision: its sample body pins a 2025 instant far from this clock.
	for _, decision := range []string{"coupon.activate", "coupon.redeem", "coupon.release", "fh.grant", "mdf.apply", "qa.ask", "refund.request", "trial.order"} {
		t.Run("sample "+decision+" with its pinned as_of is refused", func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "fixtures", "requests", decision+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatal(err)
			}
			asOf, _ := body["as_of"].(string)
			if at, err := time.Parse(time.RFC3339, asOf); err != nil || at.Sub(now).Abs() <= 5*time.Minute {
				t.Skipf("sample as_of %q is not far from the test clock", asOf)
			}
			r := testserver.Post(t, srv.Client, srv.URL, "/v1/decisions/"+decision, body)
			if r.Status != http.StatusUnprocessableEntity || r.Body["code"] != "as_of_not_now" {
				t.Fatalf("HTTP %d %v, want 422 as_of_not_now\n%s", r.Status, r.Body["code"], r.Raw)
			}
		})
	}
}
