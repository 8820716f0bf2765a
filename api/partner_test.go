package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"arbiter/engine"
	"arbiter/internal/testing/testserver"
	"arbiter/store"
)

// Partner path exit and account cancellation beyond the catalog cases: the envelope over HTTP with facts
// in PostgreSQL, facts changed in the database seen by the next decision, the AMB-02 switch changed by
// adding a rule-table version and reloading, bad input as problems naming the field, the sample
// requests, and the benchmarks of the Rego decision.

const partnerAt = "2025-06-01T10:00:00+08:00"

// partnerRows returns the partner tables of the embedded fixtures.
func partnerRows(t testing.TB) store.Rows {
	t.Helper()
	all := testserver.Fixtures(t)
	rows := store.Rows{"partner_accounts": all["partner_accounts"], "partner_plans": all["partner_plans"]}
	if len(rows["partner_accounts"]) == 0 || len(rows["partner_plans"]) == 0 {
		t.Fatal("fixtures/partner.yaml has no accounts or no plans")
	}
	return rows
}

// partnerVerdict is the part of a partner envelope these tests read.
type partnerVerdict struct {
	Decision string `json:"decision"`
	Policy   struct {
		Version string `json:"version"`
		Digest  string `json:"digest"`
	} `json:"policy"`
	Tables []struct {
		Table   string `json:"table"`
		Version string `json:"version"`
	} `json:"tables"`
	AsOf    string `json:"as_of"`
	Outcome string `json:"outcome"`
	Reasons []struct {
		Code    string `json:"code"`
		Rule    string `json:"rule"`
		Message string `json:"message"`
	} `json:"reasons"`
	Outputs map[string]any `json:"outputs"`
}

func partnerDecide(t *testing.T, srv *testserver.Server, decision, account, asOf string) partnerVerdict {
	t.Helper()
	r := srv.Decide(t, decision, map[string]any{"account_id": account}, asOf)
	if r.Status != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d: %s", decision, account, r.Status, r.Raw)
	}
	var v partnerVerdict
	if err := json.Unmarshal(r.Raw, &v); err != nil {
		t.Fatalf("decode %s: %v", r.Raw, err)
	}
	return v
}

func (v partnerVerdict) codes() []string {
	var out []string
	for _, r := range v.Reasons {
		out = append(out, r.Code)
	}
	return out
}

func (v partnerVerdict) rules() []string {
	var out []string
	for _, r := range v.Reasons {
		out = append(out, r.Rule)
	}
	return out
}

func (v partnerVerdict) table(id string) string {
	for _, t := range v.Tables {
		if t.Table == id {
			return t.Version
		}
	}
	return ""
}

func TestPartnerPathExitOverHTTPWithPostgres(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: partnerRows(t)})

	free := partnerDecide(t, srv, "partner.path_exit", "PTN-A1", partnerAt)
	if free.Outcome != "allow" || len(free.Reasons) != 0 || free.Outputs["exit_allowed"] != true || free.Outputs["path"] != "software" {
		t.Errorf("PTN-A1: %s %v %v, want allow with exit_allowed on the software path", free.Outcome, free.codes(), free.Outputs)
	}

	blocked := partnerDecide(t, srv, "partner.path_exit", "PTN-A2", partnerAt)
	wantCodes := []string{"JOINED_PARTNER_PLAN", "ROLE_CERTIFIED", "HAS_TEST_VOUCHER"}
	if blocked.Outcome != "deny" || !slices.Equal(blocked.codes(), wantCodes) || !slices.Equal(blocked.rules(), []string{"EXIT-01", "EXIT-02", "EXIT-06"}) {
		t.Errorf("PTN-A2: %s %v %v, want deny %v from EXIT-01, EXIT-02, EXIT-06", blocked.Outcome, blocked.codes(), blocked.rules(), wantCodes)
	}
	for _, r := range blocked.Reasons {
		if r.Message == "" {
			t.Errorf("reason %s has no message", r.Code)
		}
	}
	if len(blocked.Reasons) > 0 && !strings.Contains(blocked.Reasons[0].Message, "pce") {
		t.Errorf("EXIT-01 message %q does not name the blocking plan", blocked.Reasons[0].Message)
	}
	if blocked.Outputs["exit_allowed"] != false {
		t.Errorf("exit_allowed = %v, want false", blocked.Outputs["exit_allowed"])
	}
	if blocked.Decision != "partner.path_exit" || blocked.Policy.Version != "2026.1" || blocked.Policy.Digest == "" || blocked.table("partner.exit") != "2020" {
		t.Errorf("envelope: %s %+v table %q, want partner.path_exit 2026.1 with a digest and partner.exit 2020", blocked.Decision, blocked.Policy, blocked.table("partner.exit"))
	}
	if at, err := time.Parse(time.RFC3339, blocked.AsOf); err != nil || !at.Equal(time.Date(2025, 6, 1, 10, 0, 0, 0, engine.Beijing)) {
		t.Errorf("as_of %q (%v), want the request's instant", blocked.AsOf, err)
	}

	cancel := partnerDecide(t, srv, "partner.account_cancel", "PTN-A3", partnerAt)
	if cancel.Outcome != "allow" || cancel.Outputs["cancel_allowed"] != true {
		t.Errorf("PTN-A3 cancel: %s %v, want allow (its cloud-reseller membership exited)", cancel.Outcome, cancel.codes())
	}
	onPath := partnerDecide(t, srv, "partner.account_cancel", "PTN-A1", partnerAt)
	if onPath.Outcome != "deny" || !slices.Equal(onPath.codes(), []string{"MUST_EXIT_PATH_FIRST"}) {
		t.Errorf("PTN-A1 cancel: %s %v, want deny MUST_EXIT_PATH_FIRST", onPath.Outcome, onPath.codes())
	}
}

// TestPartnerFactsAreReadFromPostgres changes rows in the database between decisions: each decision
// sees the rows as they are, without reload or restart.
func TestPartnerFactsAreReadFromPostgres(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: partnerRows(t)})
	ctx := context.Background()
	steps := []struct {
		name, sql, decision, account string
		outcome                      string
		codes                        []string
	}{
		{"PTN-A1 as seeded", "", "partner.path_exit", "PTN-A1", "allow", nil},
		{"joins PCE", `INSERT INTO partner_plans (account_id, plan, status) VALUES ('PTN-A1', 'pce', 'active')`,
			"partner.path_exit", "PTN-A1", "deny", []string{"JOINED_PARTNER_PLAN"}},
		{"leaves PCE", `UPDATE partner_plans SET status = 'exited' WHERE account_id = 'PTN-A1'`,
			"partner.path_exit", "PTN-A1", "allow", nil},
		{"PCE lapses (AMB-02: not exited, so it blocks)", `UPDATE partner_plans SET status = 'expired' WHERE account_id = 'PTN-A1'`,
			"partner.path_exit", "PTN-A1", "deny", []string{"JOINED_PARTNER_PLAN"}},
		{"draft MDF record", `UPDATE partner_accounts SET mdf_count = 1 WHERE id = 'PTN-A1'`,
			"partner.path_exit", "PTN-A1", "deny", []string{"JOINED_PARTNER_PLAN", "HAS_MDF"}},
		{"reseller exited", "", "partner.account_cancel", "PTN-A3", "allow", nil},
		{"reseller active again", `UPDATE partner_plans SET status = 'active' WHERE account_id = 'PTN-A3'`,
			"partner.account_cancel", "PTN-A3", "deny", []string{"CR_MEMBERSHIP_ACTIVE"}},
		{"reseller expired", `UPDATE partner_plans SET status = 'expired' WHERE account_id = 'PTN-A3'`,
			"partner.account_cancel", "PTN-A3", "allow", nil},
	}
	for _, s := range steps {
		if s.sql != "" {
			if _, err := srv.Postgres.Pool().Exec(ctx, s.sql); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		v := partnerDecide(t, srv, s.decision, s.account, partnerAt)
		if v.Outcome != s.outcome || !slices.Equal(v.codes(), s.codes) {
			t.Errorf("%s: %s %v, want %s %v", s.name, v.Outcome, v.codes(), s.outcome, s.codes)
		}
	}
}

// TestPartnerExitSwitchByNewTableVersion changes the AMB-02 reading the way a policy team does: the
// 2020 table gets an end and a 2027 version (only active memberships block) is added, then the set is
// reloaded. A lapsed PCE membership blocks one second before 2027 and no longer on its first second,
// under the same policy version.
func TestPartnerExitSwitchByNewTableVersion(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"facts", "policies/partner", "rules/partner"} {
		testserver.CopyTree(t, filepath.Join("..", filepath.FromSlash(sub)), filepath.Join(dir, filepath.FromSlash(sub)))
	}
	rows := store.Rows{
		"partner_accounts": {{"id": "PTN-X1", "path": "service", "path_stage": "joined"}},
		"partner_plans":    {{"account_id": "PTN-X1", "plan": "pce", "status": "expired"}},
	}
	srv := testserver.Start(t, testserver.Options{Rows: rows, PolicyDir: dir, AdminToken: "s3cret"})
	const before, after = "2026-12-31T23:59:59+08:00", "2027-01-01T00:00:00+08:00"
	if v := partnerDecide(t, srv, "partner.path_exit", "PTN-X1", after); v.Outcome != "deny" || v.table("partner.exit") != "2020" {
		t.Fatalf("before the new version: %s %v with table %q, want deny under 2020", v.Outcome, v.codes(), v.table("partner.exit"))
	}

	tableDir := filepath.Join(dir, "rules", "partner", "exit")
	old, err := os.ReadFile(filepath.Join(tableDir, "2020.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ended := strings.Replace(string(old), "valid_from: 2020-01-01T00:00:00+08:00\n", "valid_from: 2020-01-01T00:00:00+08:00\nvalid_to: 2027-01-01T00:00:00+08:00\n", 1)
	if ended == string(old) {
		t.Fatal("rules/partner/exit/2020.yaml has no valid_from line to end")
	}
	next := `table: partner.exit
version: "2027"
valid_from: 2027-01-01T00:00:00+08:00
description: Only active memberships block a path exit.
data:
  blocking_plan_statuses: [active]
  cancellable_reseller_statuses: [exited, expired]
  paths: [software, service, si, learning_enablement]
`
	if err := os.WriteFile(filepath.Join(tableDir, "2020.yaml"), []byte(ended), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tableDir, "2027.yaml"), []byte(next), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := do(t, http.MethodPost, srv.URL+"/v1/admin/reload", "", nil, "Authorization", "Bearer s3cret"); r.status != http.StatusOK {
		t.Fatalf("reload: HTTP %d: %s", r.status, r.raw)
	}

	last2026 := partnerDecide(t, srv, "partner.path_exit", "PTN-X1", before)
	first2027 := partnerDecide(t, srv, "partner.path_exit", "PTN-X1", after)
	if last2026.Outcome != "deny" || !slices.Equal(last2026.codes(), []string{"JOINED_PARTNER_PLAN"}) || last2026.table("partner.exit") != "2020" {
		t.Errorf("%s: %s %v under table %q, want deny JOINED_PARTNER_PLAN under 2020", before, last2026.Outcome, last2026.codes(), last2026.table("partner.exit"))
	}
	if first2027.Outcome != "allow" || first2027.table("partner.exit") != "2027" {
		t.Errorf("%s: %s %v under table %q, want allow under 2027", after, first2027.Outcome, first2027.codes(), first2027.table("partner.exit"))
	}
	if last2026.Policy != first2027.Policy {
		t.Errorf("policy changed across the table boundary: %+v vs %+v", last2026.Policy, first2027.Policy)
	}
}

func TestPartnerBadInputIsAProblemNamingTheField(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: partnerRows(t)})
	tests := []struct {
		name, decision string
		input          any
		code, field    string
	}{
		{"no account", "partner.path_exit", map[string]any{}, "invalid_input", "input.account_id"},
		{"empty account", "partner.path_exit", map[string]any{"account_id": ""}, "invalid_input", "input.account_id"},
		{"account as a number", "partner.path_exit", map[string]any{"account_id": 42}, "invalid_input", "input.account_id"},
		{"a caller cannot state the path", "partner.path_exit", map[string]any{"account_id": "PTN-A2", "path": "none"}, "invalid_input", "input.path"},
		{"a caller cannot send facts", "partner.path_exit", map[string]any{"account_id": "PTN-A2", "facts": map[string]any{"account": map[string]any{"role_certified_ever": false}}}, "invalid_input", "input.facts"},
		{"unknown account", "partner.path_exit", map[string]any{"account_id": "PTN-NOBODY"}, "fact_not_found", "input.account_id"},
		{"cancel an unknown account", "partner.account_cancel", map[string]any{"account_id": "PTN-NOBODY"}, "fact_not_found", "input.account_id"},
		{"cancel with plans stated", "partner.account_cancel", map[string]any{"account_id": "PTN-A3", "plans": []any{}}, "invalid_input", "input.plans"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectProblem(t, srv.Client, srv.URL, tt.decision, tt.input, partnerAt, tt.code, tt.field)
		})
	}
}

// TestPartnerSampleRequests posts every fixtures/requests/partner.*.json to a server holding the
// fixtures, as the curl examples do.
func TestPartnerSampleRequests(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: partnerRows(t)})
	want := map[string]struct {
		outcome string
		codes   []string
	}{
		"partner.path_exit":      {"deny", []string{"JOINED_PARTNER_PLAN", "ROLE_CERTIFIED", "HAS_TEST_VOUCHER"}},
		"partner.account_cancel": {"allow", nil},
	}
	files, err := filepath.Glob("../fixtures/requests/partner.*.json")
	if err != nil || len(files) != len(want) {
		t.Fatalf("sample requests %v (%v), want one per decision: %d", files, err, len(want))
	}
	for _, f := range files {
		decision := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(decision, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			w, ok := want[decision]
			if !ok {
				t.Fatalf("no expectation for %s", decision)
			}
			r := testserver.PostRaw(t, srv.Client, srv.URL, "/v1/decisions/"+decision, raw)
			var v partnerVerdict
			if r.Status != http.StatusOK || json.Unmarshal(r.Raw, &v) != nil {
				t.Fatalf("HTTP %d: %s", r.Status, r.Raw)
			}
			if v.Outcome != w.outcome || !slices.Equal(v.codes(), w.codes) {
				t.Errorf("%s: %s %v, want %s %v", decision, v.Outcome, v.codes(), w.outcome, w.codes)
			}
		})
	}
}

// BenchmarkPartnerPathExit decides path exit for the fixture account with three blockers in process
// (facts in memory and in PostgreSQL) and over HTTP against PostgreSQL:
// go test -run '^$' -bench BenchmarkPartnerPathExit -benchmem ./api
func BenchmarkPartnerPathExit(b *testing.B) {
	rows := partnerRows(b)
	srv := testserver.Start(b, testserver.Options{Rows: rows})
	mem, err := store.NewMemory(srv.Service.Engine.PolicySet().Catalog(), rows)
	if err != nil {
		b.Fatal(err)
	}
	asOf := time.Date(2025, 6, 1, 10, 0, 0, 0, engine.Beijing)
	for _, dec := range []struct{ decision, account, outcome string }{
		{"partner.path_exit", "PTN-A2", "deny"},
		{"partner.account_cancel", "PTN-A3", "allow"},
	} {
		req := engine.Request{Decision: dec.decision, Input: map[string]any{"account_id": dec.account}, AsOf: asOf}
		for _, s := range []struct {
			name string
			e    *engine.Engine
		}{
			{"memory", engine.New(srv.Service.Engine.PolicySet(), mem)},
			{"postgres", srv.Service.Engine},
		} {
			b.Run(dec.decision+"/"+s.name, func(b *testing.B) {
				d, err := s.e.Decide(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				if d.Outcome != dec.outcome {
					b.Fatalf("outcome %s, want %s", d.Outcome, dec.outcome)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := s.e.Decide(context.Background(), req); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(dec.decision+"/http", func(b *testing.B) {
			body, err := json.Marshal(map[string]any{"input": map[string]any{"account_id": dec.account}, "as_of": partnerAt})
			if err != nil {
				b.Fatal(err)
			}
			benchHTTP(b, srv.Client, srv.URL+"/v1/decisions/"+dec.decision, body)
		})
	}
}
