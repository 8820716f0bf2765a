package arbiter_test

import (
	"context"
	"testing"
	"time"

	"arbiter"
	"arbiter/engine"
	"arbiter/store"
)

// TestReferredFHApplicationHoldsThePeriodUntilReleased commits through the engine (in memory) what
// the FH desk sees (FH-01): a referred fh.grant records a hold, so a second overlapping application
// for the person is refused; once the desk rejects the first (fh.release), the second is granted.
func TestReferredFHApplicationHoldsThePeriodUntilReleased(t *testing.T) {
	ctx := context.Background()
	set, err := engine.Load(ctx, arbiter.Bundle(), engine.Only("policies/fh"))
	if err != nil {
		t.Fatal(err)
	}
	rows := store.Rows{
		"benefit_partners":      {{"id": "FH-SVC", "legal_name": "Yunfan Services Co. Ltd.", "business_info_certified": true}},
		"benefit_partner_paths": {{"partner_id": "FH-SVC", "path": "service", "stage": "role_certified"}},
		"fh_plan_memberships":   {{"partner_id": "FH-SVC", "plan": "svc_expert_2024", "invited": true}},
		"fh_persons": {{"id": "FH-P1", "partner_id": "FH-SVC", "project_specialist_path": "service", "formal_labour_contract": true,
			"employment_valid_from": "2020-01-01", "social_security_city": "tianjin", "payroll_records": true, "ict_years": int64(12),
			"pmp": true, "passed_expert_group_assessment": true}},
	}
	mem, err := store.NewMemory(set.Catalog(), rows)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mem.Close)
	now, _ := time.Parse(time.RFC3339, "2024-07-15T10:00:00+08:00")
	e := engine.New(set, mem, engine.WithClock(func() time.Time { return now }))
	decide := func(decision, app string) *engine.Decision {
		t.Helper()
		in := map[string]any{"application_id": app, "partner_id": "FH-SVC", "programme": "svc_expert_2024", "month": "2024-07", "person_id": "FH-P1"}
		if decision == "fh.grant" {
			in["person_type"] = "senior_consultant"
		}
		d, err := e.Decide(ctx, engine.Request{Decision: decision, Input: in})
		if err != nil {
			t.Fatalf("%s %s: %v", decision, app, err)
		}
		return d
	}
	codes := func(d *engine.Decision) []string {
		var out []string
		for _, r := range d.Reasons {
			out = append(out, r.Code)
		}
		return out
	}

	first := decide("fh.grant", "FH-APP-1")
	if first.Outcome != "refer" || first.Commit == nil || !first.Commit.Committed || len(first.Commit.Entries) != 2 {
		t.Fatalf("first: %s %v commit %+v, want a referral recorded as a hold", first.Outcome, codes(first), first.Commit)
	}
	second := decide("fh.grant", "FH-APP-2")
	if second.Outcome != "deny" || len(codes(second)) == 0 || codes(second)[0] != "FH_EXCLUSIVE_PERIOD" {
		t.Fatalf("second while the first is pending: %s %v, want deny FH_EXCLUSIVE_PERIOD", second.Outcome, codes(second))
	}
	if again := decide("fh.grant", "FH-APP-1"); !again.Commit.Replayed {
		t.Errorf("the referred application asked again: %+v, want its recorded answer replayed", again.Commit)
	}
	if rel := decide("fh.release", "FH-APP-1"); rel.Outcome != "allow" || !rel.Commit.Committed {
		t.Fatalf("release: %s %v, want allow, committed", rel.Outcome, codes(rel))
	}
	if rel := decide("fh.release", "FH-APP-2"); rel.Outcome != "deny" {
		t.Errorf("releasing an application that holds nothing: %s, want deny", rel.Outcome)
	}
	third := decide("fh.grant", "FH-APP-3")
	if third.Outcome != "refer" || !third.Commit.Committed {
		t.Fatalf("after the release: %s %v, want the period free (referred again for the region, and held)", third.Outcome, codes(third))
	}
}
