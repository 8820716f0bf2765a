package api_test

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"

	"arbiter/engine"
	"arbiter/internal/testing/testserver"
	"arbiter/store"
)

// Commit decisions over PostgreSQL beyond the golden answers: limits hold under concurrent requests
// on one server and across two server processes on one database, retries replay without consuming
// twice, a reused idempotency key is a conflict, and what a commit recorded is seen by later decisions.

// Coupons (coupon.redeem, coupon.release).

// checkoutAt lies inside every test coupon's validity window.
const checkoutAt = "2025-02-01T12:00:00+08:00"

// couponRow is a valid, available coupon of merchant M1 for P1 and P2 (the §8.0 K1), with overrides.
func couponRow(id, owner string, over map[string]any) map[string]any {
	row := map[string]any{
		"id": id, "owner_account_id": owner, "issuer_merchant_id": "M1", "kind": "marketplace_activity",
		"acquisition": "self_claimed", "status": "available", "applicable_category": "general",
		"applicable_product_ids": []any{"P1", "P2"}, "billing_modes": []any{"monthly"}, "order_types": []any{"new"},
		"threshold_amount": "100.00", "face_value": "20.00",
		"valid_from": "2025-01-01T00:00:00+08:00", "valid_to": "2025-03-31T23:59:59+08:00",
	}
	for k, v := range over {
		row[k] = v
	}
	return row
}

// couponLineRow is a monthly marketplace line of payment on order.
func couponLineRow(id, payment, order, product, merchant, amount string, over map[string]any) map[string]any {
	row := map[string]any{
		"id": id, "payment_id": payment, "order_id": order, "product_id": product, "sku_id": product + "-STD",
		"merchant_id": merchant, "product_category": "general", "billing_mode": "monthly", "region": "cn-north-4",
		"payable_amount": amount,
	}
	for k, v := range over {
		row[k] = v
	}
	return row
}

// addCouponPayment adds a new self-paid payment of payer with one order holding lines.
func addCouponPayment(rows store.Rows, id, payer string, lines ...map[string]any) {
	rows["coupon_payments"] = append(rows["coupon_payments"], map[string]any{"id": id, "payer_account_id": payer})
	rows["coupon_payment_orders"] = append(rows["coupon_payment_orders"], map[string]any{"id": "O-" + id, "payment_id": id, "account_id": payer, "order_type": "new", "payer_type": "self"})
	rows["coupon_payment_lines"] = append(rows["coupon_payment_lines"], lines...)
}

// couponRows holds accounts A1 and A2, the given coupons of A1 and payments of A1 of one 150.00 P1 line.
func couponRows(coupons, payments []string) store.Rows {
	rows := store.Rows{"market_accounts": {
		{"id": "A1", "personal_real_name_verified": true},
		{"id": "A2", "personal_real_name_verified": true},
	}}
	for _, k := range coupons {
		rows["coupons"] = append(rows["coupons"], couponRow(k, "A1", nil))
	}
	for _, p := range payments {
		addCouponPayment(rows, p, "A1", couponLineRow("L-"+p, p, "O-"+p, "P1", "M1", "150.00", nil))
	}
	return rows
}

func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

// redeem posts a coupon.redeem labelled "<coupon> <payment>".
func redeem(client *http.Client, baseURL, coupon, payment string) reply {
	r := decide(client, baseURL, "coupon.redeem", map[string]any{"coupon_id": coupon, "payment_id": payment}, checkoutAt)
	r.label = coupon + " " + payment
	return r
}

// paymentOf and couponOf return what a redemption was for.
func paymentOf(r reply) string { return strings.Fields(r.label)[1] }

func couponOf(r reply) string { return strings.Fields(r.label)[0] }

func TestCouponSingleUseUnderConcurrency(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: canonical(t, couponRows([]string{"K1"}, numbered("PAY", 50)))})
	rs := race(50, func(i int) reply { return redeem(srv.Client, srv.URL, "K1", fmt.Sprintf("PAY%02d", i)) })
	w := allowed(t, rs, "COUPON_USED")
	if len(w) != 1 {
		t.Fatalf("%d redemptions succeeded, want exactly 1: %+v", len(w), w)
	}
	want := []string{"coupon:K1=1", "payment:" + paymentOf(w[0]) + "=1"}
	if got := ledgerLines(readLedger(t, srv.DatabaseURL)); !sameLines(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}

func TestCouponOnePerPaymentUnderConcurrency(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: canonical(t, couponRows(numbered("K", 50), []string{"PAY1"}))})
	rs := race(50, func(i int) reply { return redeem(srv.Client, srv.URL, fmt.Sprintf("K%02d", i), "PAY1") })
	w := allowed(t, rs, "MULTIPLE_COUPONS_IN_PAYMENT")
	if len(w) != 1 {
		t.Fatalf("%d redemptions succeeded, want exactly 1: %+v", len(w), w)
	}
	want := []string{"coupon:" + couponOf(w[0]) + "=1", "payment:PAY1=1"}
	if got := ledgerLines(readLedger(t, srv.DatabaseURL)); !sameLines(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}

func TestCouponSingleUseAcrossTwoProcesses(t *testing.T) {
	db, urls, client := startReplicas(t, canonical(t, couponRows([]string{"K1"}, numbered("PAY", 50))))
	rs := race(50, func(i int) reply { return redeem(client, urls[i%2], "K1", fmt.Sprintf("PAY%02d", i)) })
	w := allowed(t, rs, "COUPON_USED")
	if len(w) != 1 {
		t.Fatalf("%d redemptions succeeded, want exactly 1: %+v", len(w), w)
	}
	want := []string{"coupon:K1=1", "payment:" + paymentOf(w[0]) + "=1"}
	if got := ledgerLines(readLedger(t, db)); !sameLines(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}

// TestCouponRedeemAndRelease walks a coupon through redemption, a retry, a refusal, releases and a
// second redemption, and checks the ledger holds every movement once.
func TestCouponRedeemAndRelease(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: canonical(t, couponRows([]string{"K1"}, []string{"PAY1", "PAY2"}))})
	const at = "2025-02-03T12:00:00+08:00"
	steps := []struct {
		name, decision string
		input          map[string]any
		outcome, code  string
		replayed       bool
	}{
		{"redeem on PAY1", "coupon.redeem", map[string]any{"coupon_id": "K1", "payment_id": "PAY1"}, "allow", "", false},
		{"a retry replays", "coupon.redeem", map[string]any{"coupon_id": "K1", "payment_id": "PAY1"}, "allow", "", true},
		{"used for PAY2", "coupon.redeem", map[string]any{"coupon_id": "K1", "payment_id": "PAY2"}, "deny", "COUPON_USED", false},
		{"negotiated refund keeps it spent", "coupon.release", map[string]any{"coupon_id": "K1", "payment_id": "PAY1", "event": "negotiated"}, "deny", "COUPON_NOT_RETURNED", false},
		{"five-day refund returns it", "coupon.release", map[string]any{"coupon_id": "K1", "payment_id": "PAY1", "event": "five_day_no_reason"}, "allow", "", false},
		{"a second return finds nothing", "coupon.release", map[string]any{"coupon_id": "K1", "payment_id": "PAY1", "event": "payment_cancelled"}, "deny", "COUPON_NOT_REDEEMED", false},
		{"then it pays PAY2", "coupon.redeem", map[string]any{"coupon_id": "K1", "payment_id": "PAY2"}, "allow", "", false},
	}
	first := ""
	for _, s := range steps {
		r := decide(srv.Client, srv.URL, s.decision, s.input, at)
		if r.status != http.StatusOK || r.outcome != s.outcome || r.code != s.code || r.replayed != s.replayed {
			t.Fatalf("%s: HTTP %d %s %q replayed %v, want %s %q replayed %v\n%s", s.name, r.status, r.outcome, r.code, r.replayed, s.outcome, s.code, s.replayed, r.raw)
		}
		if first == "" {
			first = r.decisionID
		} else if s.replayed && r.decisionID != first {
			t.Fatalf("%s: decision %s, want the original %s", s.name, r.decisionID, first)
		}
	}
	want := []string{"coupon:K1=-1", "coupon:K1=1", "coupon:K1=1", "payment:PAY1=-1", "payment:PAY1=1", "payment:PAY2=1"}
	if got := ledgerLines(readLedger(t, srv.DatabaseURL)); !sameLines(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}

// Self-service refunds (refund.request): ten a year per account, counted in Beijing years.

// refundNow is the §8.0 refund evaluation time: every test instance was provisioned two days earlier.
const refundNow = "2025-06-10T12:00:00+08:00"

// refundAccount is A1 with the §8.0 P1 SaaS product and used self-service refunds recorded for 2025.
func refundAccount(used int) string {
	return fmt.Sprintf(`
market_accounts:
  - {id: A1, personal_real_name_verified: true}
market_products:
  - {id: P1, merchant_id: M1, delivery_type: saas, supervised: false, offered_billing_modes: [monthly, yearly]}
refund_quota_counts:
  - {account_id: A1, calendar_year: 2025, source: marketplace, refunds: %d}
`, used)
}

// refundInstances adds n monthly P1 instances S00.. of A1 with orders O00.. paid 500.00, each
// provisioned at provisioned.
func refundInstances(n int, provisioned string) string {
	var b strings.Builder
	b.WriteString("refund_subscriptions:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {id: S%02d, owner_account_id: A1, product_id: P1, order_id: O%02d, billing_mode: monthly, provisioned_at: %q}\n", i, i, provisioned)
	}
	b.WriteString("refund_orders:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {id: O%02d, subscription_id: S%02d, account_id: A1, order_type: new}\n", i, i)
	}
	b.WriteString("refund_payments:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {id: PAY%02d, order_id: O%02d, cash_amount: \"500.00\"}\n", i, i)
	}
	return b.String()
}

// refundInput asks for a five-day refund of instance i under request id req.
func refundInput(req string, i int) map[string]any {
	return map[string]any{
		"request_id": req, "path": "FIVE_DAY_NO_REASON", "account_id": "A1", "product_id": "P1",
		"subscription_id": fmt.Sprintf("S%02d", i), "order_id": fmt.Sprintf("O%02d", i),
	}
}

func fileRefund(client *http.Client, baseURL string, req string, i int, asOf string) reply {
	r := decide(client, baseURL, "refund.request", refundInput(req, i), asOf)
	r.label = req
	return r
}

// exactlyThreeRefunded checks the race: three allowed, the rest refused for the quota, and for every
// winner exactly its two ledger rows (quota and instance) and nothing else in the ledger.
func exactlyThreeRefunded(t *testing.T, rs []reply, databaseURL string) {
	t.Helper()
	winners := allowed(t, rs, "YEARLY_QUOTA_EXHAUSTED")
	if len(winners) != 3 {
		t.Fatalf("%d refunds succeeded with 3 left in the quota, want exactly 3: %+v", len(winners), winners)
	}
	ledger := ledgerByDecision(readLedger(t, databaseURL))
	if len(ledger) != 3 {
		t.Errorf("ledger holds entries of %d decisions, want the 3 winners: %v", len(ledger), ledger)
	}
	for _, w := range winners {
		want := []string{"refund_quota:A1:2025=1", "refund_subscription:S" + strings.TrimPrefix(w.label, "REQ") + "=1"}
		if got := ledger[w.decisionID]; !sameLines(got, want) {
			t.Errorf("%s (decision %s) wrote %v, want %v", w.label, w.decisionID, got, want)
		}
	}
	if n := queryInt(t, databaseURL, `SELECT count(*) FROM commits WHERE decision = 'refund.request'`); n != 3 {
		t.Errorf("%d refund.request answers committed, want 3", n)
	}
}

func TestRefundQuotaUnderConcurrency(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: yamlRows(t, refundAccount(7)+refundInstances(20, "2025-06-08T12:00:00+08:00"))})
	rs := race(20, func(i int) reply { return fileRefund(srv.Client, srv.URL, fmt.Sprintf("REQ%02d", i), i, refundNow) })
	exactlyThreeRefunded(t, rs, srv.DatabaseURL)

	// The path decision now sees the quota used up for every other instance.
	for i := range 20 {
		e := decodeEnvelope(t, srv.Decide(t, "refund.path", map[string]any{"account_id": "A1", "product_id": "P1",
			"subscription_id": fmt.Sprintf("S%02d", i), "order_id": fmt.Sprintf("O%02d", i)}, refundNow))
		if e.Outcome != "deny" || e.get("quota", "used") != "10" || e.get("quota", "remaining") != "0" {
			t.Fatalf("refund.path S%02d after the race: %s quota %s, want deny with used 10 remaining 0", i, e.Outcome, e.text("quota"))
		}
	}
}

func TestRefundQuotaAcrossTwoProcesses(t *testing.T) {
	db, urls, client := startReplicas(t, yamlRows(t, refundAccount(7)+refundInstances(20, "2025-06-08T12:00:00+08:00")))
	rs := race(20, func(i int) reply { return fileRefund(client, urls[i%2], fmt.Sprintf("REQ%02d", i), i, refundNow) })
	exactlyThreeRefunded(t, rs, db)
}

func TestRefundTenthAndEleventhOfTheYear(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: yamlRows(t, refundAccount(8)+refundInstances(3, "2025-06-08T12:00:00+08:00"))})
	steps := []struct {
		name, outcome, code string
		remaining           string
	}{
		{"9th", "allow", "", "1"},
		{"10th", "allow", "", "0"},
		{"11th", "deny", "YEARLY_QUOTA_EXHAUSTED", "0"},
	}
	for i, s := range steps {
		r := srv.Decide(t, "refund.request", refundInput(fmt.Sprintf("REQ%02d", i), i), refundNow)
		e := decodeEnvelope(t, r)
		if e.Outcome != s.outcome || strings.Join(e.codes(), ",") != s.code || e.get("quota", "remaining_after") != s.remaining {
			t.Fatalf("%s refund: %s %v quota %s, want %s %q remaining_after %s", s.name, e.Outcome, e.codes(), e.text("quota"), s.outcome, s.code, s.remaining)
		}
	}
	_, count := ledgerSums(readLedger(t, srv.DatabaseURL))
	if count["refund_quota:A1:2025"] != 2 {
		t.Fatalf("%d quota rows in the ledger, want 2 (the 9th and the 10th)", count["refund_quota:A1:2025"])
	}
}

// TestRefundQuotaYearIsBeijingTime commits one second before and at midnight of 1 January in Beijing
// time (16:00 UTC) and checks which year's quota each consumed.
func TestRefundQuotaYearIsBeijingTime(t *testing.T) {
	rows := yamlRows(t, `
market_accounts:
  - {id: A1}
market_products:
  - {id: P1, merchant_id: M1, delivery_type: saas, supervised: false}
refund_quota_counts:
  - {account_id: A1, calendar_year: 2024, refunds: 9}
`+refundInstances(3, "2024-12-30T00:00:00+08:00"))
	srv := testserver.Start(t, testserver.Options{Rows: rows})
	steps := []struct {
		asOf, outcome, year string
	}{
		{"2024-12-31T15:59:59Z", "allow", "2024"}, // 23:59:59 in Beijing: the 10th refund of 2024
		{"2024-12-31T23:59:59+08:00", "deny", "2024"},
		{"2025-01-01T00:00:00+08:00", "allow", "2025"},
	}
	var want []string
	for i, s := range steps {
		r := fileRefund(srv.Client, srv.URL, fmt.Sprintf("REQ%02d", i), i, s.asOf)
		if r.status != http.StatusOK || r.outcome != s.outcome {
			t.Fatalf("as of %s: HTTP %d %s %s, want %s", s.asOf, r.status, r.outcome, r.code, s.outcome)
		}
		if r.outcome == "allow" {
			want = append(want, "refund_quota:A1:"+s.year+"=1")
		}
	}
	var got []string
	for _, l := range ledgerLines(readLedger(t, srv.DatabaseURL)) {
		if strings.HasPrefix(l, "refund_quota:") {
			got = append(got, l)
		}
	}
	if !sameLines(got, want) {
		t.Fatalf("quota ledger %v, want %v", got, want)
	}
}

func TestRefundRequestRetryAndReuse(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: yamlRows(t, refundAccount(3)+refundInstances(2, "2025-06-08T12:00:00+08:00"))})
	first := fileRefund(srv.Client, srv.URL, "REQ-1", 0, refundNow)
	again := fileRefund(srv.Client, srv.URL, "REQ-1", 0, refundNow)
	if first.outcome != "allow" || again.outcome != "allow" || !again.replayed || again.decisionID != first.decisionID {
		t.Fatalf("refund then retry: %+v, %+v; want allow, then the same decision replayed", first, again)
	}
	// The same request id for another instance is a conflict naming the field, and records nothing.
	other := fileRefund(srv.Client, srv.URL, "REQ-1", 1, refundNow)
	if other.status != http.StatusConflict || other.code != string(engine.CodeIdempotencyReuse) || !strings.Contains(string(other.raw), "input.request_id") {
		t.Fatalf("reused request id: HTTP %d %s, want 409 %s naming input.request_id\n%s", other.status, other.code, engine.CodeIdempotencyReuse, other.raw)
	}
	ledger := ledgerByDecision(readLedger(t, srv.DatabaseURL))
	if len(ledger) != 1 || len(ledger[first.decisionID]) != 2 {
		t.Fatalf("ledger %v, want only the first refund's two rows", ledger)
	}
	// A new request id for the refunded instance finds it already unsubscribed.
	if twice := fileRefund(srv.Client, srv.URL, "REQ-2", 0, refundNow); twice.outcome != "deny" || twice.code != "ALREADY_UNSUBSCRIBED" {
		t.Fatalf("second refund of S00: %s %s, want deny ALREADY_UNSUBSCRIBED", twice.outcome, twice.code)
	}
}

// Partner benefits (mdf.apply, fh.grant): a yearly MDF quota and one FH grant per person and period.

// mdfPartnerRows is a service-path partner at role certification: a 50,000.00 yearly MDF quota.
const mdfPartnerRows = `
benefit_partners:
  - {id: MDF-T1, legal_name: Yunfan Services Co. Ltd., business_info_certified: true}
benefit_partner_paths:
  - {partner_id: MDF-T1, path: service, stage: role_certified}
`

const mdfAsOf = "2025-09-08T10:00:00+08:00"

const mdfBudgetKey = "mdf_budget:MDF-T1:service:2025"

func mdfApplication(id, amount string) map[string]any {
	return map[string]any{
		"application_id": id, "partner_id": "MDF-T1", "funding_basis": "service", "budget_year": 2025,
		"activity_type": "CUST_EXCHANGE_SEMINAR", "audience": "customers", "approving_dept": "East China marketing",
		"requested_amount": amount,
		"activities":       []any{map[string]any{"start_date": "2025-09-22", "end_date": "2025-09-22"}},
	}
}

// checkMDFQuotaSpentByFive checks that 5 of the 20 10,000.00 applications consumed the whole quota.
func checkMDFQuotaSpentByFive(t *testing.T, rs []reply, databaseURL string) {
	t.Helper()
	if w := allowed(t, rs, "MDF_CAP_EXCEEDED"); len(w) != 5 {
		t.Fatalf("%d applications were committed, want exactly 5: %+v", len(w), w)
	}
	sums, count := ledgerSums(readLedger(t, databaseURL))
	if want := []string{mdfBudgetKey + "=50000"}; !sameLines(sums, want) || count[mdfBudgetKey] != 5 {
		t.Fatalf("ledger %v in %d entries, want %v in 5", sums, count[mdfBudgetKey], want)
	}
}

func TestMDFQuotaIsNeverOverspentUnderConcurrency(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: yamlRows(t, mdfPartnerRows)})
	rs := race(20, func(i int) reply {
		return decide(srv.Client, srv.URL, "mdf.apply", mdfApplication(fmt.Sprintf("MDF-RACE-%02d", i), "10000.00"), mdfAsOf)
	})
	checkMDFQuotaSpentByFive(t, rs, srv.DatabaseURL)
}

func TestMDFQuotaIsNeverOverspentAcrossTwoProcesses(t *testing.T) {
	db, urls, client := startReplicas(t, yamlRows(t, mdfPartnerRows))
	rs := race(20, func(i int) reply {
		return decide(client, urls[i%2], "mdf.apply", mdfApplication(fmt.Sprintf("MDF-RACE-%02d", i), "10000.00"), mdfAsOf)
	})
	checkMDFQuotaSpentByFive(t, rs, db)
}

func TestMDFApplyRetryAndReuse(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: yamlRows(t, mdfPartnerRows)})
	app := mdfApplication("MDF-RETRY", "30000.00")
	first := decide(srv.Client, srv.URL, "mdf.apply", app, mdfAsOf)
	again := decide(srv.Client, srv.URL, "mdf.apply", app, mdfAsOf)
	if first.outcome != "allow" || again.outcome != "allow" || !again.replayed || again.decisionID != first.decisionID {
		t.Fatalf("apply then retry: %+v, %+v; want allow, then the same decision replayed", first, again)
	}
	// The same application id with another amount is a conflict, not a second consumption.
	if changed := decide(srv.Client, srv.URL, "mdf.apply", mdfApplication("MDF-RETRY", "20000.00"), mdfAsOf); changed.status != http.StatusConflict || changed.code != "idempotency_conflict" {
		t.Errorf("changed retry: HTTP %d %s, want 409 idempotency_conflict\n%s", changed.status, changed.code, changed.raw)
	}
	// Checking the committed application again does not count it twice.
	planned := maps.Clone(app) // the check takes the planned submission time the commit takes from its clock
	planned["submitted_at"] = mdfAsOf
	check := decodeEnvelope(t, srv.Decide(t, "mdf.application", planned, mdfAsOf))
	if check.Outcome != "allow" || check.text("used") != `"0.00"` || check.text("already_committed") != "true" {
		t.Errorf("re-check: %s used %s already_committed %s, want allow 0.00 true", check.Outcome, check.text("used"), check.text("already_committed"))
	}
	sums, count := ledgerSums(readLedger(t, srv.DatabaseURL))
	if !sameLines(sums, []string{mdfBudgetKey + "=30000"}) || count[mdfBudgetKey] != 1 {
		t.Fatalf("ledger %v %v, want one entry of 30000", sums, count)
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

// lecturerPolicyDir copies the shipped tree with the FH-44 monthly regional limit set (10,000.00),
// which SRC leaves to the ecosystem manager and the shipped table leaves unset.
func lecturerPolicyDir(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	for _, dir := range []string{"facts", "policies/_lib", "policies/mdf", "policies/fh", "rules/mdf", "rules/fh", "rules/calendar"} {
		testserver.CopyTree(t, "../"+dir, dst+"/"+dir)
	}
	writeFile(t, dst, "rules/fh/lecturer_funds/2024.yaml", func(s string) string {
		if !strings.Contains(s, "default_monthly_limit: null") {
			t.Fatal("rules/fh/lecturer_funds/2024.yaml no longer leaves default_monthly_limit unset")
		}
		return strings.Replace(s, "default_monthly_limit: null", `default_monthly_limit: "10000.00"`, 1)
	})
	return dst
}

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
	const at = "2025-07-10T10:00:00+08:00"
	srv := testserver.Start(t, testserver.Options{Rows: yamlRows(t, fhLecturerRows(persons)), PolicyDir: lecturerPolicyDir(t)})
	programmes := []string{"lp_lecturer_dev", "lp_lecturer_dedicated"}
	rs := race(2*persons, func(i int) reply {
		return decide(srv.Client, srv.URL, "fh.grant", fhGrant(fmt.Sprintf("FH-T-L%02d", i/2), programmes[i%2]), at)
	})
	for p := range persons {
		if w := allowed(t, rs[2*p:2*p+2], "FH_EXCLUSIVE_PERIOD"); len(w) != 1 {
			t.Errorf("person FH-T-L%02d: %d grants, want exactly 1: %+v", p, len(w), rs[2*p:2*p+2])
		}
	}
	sums, count := ledgerSums(readLedger(t, srv.DatabaseURL))
	for p := range persons {
		key := fmt.Sprintf("fh_person:FH-T-L%02d", p)
		if count[key] != 1 || !(contains(sums, key+"=20000") || contains(sums, key+"=10000")) {
			t.Errorf("%s: %d entries in %v, want one grant of 20000 (development) or 10000 (full-time)", key, count[key], sums)
		}
	}
	if count["fh_partner:FH-T1"] != persons {
		t.Errorf("fh_partner:FH-T1 has %d entries, want %d", count["fh_partner:FH-T1"], persons)
	}
	// A later check of the losing programme sees the committed grant.
	e := decodeEnvelope(t, srv.Decide(t, "fh.application", map[string]any{"application_id": "FH-T-CHECK", "partner_id": "FH-T1", "programme": "lp_lecturer_dedicated", "month": "2025-07",
		"lines": []any{map[string]any{"person_id": "FH-T-L00", "class_hours": "48", "satisfaction": "4.50"}}}, at))
	if e.Outcome != "deny" || !contains(e.codes(), "FH_EXCLUSIVE_PERIOD") {
		t.Errorf("fh.application after the race: %s %v, want deny FH_EXCLUSIVE_PERIOD", e.Outcome, e.codes())
	}
}

// TestFHGrantAcrossTwoProcesses sends ten applications of the same service expert for Q3 2024 to
// two server processes on one database: exactly one is granted, every other is refused FH_EXCLUSIVE_PERIOD.
func TestFHGrantAcrossTwoProcesses(t *testing.T) {
	db, urls, client := startReplicas(t, yamlRows(t, `
benefit_partners:
  - {id: FH-T2, legal_name: Haina Cloud Services Co. Ltd., business_info_certified: true}
benefit_partner_paths:
  - {partner_id: FH-T2, path: service, stage: differentiated}
fh_plan_memberships:
  - {partner_id: FH-T2, plan: svc_expert_2024, invited: true}
fh_persons:
  - {id: FH-T-S0, partner_id: FH-T2, project_specialist_path: service, formal_labour_contract: true, employment_valid_from: "2020-01-01", social_security_city: beijing, payroll_records: true, ict_years: 8, pmp: true, passed_expert_group_assessment: true}
`))
	rs := race(10, func(i int) reply {
		in := map[string]any{"application_id": fmt.Sprintf("FH-T-APP-%02d", i), "partner_id": "FH-T2", "programme": "svc_expert_2024",
			"month": fmt.Sprintf("2024-%02d", 7+i%3), "person_id": "FH-T-S0", "person_type": "service_expert"}
		return decide(client, urls[i%2], "fh.grant", in, "2024-09-20T10:00:00+08:00")
	})
	if w := allowed(t, rs, "FH_EXCLUSIVE_PERIOD"); len(w) != 1 {
		t.Fatalf("%d grants, want exactly 1: %+v", len(w), w)
	}
	sums, count := ledgerSums(readLedger(t, db))
	if count["fh_person:FH-T-S0"] != 1 || !contains(sums, "fh_person:FH-T-S0=180000") {
		t.Fatalf("ledger %v %v, want one grant of 180000 for FH-T-S0", sums, count)
	}
}

// Storefront (trial.order, qa.ask): one free trial per account and product, ten questions a day.

// storefrontAt is the instant the storefront tests decide at (Beijing day 2025-02-01).
const storefrontAt = "2025-02-01T12:00:00+08:00"

// storefrontRows holds A1 and A2, the §8.0 P1 with its standard spec and a 30-day trial spec P1-TRIAL.
func storefrontRows() store.Rows {
	return store.Rows{
		"market_accounts": {
			{"id": "A1", "personal_real_name_verified": true, "email_set": true, "on_demand_service_enabled": true, "balance": "1000.00"},
			{"id": "A2", "personal_real_name_verified": true, "email_set": true, "on_demand_service_enabled": true},
		},
		"market_merchants": {{"id": "M1", "name": "Merchant One"}},
		"market_products": {
			{"id": "P1", "merchant_id": "M1", "name": "P1 SaaS", "delivery_type": "saas", "commercial_category": "general", "offered_billing_modes": []any{"monthly", "yearly"}},
		},
		"market_skus": {{"id": "P1-STD", "product_id": "P1"}, {"id": "P1-TRIAL", "product_id": "P1"}},
		"store_skus":  {{"sku_id": "P1-TRIAL", "product_id": "P1", "trial_days": 30}},
	}
}

func trialOrder(id, account string) map[string]any {
	return map[string]any{"order_id": id, "account_id": account, "product_id": "P1", "sku_id": "P1-TRIAL", "payable_amount": "0.00"}
}

var trialLedger = []string{"trial-sku:A1:P1-TRIAL=1", "trial:A1:P1=1"}

func TestTrialOrderedOnceUnderConcurrency(t *testing.T) {
	for _, n := range []int{2, 20} {
		t.Run(fmt.Sprintf("%d orders", n), func(t *testing.T) {
			srv := testserver.Start(t, testserver.Options{Rows: storefrontRows()})
			rs := race(n, func(i int) reply {
				return decide(srv.Client, srv.URL, "trial.order", trialOrder(fmt.Sprintf("ORD-%02d", i), "A1"), storefrontAt)
			})
			if w := allowed(t, rs, "TRIAL_ALREADY_PURCHASED"); len(w) != 1 {
				t.Fatalf("%d trial orders succeeded, want exactly 1", len(w))
			}
			if sums, _ := ledgerSums(readLedger(t, srv.DatabaseURL)); !sameLines(sums, trialLedger) {
				t.Fatalf("ledger %v, want %v", sums, trialLedger)
			}
		})
	}
}

func TestTrialOrderedOnceAcrossTwoProcesses(t *testing.T) {
	db, urls, client := startReplicas(t, storefrontRows())
	rs := race(20, func(i int) reply {
		return decide(client, urls[i%2], "trial.order", trialOrder(fmt.Sprintf("ORD-%02d", i), "A1"), storefrontAt)
	})
	if w := allowed(t, rs, "TRIAL_ALREADY_PURCHASED"); len(w) != 1 {
		t.Fatalf("%d trial orders succeeded, want exactly 1", len(w))
	}
	if sums, _ := ledgerSums(readLedger(t, db)); !sameLines(sums, trialLedger) {
		t.Fatalf("ledger %v, want %v", sums, trialLedger)
	}
}

func TestTrialOrderRetryAndEligibility(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: storefrontRows()})
	eligibility := map[string]any{"account_id": "A1", "product_id": "P1", "sku_id": "P1-TRIAL"}
	if r := decide(srv.Client, srv.URL, "trial.eligibility", eligibility, storefrontAt); r.outcome != "allow" {
		t.Fatalf("before any order: %+v, want allow", r)
	}
	first := decide(srv.Client, srv.URL, "trial.order", trialOrder("ORD-1", "A1"), storefrontAt)
	again := decide(srv.Client, srv.URL, "trial.order", trialOrder("ORD-1", "A1"), storefrontAt)
	if first.outcome != "allow" || again.outcome != "allow" || first.replayed || !again.replayed || first.decisionID != again.decisionID {
		t.Fatalf("order then retry: %+v, %+v; want allow, then the same decision replayed", first, again)
	}
	steps := []struct {
		name, decision string
		input          map[string]any
		status         int
		outcome, code  string
	}{
		{"the order id reused for A2 is a conflict", "trial.order", trialOrder("ORD-1", "A2"), http.StatusConflict, "", "idempotency_conflict"},
		{"a new order id is a second trial", "trial.order", trialOrder("ORD-2", "A1"), http.StatusOK, "deny", "TRIAL_ALREADY_PURCHASED"},
		{"eligibility now refuses A1", "trial.eligibility", eligibility, http.StatusOK, "deny", "TRIAL_ALREADY_PURCHASED"},
		{"another account is unaffected", "trial.order", trialOrder("ORD-3", "A2"), http.StatusOK, "allow", ""},
	}
	for _, s := range steps {
		r := decide(srv.Client, srv.URL, s.decision, s.input, storefrontAt)
		if r.status != s.status || r.outcome != s.outcome || r.code != s.code {
			t.Fatalf("%s: HTTP %d %s %q, want %d %s %q\n%s", s.name, r.status, r.outcome, r.code, s.status, s.outcome, s.code, r.raw)
		}
	}
	want := append([]string{"trial-sku:A2:P1-TRIAL=1", "trial:A2:P1=1"}, trialLedger...)
	if sums, _ := ledgerSums(readLedger(t, srv.DatabaseURL)); !sameLines(sums, want) {
		t.Fatalf("ledger %v, want %v", sums, want)
	}
}

func TestQuestionsPerDayUnderConcurrency(t *testing.T) {
	rows := storefrontRows()
	rows["store_question_logs"] = []map[string]any{{"account_id": "A1", "product_id": "P1", "day": "2025-02-01", "count": 3}}
	srv := testserver.Start(t, testserver.Options{Rows: rows})
	question := func(id string) map[string]any {
		return map[string]any{"question_id": id, "account_id": "A1", "product_id": "P1", "text": "Does P1 support single sign-on?"}
	}
	// Three questions were logged elsewhere today, so 7 of 15 concurrent questions fit under the limit of 10.
	rs := race(15, func(i int) reply {
		return decide(srv.Client, srv.URL, "qa.ask", question(fmt.Sprintf("Q-%02d", i)), storefrontAt)
	})
	if w := allowed(t, rs, "DAILY_QUESTION_LIMIT"); len(w) != 7 {
		t.Fatalf("%d questions accepted, want 7", len(w))
	}
	if r := decide(srv.Client, srv.URL, "qa.question", map[string]any{"account_id": "A1", "product_id": "P1"}, storefrontAt); r.outcome != "deny" || r.code != "DAILY_QUESTION_LIMIT" {
		t.Fatalf("qa.question after the limit: %+v, want deny DAILY_QUESTION_LIMIT", r)
	}
	// The Beijing day turns at 16:00 UTC: the same account may ask again.
	if r := decide(srv.Client, srv.URL, "qa.ask", question("Q-next"), "2025-02-01T16:00:00Z"); r.outcome != "allow" {
		t.Fatalf("first question of 2025-02-02: %+v, want allow", r)
	}
	want := []string{"qa:A1:P1:2025-02-01=7", "qa:A1:P1:2025-02-02=1"}
	if sums, _ := ledgerSums(readLedger(t, srv.DatabaseURL)); !sameLines(sums, want) {
		t.Fatalf("ledger %v, want %v", sums, want)
	}
}
