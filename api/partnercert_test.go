package api_test

import (
	"fmt"
	"testing"

	"arbiter/internal/testing/testserver"
	"arbiter/store"
)

// The per-entity software test-voucher cap (partner.test_voucher_grant, SW-10) over PostgreSQL, also
// across two server processes on one database: the amounts granted to one legal entity never exceed the
// cap of the partner.certification table (100,000 CNY from 2025), whichever account applies.

// certEntityRows holds entity E1 with accounts A1 and A2, a cloud-software solution certified on
// 2025-01-15 (valid at checkoutAt) and the given amount granted before the ledger.
func certEntityRows(grantedBefore string) store.Rows {
	return store.Rows{
		"partner_entities": {{"uscc": "E1", "test_voucher_granted_before": grantedBefore}},
		"partner_account_profiles": {
			{"account_id": "A1", "uscc": "E1", "path": "software", "path_stage": "role_certified"},
			{"account_id": "A2", "uscc": "E1", "path": "software", "path_stage": "joined"},
		},
		"partner_solutions": {{
			"id": "S1", "uscc": "E1", "account_id": "A1", "kind": "cloud_software",
			"cert_status": "certified", "approved_at": "2025-01-15",
		}},
	}
}

func TestPartnerTestVoucherCapAcrossTwoProcesses(t *testing.T) {
	db, urls, client := startReplicas(t, canonical(t, certEntityRows("2000.00")))
	// 40 grants of 7,000.00 from both accounts against 98,000.00 left: exactly 14 fit.
	rs := race(40, func(i int) reply {
		r := decide(client, urls[i%2], "partner.test_voucher_grant", map[string]any{
			"grant_id": fmt.Sprintf("G%02d", i), "uscc": "E1", "account_id": fmt.Sprintf("A%d", 1+i%2),
			"requested_amount": "7000.00",
		}, checkoutAt)
		r.label = fmt.Sprintf("G%02d", i)
		return r
	})
	w := allowed(t, rs, "CAP_EXCEEDED")
	if len(w) != 14 {
		t.Fatalf("%d grants of 7000.00 succeeded against 98000.00 left, want exactly 14", len(w))
	}
	sums, count := ledgerSums(readLedger(t, db))
	if want := []string{"partner_test_voucher:E1=98000"}; !sameLines(sums, want) || count["partner_test_voucher:E1"] != 14 {
		t.Fatalf("ledger %v (%v entries), want %v in 14 entries", sums, count, want)
	}
}

// TestPartnerTestVoucherRetryReplays checks a retried grant is answered from the first commit and draws
// nothing more, a denied grant records nothing, and the cap is reached exactly.
func TestPartnerTestVoucherRetryReplays(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: canonical(t, certEntityRows("0"))})
	grant := func(id, account, amount string) reply {
		return decide(srv.Client, srv.URL, "partner.test_voucher_grant", map[string]any{
			"grant_id": id, "uscc": "E1", "account_id": account, "requested_amount": amount,
		}, checkoutAt)
	}
	steps := []struct {
		name, id, account, amount, outcome, code string
		replayed                                 bool
	}{
		{name: "first", id: "G1", account: "A1", amount: "60000.00", outcome: "allow"},
		{name: "retry of the first", id: "G1", account: "A1", amount: "60000.00", outcome: "allow", replayed: true},
		{name: "one cent over from the other account", id: "G2", account: "A2", amount: "40000.01", outcome: "deny", code: "CAP_EXCEEDED"},
		{name: "exactly the rest", id: "G3", account: "A2", amount: "40000.00", outcome: "allow"},
		{name: "nothing is left", id: "G4", account: "A1", amount: "0.01", outcome: "deny", code: "CAP_EXCEEDED"},
	}
	for _, s := range steps {
		r := grant(s.id, s.account, s.amount)
		if r.status != 200 || r.outcome != s.outcome || r.replayed != s.replayed || (s.code != "" && r.code != s.code) {
			t.Fatalf("%s: HTTP %d %s %s replayed=%v, want %s %s replayed=%v", s.name, r.status, r.outcome, r.code, r.replayed, s.outcome, s.code, s.replayed)
		}
	}
	want := []string{"partner_test_voucher:E1=60000", "partner_test_voucher:E1=40000"}
	if got := ledgerLines(readLedger(t, srv.DatabaseURL)); !sameLines(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}
