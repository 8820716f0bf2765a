package api_test

import (
	"fmt"
	"testing"
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
