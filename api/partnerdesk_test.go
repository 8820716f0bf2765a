package api_test

import (
	"fmt"
	"testing"

	"arbiter/internal/testing/testserver"
	"arbiter/store"
)

// Partner-desk usage limits over PostgreSQL, also across two server processes on one database: one
// voucher per order and a voucher used once (partner.voucher_redeem), at most 3 customer unbind
// applications in 3 months (partner.unbind_request).

// deskRows holds customer C1 with the given standard vouchers, 1000.00 for ECS each.
func deskRows(vouchers []string) store.Rows {
	rows := store.Rows{"partner_desk_customers": {
		{"id": "C1", "created_at": "2024-01-01T10:00:00+08:00", "real_name_verified": true},
	}}
	for _, v := range vouchers {
		rows["partner_desk_vouchers"] = append(rows["partner_desk_vouchers"], map[string]any{
			"id": v, "issuer": "partner", "kind": "standard", "partner_id": "SP1", "customer_id": "C1",
			"amount": "1000.00", "purchase_type_scope": []any{"ecs"},
		})
	}
	return rows
}

func TestPartnerVoucherOnePerOrderAcrossTwoProcesses(t *testing.T) {
	db, urls, client := startReplicas(t, canonical(t, deskRows(numbered("V", 40))))
	rs := race(40, func(i int) reply {
		r := decide(client, urls[i%2], "partner.voucher_redeem", map[string]any{
			"order_id": "O1", "customer_id": "C1", "voucher_id": fmt.Sprintf("V%02d", i),
			"billing_mode": "yearly_monthly", "order_amount": "100.00", "purchase_type": "ecs",
		}, checkoutAt)
		r.label = fmt.Sprintf("V%02d O1", i)
		return r
	})
	w := allowed(t, rs, "ONE_VOUCHER_PER_ORDER")
	if len(w) != 1 {
		t.Fatalf("%d redemptions succeeded on one order, want exactly 1", len(w))
	}
	want := []string{"partner_order:O1=1", "partner_voucher:" + couponOf(w[0]) + "=1"}
	if got := ledgerLines(readLedger(t, db)); !sameLines(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}

func TestPartnerVoucherUsedOnceAcrossTwoProcesses(t *testing.T) {
	db, urls, client := startReplicas(t, canonical(t, deskRows([]string{"V1"})))
	rs := race(40, func(i int) reply {
		r := decide(client, urls[i%2], "partner.voucher_redeem", map[string]any{
			"order_id": fmt.Sprintf("O%02d", i), "customer_id": "C1", "voucher_id": "V1",
			"billing_mode": "yearly_monthly", "order_amount": "100.00", "purchase_type": "ecs",
		}, checkoutAt)
		r.label = fmt.Sprintf("V1 O%02d", i)
		return r
	})
	w := allowed(t, rs, "VOUCHER_USED")
	if len(w) != 1 {
		t.Fatalf("%d redemptions of one voucher succeeded, want exactly 1", len(w))
	}
	want := []string{"partner_voucher:V1=1", "partner_order:" + paymentOf(w[0]) + "=1"}
	if got := ledgerLines(readLedger(t, db)); !sameLines(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}

// Unbind applications (partner.unbind_request): at most 3 customer applications in a rolling 3 months.

func TestPartnerUnbindLimitAcrossTwoProcesses(t *testing.T) {
	rows := store.Rows{"partner_desk_customers": {{
		"id": "C1", "created_at": "2024-01-01T10:00:00+08:00", "real_name_verified": true,
		"associated_partner_id": "SP1", "association_mode": "resale",
	}}}
	db, urls, client := startReplicas(t, canonical(t, rows))
	rs := race(30, func(i int) reply {
		r := decide(client, urls[i%2], "partner.unbind_request", map[string]any{
			"request_id": fmt.Sprintf("U%02d", i), "customer_id": "C1", "kind": "unbind", "initiator": "customer",
		}, checkoutAt)
		r.label = fmt.Sprintf("U%02d", i)
		return r
	})
	w := allowed(t, rs, "UNBIND_LIMIT_3_PER_3_MONTHS")
	if len(w) != 3 {
		t.Fatalf("%d unbind applications succeeded, want exactly 3", len(w))
	}
	want := []string{"partner_unbind:C1=1", "partner_unbind:C1=1", "partner_unbind:C1=1"}
	if got := ledgerLines(readLedger(t, db)); !sameLines(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}

// TestPartnerUnbindRetryReplays checks a retried application is answered from the first commit and
// consumes nothing more, and that partner-initiated unbinds are not counted (AMB-04 (c)).
func TestPartnerUnbindRetryReplays(t *testing.T) {
	rows := store.Rows{"partner_desk_customers": {{
		"id": "C1", "created_at": "2024-01-01T10:00:00+08:00", "real_name_verified": true,
		"associated_partner_id": "SP1", "association_mode": "resale",
	}}}
	srv := testserver.Start(t, testserver.Options{Rows: canonical(t, rows)})
	apply := func(id, initiator string) reply {
		in := map[string]any{"request_id": id, "customer_id": "C1", "kind": "unbind", "initiator": initiator}
		if initiator == "partner" {
			in["account_check_passed"], in["reason"] = true, "wrong customer"
		}
		return decide(srv.Client, srv.URL, "partner.unbind_request", in, checkoutAt)
	}
	steps := []struct {
		name, id, initiator, outcome string
		replayed                     bool
	}{
		{name: "first", id: "U1", initiator: "customer", outcome: "allow"},
		{name: "retry of the first", id: "U1", initiator: "customer", outcome: "allow", replayed: true},
		{name: "second", id: "U2", initiator: "customer", outcome: "allow"},
		{name: "partner-initiated is not counted", id: "P1", initiator: "partner", outcome: "allow"},
		{name: "third", id: "U3", initiator: "customer", outcome: "allow"},
		{name: "fourth is over the limit", id: "U4", initiator: "customer", outcome: "deny"},
		{name: "partner-initiated still allowed", id: "P2", initiator: "partner", outcome: "allow"},
	}
	for _, s := range steps {
		r := apply(s.id, s.initiator)
		if r.status != 200 || r.outcome != s.outcome || r.replayed != s.replayed {
			t.Fatalf("%s: HTTP %d %s %s replayed=%v, want %s replayed=%v", s.name, r.status, r.outcome, r.code, r.replayed, s.outcome, s.replayed)
		}
	}
	want := []string{"partner_unbind:C1=1", "partner_unbind:C1=1", "partner_unbind:C1=1"}
	if got := ledgerLines(readLedger(t, srv.DatabaseURL)); !sameLines(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}
