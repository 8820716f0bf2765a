package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"arbiter/internal/testing/testserver"
)

// Benefits desk beyond MDF and FH: the pooled voucher caps (voucher.apply) hold across two server
// processes on one database.

// voucherPartnerRows is a software partner at role certification with a certified solution: a
// 100,000.00 yearly test-voucher cap pooled over its solutions (VCH-03, VCH-04).
const voucherPartnerRows = `
benefit_partners:
  - {id: VCH-T1, legal_name: Xingchen Software Co. Ltd., business_info_certified: true}
benefit_partner_paths:
  - {partner_id: VCH-T1, path: software, stage: role_certified}
benefit_solutions:
  - {id: VCH-T1-A, partner_id: VCH-T1, kind: app_software, software_cert: cloud_software}
  - {id: VCH-T1-B, partner_id: VCH-T1, kind: app_software}
`

const voucherAsOf = "2025-06-02T10:00:00+08:00"

const voucherBudgetKey = "voucher_budget:VCH-T1:test:software:2025"

// voucherApplication is a test-voucher application of amount on one of the partner's two solutions.
func voucherApplication(id, solution, amount string) map[string]any {
	return map[string]any{
		"application_id": id, "partner_id": "VCH-T1", "kind": "test", "basis": "software", "year": 2025,
		"requested_amount": amount, "solution_ids": []string{solution},
		"resource_config_link": "https://www.huaweicloud.com/pricing/calculator.html#/shared/" + id,
	}
}

func TestVoucherCapIsNeverOverspentAcrossTwoProcesses(t *testing.T) {
	db, urls, client := startReplicas(t, yamlRows(t, voucherPartnerRows))
	// 16 applications of 25,000.00 on alternating solutions against one pooled 100,000.00 cap.
	rs := race(16, func(i int) reply {
		solution := []string{"VCH-T1-A", "VCH-T1-B"}[i%2]
		return decide(client, urls[i%2], "voucher.apply", voucherApplication(fmt.Sprintf("VCH-RACE-%02d", i), solution, "25000.00"), voucherAsOf)
	})
	if w := allowed(t, rs, "VCH_CAP_EXCEEDED"); len(w) != 4 {
		t.Errorf("%d applications allowed, want 4", len(w))
	}
	sums, count := ledgerSums(readLedger(t, db))
	if want := []string{voucherBudgetKey + "=100000"}; !sameLines(sums, want) || count[voucherBudgetKey] != 4 {
		t.Fatalf("ledger %v in %d entries, want %v in 4", sums, count[voucherBudgetKey], want)
	}
}

// matrixRow is one benefit row of a benefit.matrix answer.
type matrixRow struct {
	Rule     string  `json:"rule"`
	Basis    *string `json:"basis"`
	Kind     *string `json:"kind"`
	Status   string  `json:"status"`
	MayApply bool    `json:"may_apply"`
	Cap      *string `json:"cap"`
	Decision *string `json:"decision"`
	Lacks    []struct {
		Code string `json:"code"`
	} `json:"lacks"`
}

func (r matrixRow) lackCodes() []string {
	out := []string{}
	for _, l := range r.Lacks {
		out = append(out, l.Code)
	}
	return out
}

// eligibilityCodes are the reason codes of a benefit's own decision that say whether the partner may
// apply at all (as opposed to what this one application asks): the matrix lists exactly these.
var eligibilityCodes = map[string]map[string]bool{
	"mdf.application": set("MDF_NO_BUSINESS_INFO_CERT", "MDF_PARTNER_BANNED_FOR_YEAR", "MDF_NO_CAP_FOR_STAGE"),
	"voucher.application": set("VCH_NOT_ON_PATH", "VCH_STAGE_NOT_ELIGIBLE", "VCH_NO_CERTIFIED_SOLUTION",
		"VCH_CERTIFICATION_EXPIRED", "VCH_SPECIAL_TEST_ONLY", "VCH_SPECIAL_NOT_ELIGIBLE", "VCH_CAP_NOT_CONFIGURED"),
	"nre.application": set("GEN_NO_BUSINESS_INFO_CERT", "GEN_NO_CORPORATE_ACCOUNT", "NRE_CAP_NOT_CONFIGURED", "NRE_NOT_IN_PROGRAMME",
		"NRE_NOT_ACCESS_CERTIFIED", "NRE_SOLUTION_RELEASED", "NRE_ALREADY_APPLIED"),
	"capability.application": set("GEN_NO_BUSINESS_INFO_CERT", "GEN_NO_CORPORATE_ACCOUNT", "CAP_NOT_ROLE_CERTIFIED", "CAP_NOT_IN_PLAN",
		"CAP_PLAN_NOT_CONFIGURED", "CAP_BUDGET_NOT_CONFIGURED", "CAP_LABEL_NOT_IN_SCOPE", "CAP_LABEL_NOT_HELD",
		"CAP_LABEL_OUTSIDE_PLAN_YEAR", "CAP_LAPSED", "CAP_DUPLICATE"),
	"migration.application": set("GEN_NO_BUSINESS_INFO_CERT", "GEN_NO_CORPORATE_ACCOUNT", "MOD_PLAN_END_NOT_CONFIGURED",
		"MOD_PLAN_EXPIRED", "MOD_NOT_SOFTWARE_PATH", "MOD_NOT_IN_PLAN"),
	"delivery.filing": set("DEL_NOT_SERVICE_PARTNER"),
	"fh.application": set("FH_NO_BUSINESS_INFO_CERT", "FH_NOT_INVITED", "FH_AGREEMENT_NOT_SIGNED", "FH_NOT_IN_PLAN",
		"FH_PLAN_THRESHOLD_NOT_MET", "FH_LECTURER_THRESHOLD_NOT_MET"),
}

// partnerCodes are the eligibility codes of a decision judged per item (a solution, a label) that
// concern the partner rather than the item: every item's answer carries the same ones.
var partnerCodes = map[string]map[string]bool{
	"nre.application": set("GEN_NO_BUSINESS_INFO_CERT", "GEN_NO_CORPORATE_ACCOUNT", "NRE_CAP_NOT_CONFIGURED", "NRE_NOT_IN_PROGRAMME"),
	// FH capability building is entered per scenario (FH-20): one probe per scenario.
	"fh.application|svc_capability_2025": eligibilityCodes["fh.application"],
	"capability.application": set("GEN_NO_BUSINESS_INFO_CERT", "GEN_NO_CORPORATE_ACCOUNT", "CAP_NOT_ROLE_CERTIFIED", "CAP_NOT_IN_PLAN",
		"CAP_PLAN_NOT_CONFIGURED", "CAP_BUDGET_NOT_CONFIGURED"),
}

// noItemCodes are the matrix's own lacks of a per-item row: no item of the partner passes the item checks.
var noItemCodes = set("NRE_NO_ELIGIBLE_SOLUTION", "CAP_NO_OPEN_LABEL", "FH_NO_SCENARIO_ENTERED")

// fhScenarioNotEntered stands for FH-20's line finding, which shares its code with FH-30's partner finding.
const fhScenarioNotEntered = "FH-20:FH_PLAN_THRESHOLD_NOT_MET"

// eligibility returns the eligibility codes of a decision's answer (FH-20's line finding as fhScenarioNotEntered).
func eligibility(own envelope, decision string) []string {
	out := []string{}
	for _, r := range own.Reasons {
		switch {
		case decision == "fh.application" && r.Rule == "FH-20" && r.Code == "FH_PLAN_THRESHOLD_NOT_MET":
			out = append(out, fhScenarioNotEntered)
		case eligibilityCodes[decision][r.Code]:
			out = append(out, r.Code)
		}
	}
	return out
}

func set(codes ...string) map[string]bool {
	m := map[string]bool{}
	for _, c := range codes {
		m[c] = true
	}
	return m
}

// probes are the requests asked of a benefit's own decision for one matrix row: one minimal application
// of one cent on the row's basis (and kind), or, for a decision judged per item, one per item of the
// partner in the fixtures (its solutions of the programme, its capability labels).
func probes(fx map[string][]map[string]any, decision, partner, basis, kind string) []map[string]any {
	switch decision {
	case "mdf.application":
		return []map[string]any{{
			"application_id": "AGREE-1", "partner_id": partner, "funding_basis": basis, "budget_year": 2025,
			"activity_type": "CUST_EXCHANGE_SEMINAR", "audience": "customers", "approving_dept": "Marketing",
			"requested_amount": "0.01", "submitted_at": voucherAsOf, "solution_ids": []string{},
			"activities": []map[string]any{{"start_date": "2025-07-01", "end_date": "2025-07-01"}},
		}}
	case "voucher.application":
		return []map[string]any{{
			"application_id": "AGREE-1", "partner_id": partner, "kind": kind, "basis": basis, "year": 2025,
			"requested_amount": "0.01",
		}}
	case "nre.application":
		var out []map[string]any
		for _, s := range fx["benefit_solutions"] {
			if s["partner_id"] == partner && s["special_programme"] == basis {
				out = append(out, map[string]any{"application_id": "AGREE-1", "partner_id": partner, "solution_id": s["id"]})
			}
		}
		return out
	case "capability.application":
		labels := []any{"database"}
		for _, l := range fx["benefit_capability_labels"] {
			if l["partner_id"] == partner {
				labels = append(labels, l["label"])
			}
		}
		var out []map[string]any
		for _, l := range labels {
			out = append(out, map[string]any{"application_id": "AGREE-1", "partner_id": partner, "plan_year": 2025, "label": l, "requested_amount": "0.01"})
		}
		return out
	case "migration.application":
		return []map[string]any{{"partner_id": partner, "action": "apply"}}
	case "delivery.filing":
		return []map[string]any{{
			"partner_id": partner, "scenario": "consulting", "filing_date": "2025-06-01", "start_date": "2025-06-02",
			"end_date": "2025-06-30", "annual_new_cloud_spend": "0.00",
			"persons": []map[string]any{{"person_id": "AGREE-PM", "role": "project_manager"}},
		}}
	case "fh.application":
		line := map[string]any{"person_id": "AGREE-P"}
		switch kind {
		case "svc_expert_2024":
			line["person_type"] = "service_expert"
		case "svc_capability_2025":
			var out []map[string]any
			for _, sc := range []string{"database", "devsecops", "ascend_cloud", "pangu"} {
				out = append(out, map[string]any{"application_id": "AGREE-1", "partner_id": partner, "programme": kind, "month": "2025-06",
					"lines": []any{map[string]any{"person_id": "AGREE-P", "scenario": sc, "standards": []string{"AGREE"}}}})
			}
			return out
		case "si_presales":
			line["project_ids"] = []string{}
		case "lp_lecturer_dedicated":
			line["class_hours"], line["satisfaction"] = "0", "0"
		}
		return []map[string]any{{"application_id": "AGREE-1", "partner_id": partner, "programme": kind, "month": "2025-06", "lines": []any{line}}}
	}
	return nil
}

func filter(codes []string, keep map[string]bool) []string {
	out := []string{}
	for _, c := range codes {
		if keep[c] {
			out = append(out, c)
		}
	}
	return out
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// TestBenefitMatrixAgreesWithEachBenefitDecision asks benefit.matrix for every fixture partner and,
// for each row, asks the benefit's own decision: the cap and the reasons the partner may not apply must
// be the same. A decision judged per item (NRE per solution, capability per label) must carry the
// row's partner-level lacks on every item, and the row is open exactly when some item passes the item
// checks. A benefit the matrix does not list for the partner is one its decision refuses.
func TestBenefitMatrixAgreesWithEachBenefitDecision(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Fixtures: true})
	fx := map[string][]map[string]any{}
	for table, rows := range testserver.Fixtures(t) {
		fx[table] = rows
	}
	partners := fx["benefit_partners"]
	if len(partners) < 8 {
		t.Fatalf("%d fixture partners, want at least 8", len(partners))
	}
	asked := map[string]int{}
	for _, p := range partners {
		id := p["id"].(string)
		t.Run(id, func(t *testing.T) {
			m := decodeEnvelope(t, srv.Decide(t, "benefit.matrix", map[string]any{"partner_id": id, "year": 2025}, voucherAsOf))
			var rows []matrixRow
			if err := json.Unmarshal(m.Outputs["benefits"], &rows); err != nil {
				t.Fatal(err)
			}
			listed := map[string]bool{}
			for _, r := range rows {
				if r.Decision == nil {
					continue
				}
				d, basis, kind := *r.Decision, *r.Basis, ""
				if r.Kind != nil {
					kind = *r.Kind
				}
				listed[d+"|"+basis+"|"+kind] = true
				asked[d]++
				label := fmt.Sprintf("%s %s %s", r.Rule, basis, kind)
				lacks := r.lackCodes()
				var gots [][]string
				for _, req := range probes(fx, d, id, basis, kind) {
					own := decodeEnvelope(t, srv.Decide(t, d, req, voucherAsOf))
					gots = append(gots, eligibility(own, d))
					if d == "fh.application" {
						continue // FH answers per person, without a partner cap
					}
					matrixCap := "null"
					if r.Cap != nil {
						matrixCap = strconv.Quote(*r.Cap)
					}
					if ownCap := own.text("cap"); ownCap != matrixCap {
						t.Errorf("%s: matrix cap %s, %s cap %s", label, matrixCap, d, ownCap)
					}
				}
				anyClear := false
				for _, got := range gots {
					anyClear = anyClear || len(got) == 0
				}
				if r.MayApply != anyClear {
					t.Errorf("%s: matrix may_apply %v, %s says %v", label, r.MayApply, d, gots)
				}
				pc, perItem := partnerCodes[d]
				if d == "fh.application" && kind == "svc_capability_2025" {
					pc, perItem = partnerCodes[d+"|"+kind], true
				}
				if !perItem {
					if len(gots) != 1 || !sameLines(gots[0], lacks) {
						t.Errorf("%s: matrix lacks %v, %s says %v", label, lacks, d, gots)
					}
					continue
				}
				partnerLacks := []string{}
				for _, c := range lacks {
					if !noItemCodes[c] {
						partnerLacks = append(partnerLacks, c)
					}
				}
				open := false
				for _, got := range gots {
					if !sameLines(filter(got, pc), partnerLacks) {
						t.Errorf("%s: matrix partner lacks %v, %s says %v", label, partnerLacks, d, filter(got, pc))
					}
					open = open || subset(got, partnerLacks)
				}
				if hasNone := len(partnerLacks) != len(lacks); hasNone == open {
					t.Errorf("%s: matrix lacks %v, but %s on the partner's items says %v", label, lacks, d, gots)
				}
			}
			// A benefit missing from the matrix is one the partner may not apply for.
			var missing [][3]string
			for _, basis := range []string{"software", "service", "si", "lp"} {
				for _, dk := range [][2]string{{"mdf.application", ""}, {"voucher.application", "test"}, {"voucher.application", "exam"}, {"voucher.application", "lab"}} {
					missing = append(missing, [3]string{dk[0], basis, dk[1]})
				}
			}
			missing = append(missing, [3]string{"capability.application", "service", ""}, [3]string{"migration.application", "software", ""},
				[3]string{"delivery.filing", "service", ""})
			for _, s := range fx["benefit_solutions"] {
				if s["partner_id"] == id {
					prog, _ := s["special_programme"].(string)
					if !listed["nre.application|"+prog+"|"] {
						req := map[string]any{"application_id": "AGREE-1", "partner_id": id, "solution_id": s["id"]}
						if own := decodeEnvelope(t, srv.Decide(t, "nre.application", req, voucherAsOf)); own.Outcome != "deny" {
							t.Errorf("nre.application for %s (%q): not in the matrix but %s", s["id"], prog, own.Outcome)
						}
					}
				}
			}
			for _, m := range missing {
				if listed[m[0]+"|"+m[1]+"|"+m[2]] {
					continue
				}
				for _, req := range probes(fx, m[0], id, m[1], m[2]) {
					if own := decodeEnvelope(t, srv.Decide(t, m[0], req, voucherAsOf)); own.Outcome != "deny" {
						t.Errorf("%s on %s %s: not in the matrix but %s", m[0], m[1], m[2], own.Outcome)
					}
				}
			}
		})
	}
	// Every benefit family is asked at least once over the fixtures.
	for d := range eligibilityCodes {
		if asked[d] == 0 {
			t.Errorf("no fixture partner has a %s row", d)
		}
	}
}

// supportRows are a software partner in the Kunpeng programme with one access-certified unreleased
// solution (NRE once per solution), and a service partner in the 2025 capability-improvement plan
// holding four level-1 labels, with a filed project whose milestone M2 has had one change.
const supportRows = `
benefit_partners:
  - {id: SUP-T1, legal_name: Xinghe Software Co. Ltd., business_info_certified: true}
  - {id: SUP-T2, legal_name: Qianfan Services Co. Ltd., site: china, business_info_certified: true}
benefit_bank_accounts:
  - {partner_id: SUP-T1, account_id: BA-1, account_name: Xinghe Software Co. Ltd., corporate: true}
  - {partner_id: SUP-T2, account_id: BA-2, account_name: Qianfan Services Co. Ltd., corporate: true}
benefit_partner_paths:
  - {partner_id: SUP-T1, path: software, stage: role_certified}
  - {partner_id: SUP-T2, path: service, stage: role_certified}
benefit_partner_plans:
  - {partner_id: SUP-T1, plan: kunpeng}
  - {partner_id: SUP-T2, plan: svc_capability_improvement}
benefit_solutions:
  - {id: SUP-T1-K, partner_id: SUP-T1, kind: app_software, special_programme: kunpeng, access_certified: true}
benefit_capability_labels:
  - {partner_id: SUP-T2, label: database, granted_on: "2025-03-01"}
  - {partner_id: SUP-T2, label: big_data, granted_on: "2025-03-01"}
  - {partner_id: SUP-T2, label: devsecops, granted_on: "2025-03-01"}
  - {partner_id: SUP-T2, label: iot, granted_on: "2025-03-01"}
delivery_projects:
  - {id: SUP-T2-PRJ, partner_id: SUP-T2, scenario: poc, filing_date: "2025-05-10", start_date: "2025-05-12", end_date: "2025-12-31"}
delivery_milestones:
  - {project_id: SUP-T2-PRJ, id: M2, planned_date: "2025-11-28", changes: 1}
`

func TestNREOncePerSolutionAcrossTwoProcesses(t *testing.T) {
	db, urls, client := startReplicas(t, yamlRows(t, supportRows))
	// 10 different applications for the one solution: exactly one is recorded.
	rs := race(10, func(i int) reply {
		return decide(client, urls[i%2], "nre.apply", map[string]any{
			"application_id": fmt.Sprintf("NRE-RACE-%02d", i), "partner_id": "SUP-T1", "solution_id": "SUP-T1-K",
		}, voucherAsOf)
	})
	if w := allowed(t, rs, "NRE_ALREADY_APPLIED"); len(w) != 1 {
		t.Errorf("%d applications allowed, want 1", len(w))
	}
	sums, count := ledgerSums(readLedger(t, db))
	if want := []string{"nre_partner:SUP-T1=1"}; !sameLines(sums, want) || count["nre_partner:SUP-T1"] != 1 {
		t.Fatalf("ledger %v, want %v in one entry", sums, want)
	}
}

func TestCapabilityBudgetIsNeverOverspentAcrossTwoProcesses(t *testing.T) {
	// The plan budget is a configured figure (null as shipped): this test serves a tree whose 2025 plan
	// has a budget of 100,000.00 and sends 12 applications of 30,000.00 over four labels, three each.
	if testing.Short() {
		t.Skip("builds and starts two arbiter processes")
	}
	dir := treeWithCapabilityBudget(t, "100000.00")
	db := testserver.Start(t, testserver.Options{Rows: yamlRows(t, supportRows), PolicyDir: dir})
	env := []string{"DATABASE_URL=" + db.DatabaseURL, "ARBITER_POLICY_DIR=" + dir}
	a, b := testserver.StartProcessEnv(t, env...), testserver.StartProcessEnv(t, env...)
	urls, client := []string{a.URL, b.URL}, &http.Client{Timeout: 30 * time.Second}
	labels := []string{"database", "big_data", "devsecops", "iot"}
	rs := race(12, func(i int) reply {
		return decide(client, urls[i%2], "capability.apply", map[string]any{
			"application_id": fmt.Sprintf("CAP-RACE-%02d", i), "partner_id": "SUP-T2", "plan_year": 2025,
			"label": labels[i%4], "requested_amount": "30000.00",
		}, voucherAsOf)
	})
	won := 0
	for _, r := range rs {
		switch {
		case r.err != nil || r.status != http.StatusOK:
			t.Errorf("%s: HTTP %d %s %v", r.label, r.status, r.code, r.err)
		case r.outcome == "allow":
			won++
		case r.outcome != "deny" || (r.code != "CAP_DUPLICATE" && r.code != "CAP_BUDGET_EXHAUSTED"):
			t.Errorf("%s: %s %s, want allow or deny CAP_DUPLICATE / CAP_BUDGET_EXHAUSTED", r.label, r.outcome, r.code)
		}
	}
	if won != 3 {
		t.Errorf("%d applications allowed, want 3 (100,000.00 holds three of 30,000.00)", won)
	}
	sums, count := ledgerSums(readLedger(t, db.DatabaseURL))
	if want := []string{"cap_budget:2025=90000", "cap_partner:SUP-T2=3"}; !sameLines(sums, want) || count["cap_budget:2025"] != 3 {
		t.Fatalf("ledger %v, want %v", sums, want)
	}
}

// treeWithCapabilityBudget copies the shipped tree with the 2025 capability-improvement budget set, which
// the source leaves unstated and the shipped table leaves unset.
func treeWithCapabilityBudget(t *testing.T, budget string) string {
	t.Helper()
	dst := t.TempDir()
	for _, dir := range []string{"facts", "policies/benefit/_lib", "policies/capability", "rules/capability"} {
		testserver.CopyTree(t, "../"+dir, dst+"/"+dir)
	}
	writeFile(t, dst, "rules/capability/plan/2025.yaml", func(s string) string {
		if !strings.Contains(s, "budget: null") {
			t.Fatal("rules/capability/plan/2025.yaml no longer leaves the budget unset")
		}
		return strings.Replace(s, "budget: null", fmt.Sprintf("budget: %q", budget), 1)
	})
	return dst
}

func TestDeliveryPlanChangesAtMostThreeAcrossTwoProcesses(t *testing.T) {
	db, urls, client := startReplicas(t, yamlRows(t, supportRows))
	// M2 has had one change: of 8 concurrent changes, two more are allowed.
	rs := race(8, func(i int) reply {
		return decide(client, urls[i%2], "delivery.plan_change", map[string]any{
			"change_id": fmt.Sprintf("CHG-RACE-%02d", i), "partner_id": "SUP-T2", "project_id": "SUP-T2-PRJ",
			"milestone_id": "M2", "new_planned_date": "2025-12-19",
		}, voucherAsOf)
	})
	if w := allowed(t, rs, "DEL_CHANGE_LIMIT"); len(w) != 2 {
		t.Errorf("%d changes allowed, want 2", len(w))
	}
	sums, _ := ledgerSums(readLedger(t, db))
	if want := []string{"delivery_project:SUP-T2-PRJ=2"}; !sameLines(sums, want) {
		t.Fatalf("ledger %v, want %v", sums, want)
	}
}
