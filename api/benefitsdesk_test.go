package api_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

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
	"mdf.application": {"MDF_NO_BUSINESS_INFO_CERT": true, "MDF_PARTNER_BANNED_FOR_YEAR": true, "MDF_NO_CAP_FOR_STAGE": true},
	"voucher.application": {"VCH_NOT_ON_PATH": true, "VCH_STAGE_NOT_ELIGIBLE": true, "VCH_NO_CERTIFIED_SOLUTION": true,
		"VCH_CERTIFICATION_EXPIRED": true, "VCH_SPECIAL_TEST_ONLY": true, "VCH_SPECIAL_NOT_ELIGIBLE": true, "VCH_CAP_NOT_CONFIGURED": true},
}

// benefitRequest is a minimal application of one cent on the basis (and kind) of a matrix row.
func benefitRequest(decision, partner, basis, kind string) map[string]any {
	if decision == "mdf.application" {
		return map[string]any{
			"application_id": "AGREE-1", "partner_id": partner, "funding_basis": basis, "budget_year": 2025,
			"activity_type": "CUST_EXCHANGE_SEMINAR", "audience": "customers", "approving_dept": "Marketing",
			"requested_amount": "0.01", "submitted_at": voucherAsOf, "solution_ids": []string{},
			"activities": []map[string]any{{"start_date": "2025-07-01", "end_date": "2025-07-01"}},
		}
	}
	return map[string]any{
		"application_id": "AGREE-1", "partner_id": partner, "kind": kind, "basis": basis, "year": 2025,
		"requested_amount": "0.01",
	}
}

// TestBenefitMatrixAgreesWithEachBenefitDecision asks benefit.matrix for every fixture partner and,
// for each MDF and voucher row and each path the partner is not on, asks the benefit's own decision:
// the cap and the reasons the partner may not apply must be the same.
func TestBenefitMatrixAgreesWithEachBenefitDecision(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Fixtures: true})
	partners := testserver.Fixtures(t)["benefit_partners"]
	if len(partners) < 5 {
		t.Fatalf("%d fixture partners, want at least 5", len(partners))
	}
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
				kind := ""
				if r.Kind != nil {
					kind = *r.Kind
				}
				listed[*r.Decision+"|"+*r.Basis+"|"+kind] = true
				own := decodeEnvelope(t, srv.Decide(t, *r.Decision, benefitRequest(*r.Decision, id, *r.Basis, kind), voucherAsOf))
				var got []string
				for _, c := range own.codes() {
					if eligibilityCodes[*r.Decision][c] {
						got = append(got, c)
					}
				}
				if !sameLines(got, r.lackCodes()) {
					t.Errorf("%s %s %s: matrix lacks %v, %s says %v", r.Rule, *r.Basis, kind, r.lackCodes(), *r.Decision, got)
				}
				matrixCap := "null"
				if r.Cap != nil {
					matrixCap = strconv.Quote(*r.Cap)
				}
				if ownCap := own.text("cap"); ownCap != matrixCap {
					t.Errorf("%s %s %s: matrix cap %s, %s cap %s", r.Rule, *r.Basis, kind, matrixCap, *r.Decision, ownCap)
				}
				if r.MayApply != (len(got) == 0) {
					t.Errorf("%s %s %s: matrix may_apply %v with lacks %v", r.Rule, *r.Basis, kind, r.MayApply, got)
				}
			}
			// A path missing from the matrix is one the partner may not apply on.
			for _, basis := range []string{"software", "service", "si", "lp"} {
				for _, dk := range [][2]string{{"mdf.application", ""}, {"voucher.application", "test"}, {"voucher.application", "exam"}, {"voucher.application", "lab"}} {
					if listed[dk[0]+"|"+basis+"|"+dk[1]] {
						continue
					}
					own := decodeEnvelope(t, srv.Decide(t, dk[0], benefitRequest(dk[0], id, basis, dk[1]), voucherAsOf))
					if own.Outcome != "deny" {
						t.Errorf("%s on %s %s: not in the matrix but %s", dk[0], basis, dk[1], own.Outcome)
					}
				}
			}
		})
	}
}
