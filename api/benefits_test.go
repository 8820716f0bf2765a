package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"arbiter/engine"
	"arbiter/internal/loadtest"
	"arbiter/internal/testing/testserver"
	"arbiter/store"
)

// Partner-benefit decisions beyond the catalog cases: the MDF quota and the one-FH-per-period rule
// under concurrency (one server and two processes), retries, bad input over HTTP, and benchmarks.

var (
	benefitLoad     = flag.Bool("benefit-load", false, "run the fixed-rate benefit-decision load test")
	benefitRate     = flag.Int("benefit-rate", 200, "requests per second in the benefit load test")
	benefitDuration = flag.Duration("benefit-duration", 10*time.Second, "how long the benefit load test sends")
)

// mdfPartnerRows is a service-path partner at role certification: a 50,000.00 yearly MDF quota.
const mdfPartnerRows = `
benefit_partners:
  - {id: MDF-T1, legal_name: Yunfan Services Co. Ltd., business_info_certified: true}
benefit_partner_paths:
  - {partner_id: MDF-T1, path: service, stage: role_certified}
`

const mdfAsOf = "2025-09-08T10:00:00+08:00"

func mdfApplication(id, amount string) map[string]any {
	return map[string]any{
		"application_id": id, "partner_id": "MDF-T1", "funding_basis": "service", "budget_year": 2025,
		"activity_type": "CUST_EXCHANGE_SEMINAR", "audience": "customers", "approving_dept": "East China marketing",
		"requested_amount": amount,
		"activities":       []any{map[string]any{"start_date": "2025-09-22", "end_date": "2025-09-22"}},
	}
}

// benefitVerdict is one decision's answer over HTTP: the outcome and first reason code, or the problem code.
type benefitVerdict struct {
	status  int
	outcome string
	code    string
	id      string
}

// benefitDecide posts one benefit decision and keeps the request's id for messages.
func benefitDecide(client *http.Client, baseURL, decision string, input map[string]any, asOf string) benefitVerdict {
	a := decide(client, baseURL, decision, input, asOf)
	return benefitVerdict{status: a.status, outcome: a.outcome, code: a.code, id: fmt.Sprint(input["application_id"], "/", input["person_id"])}
}

// countAllowed checks every verdict is an allow or a deny with loserCode and returns the allowed ones.
func countAllowed(t *testing.T, vs []benefitVerdict, loserCode string) []benefitVerdict {
	t.Helper()
	var winners []benefitVerdict
	for _, v := range vs {
		switch {
		case v.status != http.StatusOK:
			t.Errorf("%s: HTTP %d %s", v.id, v.status, v.code)
		case v.outcome == "allow":
			winners = append(winners, v)
		case v.outcome != "deny" || v.code != loserCode:
			t.Errorf("%s: %s %s, want deny %s", v.id, v.outcome, v.code, loserCode)
		}
	}
	return winners
}

// benefitLedger sums the ledger by key and counts its entries.
func benefitLedger(t *testing.T, databaseURL string) (sums map[string]decimal.Decimal, entries map[string]int) {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rs, err := pool.Query(ctx, `SELECT key, amount::text FROM ledger_entries`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	sums, entries = map[string]decimal.Decimal{}, map[string]int{}
	for rs.Next() {
		var key, amount string
		if err := rs.Scan(&key, &amount); err != nil {
			t.Fatal(err)
		}
		d, err := decimal.NewFromString(amount)
		if err != nil {
			t.Fatal(err)
		}
		sums[key] = sums[key].Add(d)
		entries[key]++
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return sums, entries
}

const mdfBudgetKey = "mdf_budget:MDF-T1:service:2025"

// checkMDFQuotaSpentByFive checks that 5 of the 20 10,000.00 applications consumed the whole quota.
func checkMDFQuotaSpentByFive(t *testing.T, vs []benefitVerdict, databaseURL string) {
	t.Helper()
	if winners := countAllowed(t, vs, "MDF_CAP_EXCEEDED"); len(winners) != 5 {
		t.Fatalf("%d applications were committed, want exactly 5: %+v", len(winners), winners)
	}
	sums, entries := benefitLedger(t, databaseURL)
	if got := sums[mdfBudgetKey]; !got.Equal(decimal.RequireFromString("50000.00")) || entries[mdfBudgetKey] != 5 {
		t.Fatalf("ledger %s: %s in %d entries, want 50000.00 in 5", mdfBudgetKey, got, entries[mdfBudgetKey])
	}
	if len(sums) != 1 {
		t.Fatalf("ledger keys %v, want only %s", sums, mdfBudgetKey)
	}
}

func TestMDFQuotaIsNeverOverspentUnderConcurrency(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: yamlRows(t, mdfPartnerRows)})
	vs := race(20, func(i int) benefitVerdict {
		return benefitDecide(srv.Client, srv.URL, "mdf.apply", mdfApplication(fmt.Sprintf("MDF-RACE-%02d", i), "10000.00"), mdfAsOf)
	})
	checkMDFQuotaSpentByFive(t, vs, srv.DatabaseURL)
}

func TestMDFQuotaIsNeverOverspentAcrossTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts two arbiter processes")
	}
	db := testserver.Start(t, testserver.Options{Rows: yamlRows(t, mdfPartnerRows)})
	replicas := []*testserver.Process{testserver.StartProcess(t, db.DatabaseURL), testserver.StartProcess(t, db.DatabaseURL)}
	client := &http.Client{Timeout: 30 * time.Second}
	vs := race(20, func(i int) benefitVerdict {
		return benefitDecide(client, replicas[i%2].URL, "mdf.apply", mdfApplication(fmt.Sprintf("MDF-RACE-%02d", i), "10000.00"), mdfAsOf)
	})
	checkMDFQuotaSpentByFive(t, vs, db.DatabaseURL)
}

func TestMDFApplyRetryReturnsTheOriginalAnswer(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: yamlRows(t, mdfPartnerRows)})
	app := mdfApplication("MDF-RETRY", "30000.00")
	first := srv.Decide(t, "mdf.apply", app, mdfAsOf)
	again := srv.Decide(t, "mdf.apply", app, mdfAsOf)
	if first.Status != http.StatusOK || first.Body["outcome"] != "allow" || again.Status != http.StatusOK {
		t.Fatalf("HTTP %d %v then %d: %s %s", first.Status, first.Body["outcome"], again.Status, first.Raw, again.Raw)
	}
	if first.Body["decision_id"] != again.Body["decision_id"] {
		t.Errorf("a retry made a new decision %v, want the original %v", again.Body["decision_id"], first.Body["decision_id"])
	}
	if c, _ := again.Body["commit"].(map[string]any); c["replayed"] != true {
		t.Errorf("retry commit %v, want replayed", again.Body["commit"])
	}
	// The same application id with another amount is a conflict, not a second consumption.
	changed := srv.Decide(t, "mdf.apply", mdfApplication("MDF-RETRY", "20000.00"), mdfAsOf)
	if changed.Status != http.StatusConflict || changed.Body["code"] != "idempotency_conflict" {
		t.Errorf("changed retry: HTTP %d %v, want 409 idempotency_conflict\n%s", changed.Status, changed.Body["code"], changed.Raw)
	}
	// Checking the committed application again does not count it twice.
	planned := maps.Clone(app) // the check takes the planned submission time the commit takes from its clock
	planned["submitted_at"] = mdfAsOf
	check := srv.Decide(t, "mdf.application", planned, mdfAsOf)
	out, _ := check.Body["outputs"].(map[string]any)
	if check.Body["outcome"] != "allow" || out["used"] != "0.00" || out["already_committed"] != true {
		t.Errorf("re-check: %v used %v already_committed %v, want allow 0.00 true", check.Body["outcome"], out["used"], out["already_committed"])
	}
	sums, entries := benefitLedger(t, srv.DatabaseURL)
	if !sums[mdfBudgetKey].Equal(decimal.RequireFromString("30000")) || entries[mdfBudgetKey] != 1 {
		t.Fatalf("ledger %v %v, want one entry of 30000", sums, entries)
	}
}

// fhLecturerRows is a Learning & Enablement partner in the Funding Head plan with n lecturers, each
// qualified for both the development fund and the full-time fund of 2025-07.
func fhLecturerRows(n int) string {
	var b strings.Builder
	b.WriteString(`
benefit_partners:
  - {id: FH-T1, legal_name: Qiming Learning Co. Ltd., business_info_certified: true}
benefit_partner_paths:
  - {partner_id: FH-T1, path: lp, stage: differentiated}
fh_plan_memberships:
  - {partner_id: FH-T1, plan: lp_funding_head, joined_at: "2025-01-01"}
fh_persons:
`)
	for i := range n {
		fmt.Fprintf(&b, "  - {id: FH-T-L%02d, partner_id: FH-T1, project_specialist_path: lp, formal_labour_contract: true, employment_valid_from: \"2023-01-01\", social_security_city: wuhan, social_security_months: [\"2025-03\", \"2025-04\", \"2025-05\", \"2025-06\"], stamped_employment_cert: true}\n", i)
	}
	b.WriteString("fh_certificates:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {id: FH-T-C%02d, person_id: FH-T-L%02d, partner_id: FH-T1, code: HCCDP, kind: lecturer, obtained_on: \"2025-03-12\", valid_until: \"2027-03-11\"}\n", i, i)
	}
	return b.String()
}

// lecturerPolicyDir copies the benefit policies and rules with the FH-44 monthly regional limit set
// (10,000.00), which SRC leaves to the ecosystem manager and the shipped table leaves unset.
func lecturerPolicyDir(t testing.TB) string {
	t.Helper()
	dst := t.TempDir()
	for _, dir := range []string{"facts", "policies/_lib", "policies/mdf", "policies/fh", "rules/mdf", "rules/fh", "rules/calendar"} {
		src := filepath.Join("..", filepath.FromSlash(dir))
		err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel("..", p)
			target := filepath.Join(dst, rel)
			if info.IsDir() {
				return os.MkdirAll(target, 0o755)
			}
			raw, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if rel == filepath.Join("rules", "fh", "lecturer_funds", "2024.yaml") {
				raw = bytes.Replace(raw, []byte("default_monthly_limit: null"), []byte(`default_monthly_limit: "10000.00"`), 1)
			}
			return os.WriteFile(target, raw, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

const fhAsOf = "2025-07-10T10:00:00+08:00"

func fhGrant(person, programme string) map[string]any {
	in := map[string]any{"application_id": "FH-T-" + programme, "partner_id": "FH-T1", "programme": programme, "month": "2025-07", "person_id": person}
	if programme == "lp_lecturer_dedicated" {
		in["class_hours"], in["satisfaction"] = "48", "4.50"
	}
	return in
}

// TestFHOnePersonOneGrantPerPeriodUnderConcurrency sends, for each of 10 lecturers at once, the
// development fund (2025-07..08) and the full-time fund (2025-07) together: they overlap, so for
// every person exactly one is granted and the other is refused FH_EXCLUSIVE_PERIOD (FH-01).
func TestFHOnePersonOneGrantPerPeriodUnderConcurrency(t *testing.T) {
	const persons = 10
	srv := testserver.Start(t, testserver.Options{Rows: yamlRows(t, fhLecturerRows(persons)), PolicyDir: lecturerPolicyDir(t)})
	programmes := []string{"lp_lecturer_dev", "lp_lecturer_dedicated"}
	vs := race(2*persons, func(i int) benefitVerdict {
		return benefitDecide(srv.Client, srv.URL, "fh.grant", fhGrant(fmt.Sprintf("FH-T-L%02d", i/2), programmes[i%2]), fhAsOf)
	})
	for p := range persons {
		winners := countAllowed(t, vs[2*p:2*p+2], "FH_EXCLUSIVE_PERIOD")
		if len(winners) != 1 {
			t.Errorf("person FH-T-L%02d: %d grants, want exactly 1: %+v", p, len(winners), vs[2*p:2*p+2])
		}
	}
	sums, entries := benefitLedger(t, srv.DatabaseURL)
	for p := range persons {
		key := fmt.Sprintf("fh_person:FH-T-L%02d", p)
		if entries[key] != 1 {
			t.Errorf("%s has %d ledger entries, want 1", key, entries[key])
		}
		if s := sums[key]; !s.Equal(decimal.RequireFromString("20000")) && !s.Equal(decimal.RequireFromString("10000")) {
			t.Errorf("%s = %s, want one grant of 20000 (development) or 10000 (full-time)", key, s)
		}
	}
	if entries["fh_partner:FH-T1"] != persons {
		t.Errorf("fh_partner:FH-T1 has %d entries, want %d", entries["fh_partner:FH-T1"], persons)
	}
	// A later check of the losing programme sees the committed grant.
	r := srv.Decide(t, "fh.application", map[string]any{"application_id": "FH-T-CHECK", "partner_id": "FH-T1", "programme": "lp_lecturer_dedicated", "month": "2025-07",
		"lines": []any{map[string]any{"person_id": "FH-T-L00", "class_hours": "48", "satisfaction": "4.50"}}}, fhAsOf)
	if r.Body["outcome"] != "deny" || !strings.Contains(string(r.Raw), "FH_EXCLUSIVE_PERIOD") {
		t.Errorf("fh.application after the race: %v\n%s", r.Body["outcome"], r.Raw)
	}
}

// fhExpertRows is a service partner invited to the 2024 expert-service plan with one service expert.
const fhExpertRows = `
benefit_partners:
  - {id: FH-T2, legal_name: Haina Cloud Services Co. Ltd., business_info_certified: true}
benefit_partner_paths:
  - {partner_id: FH-T2, path: service, stage: differentiated}
fh_plan_memberships:
  - {partner_id: FH-T2, plan: svc_expert_2024, invited: true}
fh_persons:
  - {id: FH-T-S0, partner_id: FH-T2, project_specialist_path: service, formal_labour_contract: true, employment_valid_from: "2020-01-01", social_security_city: beijing, payroll_records: true, ict_years: 8, pmp: true, passed_expert_group_assessment: true}
`

// TestFHGrantAcrossTwoProcesses sends ten applications of the same person for Q3 2024 to two server
// processes on one database: exactly one is granted, every other is refused FH_EXCLUSIVE_PERIOD.
func TestFHGrantAcrossTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts two arbiter processes")
	}
	db := testserver.Start(t, testserver.Options{Rows: yamlRows(t, fhExpertRows)})
	replicas := []*testserver.Process{testserver.StartProcess(t, db.DatabaseURL), testserver.StartProcess(t, db.DatabaseURL)}
	client := &http.Client{Timeout: 30 * time.Second}
	vs := race(10, func(i int) benefitVerdict {
		in := map[string]any{"application_id": fmt.Sprintf("FH-T-APP-%02d", i), "partner_id": "FH-T2", "programme": "svc_expert_2024",
			"month": fmt.Sprintf("2024-%02d", 7+i%3), "person_id": "FH-T-S0", "person_type": "service_expert"}
		return benefitDecide(client, replicas[i%2].URL, "fh.grant", in, "2024-09-20T10:00:00+08:00")
	})
	if winners := countAllowed(t, vs, "FH_EXCLUSIVE_PERIOD"); len(winners) != 1 {
		t.Fatalf("%d grants, want exactly 1: %+v", len(winners), winners)
	}
	sums, entries := benefitLedger(t, db.DatabaseURL)
	if entries["fh_person:FH-T-S0"] != 1 || !sums["fh_person:FH-T-S0"].Equal(decimal.RequireFromString("180000")) {
		t.Fatalf("ledger %v %v, want one grant of 180000 for FH-T-S0", sums, entries)
	}
}

func TestBenefitsBadInputIsAProblemNamingTheField(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: yamlRows(t, mdfPartnerRows+`
mdf_applications:
  - {id: MDF-TA, partner_id: MDF-T1, funding_basis: service, budget_year: 2025, activity_type: CUST_EXCHANGE_SEMINAR, requested_amount: "1000.00", approval_completed_at: "2025-02-25T10:00:00+08:00"}
`)})
	with := func(base map[string]any, key string, value any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		if value == nil {
			delete(out, key)
		} else {
			out[key] = value
		}
		return out
	}
	app := mdfApplication("MDF-BAD", "1000.00")
	fh := map[string]any{"application_id": "FH-BAD", "partner_id": "FH-T1", "programme": "svc_expert_2024", "month": "2024-07",
		"lines": []any{map[string]any{"person_id": "P1", "person_type": "service_expert"}}}
	tests := []struct {
		name, decision string
		input          map[string]any
		code, field    string
	}{
		{"amount as a JSON number", "mdf.application", with(app, "requested_amount", 1000), "invalid_input", "input.requested_amount"},
		{"negative amount", "mdf.apply", with(app, "requested_amount", "-1000.00"), "invalid_input", "input.requested_amount"},
		{"over-precise amount", "mdf.apply", with(app, "requested_amount", "1000.001"), "invalid_input", "input.requested_amount"},
		{"missing application id", "mdf.apply", with(app, "application_id", nil), "invalid_input", "input.application_id"},
		{"unknown funding basis", "mdf.application", with(app, "funding_basis", "marketing"), "invalid_input", "input.funding_basis"},
		{"no activities", "mdf.application", with(app, "activities", []any{}), "invalid_input", "input.activities"},
		{"activity date not a date", "mdf.application", with(app, "activities", []any{map[string]any{"start_date": "22/09/2025", "end_date": "2025-09-22"}}), "invalid_input", "input.activities[0].start_date"},
		{"unknown partner", "mdf.apply", with(app, "partner_id", "MDF-NOBODY"), "fact_not_found", "input.partner_id"},
		{"unknown claim", "mdf.claim", map[string]any{"partner_id": "MDF-T1", "application_id": "MDF-TA", "claim_id": "MDF-NOPE"}, "fact_not_found", "input.claim_id"},
		{"unknown FH programme", "fh.application", with(fh, "programme", "fh_2026"), "invalid_input", "input.programme"},
		{"expert line without a person type", "fh.application", with(fh, "lines", []any{map[string]any{"person_id": "P1"}}), "invalid_input", "input.lines[0].person_type"},
		{"month 13", "fh.grant", map[string]any{"application_id": "FH-BAD", "partner_id": "FH-T1", "programme": "lp_lecturer_dev", "month": "2025-13", "person_id": "P1"}, "invalid_input", "input.month"},
		{"satisfaction as a number", "fh.grant", map[string]any{"application_id": "FH-BAD", "partner_id": "FH-T1", "programme": "lp_lecturer_dedicated", "month": "2025-07", "person_id": "P1", "class_hours": "48", "satisfaction": 4.5}, "invalid_input", "input.satisfaction"},
		{"quarter Q5", "fh.quarter_payment", map[string]any{"partner_id": "FH-T1", "quarter": "2024-Q5"}, "invalid_input", "input.quarter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectProblem(t, srv.Client, srv.URL, tt.decision, tt.input, mdfAsOf, tt.code, tt.field)
		})
	}
}

// benefitRequests are the sample requests of fixtures/requests for the benefit decisions that do
// not commit (a commit replays after its first call, which would measure the replay).
func benefitRequests(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, d := range []string{"mdf.application", "mdf.claim", "fh.application", "fh.quarter_payment"} {
		raw, err := os.ReadFile(filepath.Join("..", "fixtures", "requests", d+".json"))
		if err != nil {
			t.Fatal(err)
		}
		out[d] = raw
	}
	return out
}

func benefitEngineRequest(t testing.TB, decision string, raw []byte) engine.Request {
	t.Helper()
	var body struct {
		Input json.RawMessage `json:"input"`
		AsOf  time.Time       `json:"as_of"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(body.Input))
	dec.UseNumber()
	var input any
	if err := dec.Decode(&input); err != nil {
		t.Fatal(err)
	}
	return engine.Request{Decision: decision, Input: input, AsOf: body.AsOf}
}

// BenchmarkBenefitDecisions measures the benefit decisions on the fixtures in-process, with facts in
// memory and in PostgreSQL, and over HTTP against PostgreSQL.
func BenchmarkBenefitDecisions(b *testing.B) {
	srv := testserver.Start(b, testserver.Options{Fixtures: true})
	mem, err := store.NewMemory(srv.Service.Engine.PolicySet().Catalog(), testserver.Fixtures(b))
	if err != nil {
		b.Fatal(err)
	}
	memEngine := engine.New(srv.Service.Engine.PolicySet(), mem)
	for decision, raw := range benefitRequests(b) {
		req := benefitEngineRequest(b, decision, raw)
		for _, s := range []struct {
			name string
			e    *engine.Engine
		}{{"memory", memEngine}, {"postgres", srv.Service.Engine}} {
			b.Run(decision+"/"+s.name, func(b *testing.B) {
				if _, err := s.e.Decide(context.Background(), req); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := s.e.Decide(context.Background(), req); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(decision+"/http", func(b *testing.B) {
			url := srv.URL + "/v1/decisions/" + decision
			b.ReportAllocs()
			for b.Loop() {
				resp, err := srv.Client.Post(url, "application/json", bytes.NewReader(raw))
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("HTTP %d", resp.StatusCode)
				}
			}
		})
	}
}

// TestBenefitDecisionsLoad sends each benefit decision at a fixed rate through the real server with
// facts in PostgreSQL and reports latency percentiles. It measures, so it runs only when asked:
// go test -run TestBenefitDecisionsLoad ./api -args -benefit-load
func TestBenefitDecisionsLoad(t *testing.T) {
	if !*benefitLoad {
		t.Skip("measurement: pass -benefit-load")
	}
	srv := testserver.Start(t, testserver.Options{Fixtures: true})
	client := loadtest.Client()
	for decision, raw := range benefitRequests(t) {
		if r := testserver.PostRaw(t, srv.Client, srv.URL, "/v1/decisions/"+decision, raw); r.Status != http.StatusOK {
			t.Fatalf("%s: HTTP %d: %s", decision, r.Status, r.Raw)
		}
		target := loadtest.Target{URL: srv.URL + "/v1/decisions/" + decision, Bodies: [][]byte{raw}}
		loadtest.Run(context.Background(), client, target, *benefitRate/5, time.Second) // warm up
		res := loadtest.Run(context.Background(), client, target, *benefitRate, *benefitDuration)
		t.Logf("%s: %s", decision, res)
		if res.Failed > 0 {
			t.Errorf("%s: %d requests failed: %v", decision, res.Failed, res.Statuses)
		}
	}
}
