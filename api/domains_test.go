package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"arbiter"
	"arbiter/casetest"
	"arbiter/engine"
	"arbiter/internal/testing/testserver"
	"arbiter/store"
)

// Decisions over PostgreSQL beyond the golden answers: every tests.yaml case over HTTP, facts changed
// in the database seen by the next decision, a rule-table version chosen by as_of or added by a
// reload, and dates decided on the Beijing calendar.

// TestCatalogCasesOverHTTPWithPostgres runs every tests.yaml case of the shipped bundle through the
// real HTTP API with its facts in PostgreSQL: each case's rows replace the database's, then the
// decision is requested over HTTP and the answer checked like `arbiter test` checks it in memory.
func TestCatalogCasesOverHTTPWithPostgres(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	set := srv.Service.Engine.PolicySet()
	cases, err := casetest.Load(arbiter.Bundle(), set)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("the bundle has no cases")
	}
	ctx := context.Background()
	// Only the tables the previous case wrote are cleared: a TRUNCATE of every table per case
	// would cost more than all the decisions together.
	dirty := map[string]bool{"ledger_entries": true, "commits": true}
	for _, tc := range cases {
		t.Run(tc.File+"/"+tc.Name, func(t *testing.T) {
			if err := resetTables(ctx, srv, dirty, tc.Rows); err != nil {
				t.Fatalf("load rows: %v", err)
			}
			if tc.Tables != nil {
				// Rule-table overrides cannot be sent over HTTP; run in-process against the same database.
				if r := casetest.RunWith(ctx, set, tc, srv.Postgres); !r.Passed() {
					t.Fatalf("%s:%d: %v", tc.File, tc.Line, r.Failures)
				}
				return
			}
			body := map[string]any{"input": tc.Input, "as_of": tc.AsOf.Format(time.RFC3339Nano), "version": tc.Version}
			if tc.DryRun {
				body["dry_run"] = true
			}
			resp := testserver.Post(t, srv.Client, srv.URL, "/v1/decisions/"+tc.Decision, body)
			d, err := answer(resp)
			if failures := tc.Check(d, err); len(failures) > 0 {
				t.Fatalf("%s:%d: %v\n%s", tc.File, tc.Line, failures, resp.Raw)
			}
		})
	}
}

// resetTables deletes every row of the dirty tables, loads rows, and marks their tables dirty.
func resetTables(ctx context.Context, srv *testserver.Server, dirty map[string]bool, rows store.Rows) error {
	var stmts []string
	for table := range dirty {
		if _, given := rows[table]; !given {
			stmts = append(stmts, "DELETE FROM "+pgx.Identifier{table}.Sanitize())
		}
	}
	sort.Strings(stmts)
	if len(stmts) > 0 {
		if _, err := srv.Postgres.Pool().Exec(ctx, strings.Join(stmts, "; ")); err != nil {
			return err
		}
	}
	if err := srv.Postgres.Seed(ctx, rows); err != nil {
		return err
	}
	for table := range rows {
		dirty[table] = true
	}
	return nil
}

// answer turns an HTTP response into what Engine.Decide would have returned.
func answer(r testserver.Response) (*engine.Decision, error) {
	if r.Status != http.StatusOK {
		e := &engine.Error{Code: engine.Code(str(r.Body["code"])), Message: str(r.Body["detail"])}
		if list, ok := r.Body["errors"].([]any); ok {
			for _, it := range list {
				m, _ := it.(map[string]any)
				e.Fields = append(e.Fields, engine.FieldError{Field: str(m["field"]), Message: str(m["message"])})
			}
		}
		return nil, e
	}
	var d engine.Decision
	if err := json.Unmarshal(r.Raw, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

const partnerAt = "2025-06-01T10:00:00+08:00"

// TestFixturesOverPostgres runs, on one server over PostgreSQL seeded with fixtures/, checks that
// each touch their own domain's tables only.
func TestFixturesOverPostgres(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Fixtures: true})
	t.Run("partner facts are read from PostgreSQL", func(t *testing.T) { partnerFactsAreReadFromPostgres(t, srv) })
	t.Run("incentive as_of selects the yearly table", func(t *testing.T) { incentiveAsOfSelectsTheYearlyTable(t, srv) })
	t.Run("university balance is read from PostgreSQL", func(t *testing.T) { universityBalanceIsReadFromPostgres(t, srv) })
}

// partnerFactsAreReadFromPostgres changes rows in the database between decisions: each decision
// sees the rows as they are, without reload or restart.
func partnerFactsAreReadFromPostgres(t *testing.T, srv *testserver.Server) {
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
		e := decodeEnvelope(t, srv.Decide(t, s.decision, map[string]any{"account_id": s.account}, partnerAt))
		if e.Outcome != s.outcome || !slices.Equal(e.codes(), s.codes) {
			t.Errorf("%s: %s %v, want %s %v", s.name, e.Outcome, e.codes(), s.outcome, s.codes)
		}
	}
}

// TestPartnerExitSwitchByNewTableVersion changes the AMB-02 reading the way a policy team does: the
// 2020 table gets an end and a 2027 version (only active memberships block) is added, then the set is
// reloaded. A lapsed PCE membership blocks one second before 2027 and no longer on its first second,
// under the same policy version.
func TestPartnerExitSwitchByNewTableVersion(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"facts", "policies/partner", "rules/partner", "rules/calendar"} {
		testserver.CopyTree(t, filepath.Join("..", filepath.FromSlash(sub)), filepath.Join(dir, filepath.FromSlash(sub)))
	}
	rows := store.Rows{
		"partner_accounts": {{"id": "PTN-X1", "path": "service", "path_stage": "joined"}},
		"partner_plans":    {{"account_id": "PTN-X1", "plan": "pce", "status": "expired"}},
	}
	srv := testserver.Start(t, testserver.Options{Rows: rows, PolicyDir: dir, AdminToken: "s3cret"})
	const before, after = "2026-12-31T23:59:59+08:00", "2027-01-01T00:00:00+08:00"
	exit := func(asOf string) envelope {
		return decodeEnvelope(t, srv.Decide(t, "partner.path_exit", map[string]any{"account_id": "PTN-X1"}, asOf))
	}
	if e := exit(after); e.Outcome != "deny" || e.table("partner.exit") != "2020" {
		t.Fatalf("before the new version: %s %v with table %q, want deny under 2020", e.Outcome, e.codes(), e.table("partner.exit"))
	}
	writeFile(t, dir, "rules/partner/exit/2020.yaml", func(s string) string {
		ended := strings.Replace(s, "valid_from: 2020-01-01T00:00:00+08:00\n", "valid_from: 2020-01-01T00:00:00+08:00\nvalid_to: 2027-01-01T00:00:00+08:00\n", 1)
		if ended == s {
			t.Fatal("rules/partner/exit/2020.yaml has no valid_from line to end")
		}
		return ended
	})
	next := `table: partner.exit
version: "2027"
valid_from: 2027-01-01T00:00:00+08:00
description: Only active memberships block a path exit.
data:
  blocking_plan_statuses: [active]
  cancellable_reseller_statuses: [exited, expired]
  paths: [software, service, si, learning_enablement]
`
	if err := os.WriteFile(filepath.Join(dir, "rules", "partner", "exit", "2027.yaml"), []byte(next), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := do(t, http.MethodPost, srv.URL+"/v1/admin/reload", "", nil, "Authorization", "Bearer s3cret"); r.status != http.StatusOK {
		t.Fatalf("reload: HTTP %d: %s", r.status, r.raw)
	}
	last2026, first2027 := exit(before), exit(after)
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

// incentiveAsOfSelectsTheYearlyTable sends one request on both sides of the 2025 boundary: 2024
// has a published growth table; 2025 has none (an example is never served), so a 2025 request is a
// no_table_version problem rather than an invented answer. The 2024 answer itself is a golden.
func incentiveAsOfSelectsTheYearlyTable(t *testing.T, srv *testserver.Server) {
	input := map[string]any{"partner_id": "INC-G1"}
	before := decodeEnvelope(t, srv.Decide(t, "incentive.growth", input, "2024-12-31T23:59:59+08:00"))
	if before.table("incentive.growth_policy") != "2024" || before.Outcome != "allow" {
		t.Errorf("2024: %s under table %q, want allow under 2024", before.Outcome, before.table("incentive.growth_policy"))
	}
	after := srv.Decide(t, "incentive.growth", input, "2025-01-01T00:00:00+08:00")
	if after.Status != http.StatusUnprocessableEntity || after.Body["code"] != "no_table_version" {
		t.Errorf("2025: HTTP %d %v, want 422 no_table_version\n%s", after.Status, after.Body["code"], after.Raw)
	}
}

// TestUniversityValidityIsABeijingDate sends the instants on both sides of the last valid day with a
// UTC offset: a voucher issued on 1 March in Beijing (still 28 February in UTC) is valid through
// 1 June in Beijing, so 15:59:59Z on 1 June is inside and 16:00:00Z is outside.
func TestUniversityValidityIsABeijingDate(t *testing.T) {
	rows := store.Rows{
		"market_accounts": {{"id": "UNI-S9", "personal_real_name_verified": true}},
		"university_vouchers": {{"id": "UNI-V9", "student_account_id": "UNI-S9", "course_name": "数据库",
			"course_category": "general_computing", "amount": "300.00", "balance": "120.50", "issued_at": "2025-02-28T16:30:00Z"}},
	}
	srv := testserver.Start(t, testserver.Options{Rows: rows})
	input := map[string]any{"voucher_id": "UNI-V9", "account_id": "UNI-S9"}
	for _, tt := range []struct {
		asOf, outcome, expired string
	}{
		{"2025-06-01T15:59:59Z", "allow", "false"},
		{"2025-06-01T16:00:00Z", "deny", "true"},
	} {
		t.Run(tt.asOf, func(t *testing.T) {
			e := decodeEnvelope(t, srv.Decide(t, "university.voucher_check", input, tt.asOf))
			if e.Outcome != tt.outcome || e.text("expired") != tt.expired || e.text("valid_to") != `"2025-06-01"` {
				t.Fatalf("%s expired %s valid_to %s, want %s expired %s valid_to 2025-06-01",
					e.Outcome, e.text("expired"), e.text("valid_to"), tt.outcome, tt.expired)
			}
			if e.text("balance") != `"120.50"` {
				t.Errorf("balance %s, want \"120.50\"", e.text("balance"))
			}
		})
	}
}

// universityBalanceIsReadFromPostgres changes a voucher's NUMERIC balance in the database between
// decisions: one cent left is usable, none is exhausted, without any reload.
func universityBalanceIsReadFromPostgres(t *testing.T, srv *testserver.Server) {
	ctx := context.Background()
	input := map[string]any{"voucher_id": "UNI-V1", "account_id": "UNI-S1"}
	for _, tt := range []struct {
		balance, outcome, shown string
		reasons                 []string
	}{
		{"0.01", "allow", `"0.01"`, nil},
		{"0.00", "deny", `"0.00"`, []string{"BALANCE_EXHAUSTED", "STOP_AND_DELETE_RESOURCES"}},
		{"499.99", "allow", `"499.99"`, nil},
	} {
		if _, err := srv.Postgres.Pool().Exec(ctx, `UPDATE university_vouchers SET balance = $1::numeric WHERE id = 'UNI-V1'`, tt.balance); err != nil {
			t.Fatal(err)
		}
		e := decodeEnvelope(t, srv.Decide(t, "university.voucher_check", input, "2025-04-01T10:00:00+08:00"))
		if e.Outcome != tt.outcome || e.text("balance") != tt.shown || !slices.Equal(e.codes(), tt.reasons) {
			t.Errorf("balance %s: %s %v shown %s, want %s %v shown %s", tt.balance, e.Outcome, e.codes(), e.text("balance"), tt.outcome, tt.reasons, tt.shown)
		}
	}
}
