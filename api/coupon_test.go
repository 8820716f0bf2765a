package api_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"gopkg.in/yaml.v3"

	"arbiter/engine"
	"arbiter/internal/loadtest"
	"arbiter/internal/testing/testserver"
	"arbiter/store"
)

// Coupon decisions beyond the catalog cases: exactly-once redemption under concurrency and across
// two server processes, release, bad input over HTTP, and the coupon.candidates benchmarks.

var (
	couponLoad     = flag.Bool("coupon-load", false, "run the fixed-rate coupon.candidates load test")
	couponRate     = flag.Int("coupon-rate", 200, "coupon.candidates requests per second in the load test")
	couponDuration = flag.Duration("coupon-duration", 10*time.Second, "how long the coupon.candidates load test sends")
)

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

// lineRow is a monthly marketplace line of payment on order.
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

// canonical gives rows the catalog's defaults and canonical values, as fixtures get them.
func canonical(t testing.TB, rows store.Rows) store.Rows {
	t.Helper()
	cat, err := store.LoadCatalog(os.DirFS("../facts"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := yaml.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	out, err := store.ParseRows(cat, "coupon_test.go", raw)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func addRow(rows store.Rows, table string, row map[string]any) {
	rows[table] = append(rows[table], row)
}

// addPayment adds a new self-paid payment of payer with one order holding lines.
func addCouponPayment(rows store.Rows, id, payer string, lines ...map[string]any) {
	addRow(rows, "coupon_payments", map[string]any{"id": id, "payer_account_id": payer})
	addRow(rows, "coupon_payment_orders", map[string]any{"id": "O-" + id, "payment_id": id, "account_id": payer, "order_type": "new", "payer_type": "self"})
	for _, l := range lines {
		addRow(rows, "coupon_payment_lines", l)
	}
}

func couponAccounts() store.Rows {
	rows := store.Rows{}
	addRow(rows, "market_accounts", map[string]any{"id": "A1", "personal_real_name_verified": true})
	addRow(rows, "market_accounts", map[string]any{"id": "A2", "personal_real_name_verified": true})
	return rows
}

// ledgerRows returns the database's ledger as "key=amount" strings, sorted.
func couponLedger(t *testing.T, databaseURL string) []string {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rs, err := pool.Query(ctx, `SELECT key, amount::text FROM ledger_entries ORDER BY key, amount`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var key, amount string
		if err := rs.Scan(&key, &amount); err != nil {
			t.Fatal(err)
		}
		out = append(out, key+"="+strings.TrimSuffix(strings.TrimSuffix(amount, "0"), "."))
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// redemption is what one redemption answered: the outcome and its first reason, or the HTTP failure.
type redemption struct {
	status  int
	outcome string
	code    string
	payment string
	coupon  string
}

// redeemCoupon posts a coupon.redeem; it is safe to call from any goroutine.
func redeemCoupon(client *http.Client, baseURL, coupon, payment string) redemption {
	a := decide(client, baseURL, "coupon.redeem", map[string]any{"coupon_id": coupon, "payment_id": payment}, checkoutAt)
	return redemption{payment: payment, coupon: coupon, status: a.status, outcome: a.outcome, code: a.code}
}

// exactlyOneRedeemed checks that exactly one redemption allowed and every other was denied with loserCode.
func exactlyOneRedeemed(t *testing.T, vs []redemption, loserCode string) redemption {
	t.Helper()
	var winners []redemption
	for _, v := range vs {
		switch {
		case v.status != http.StatusOK:
			t.Errorf("redeem %s on %s: HTTP %d %s", v.coupon, v.payment, v.status, v.code)
		case v.outcome == "allow":
			winners = append(winners, v)
		case v.outcome != "deny" || v.code != loserCode:
			t.Errorf("redeem %s on %s: %s %s, want deny %s", v.coupon, v.payment, v.outcome, v.code, loserCode)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d redemptions succeeded, want exactly 1: %+v", len(winners), winners)
	}
	return winners[0]
}

func TestCouponSingleUseUnderConcurrency(t *testing.T) {
	rows := couponAccounts()
	addRow(rows, "coupons", couponRow("K1", "A1", nil))
	for i := range 50 {
		p := fmt.Sprintf("PAY%02d", i)
		addCouponPayment(rows, p, "A1", couponLineRow("L-"+p, p, "O-"+p, "P1", "M1", "150.00", nil))
	}
	srv := testserver.Start(t, testserver.Options{Rows: canonical(t, rows)})
	vs := race(50, func(i int) redemption {
		return redeemCoupon(srv.Client, srv.URL, "K1", fmt.Sprintf("PAY%02d", i))
	})
	w := exactlyOneRedeemed(t, vs, "COUPON_USED")
	want := []string{"coupon:K1=1", "payment:" + w.payment + "=1"}
	if got := couponLedger(t, srv.DatabaseURL); !sameStrings(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}

func TestCouponOnePerPaymentUnderConcurrency(t *testing.T) {
	rows := couponAccounts()
	for i := range 50 {
		addRow(rows, "coupons", couponRow(fmt.Sprintf("K%02d", i), "A1", nil))
	}
	addCouponPayment(rows, "PAY1", "A1", couponLineRow("L1", "PAY1", "O-PAY1", "P1", "M1", "150.00", nil))
	srv := testserver.Start(t, testserver.Options{Rows: canonical(t, rows)})
	vs := race(50, func(i int) redemption {
		return redeemCoupon(srv.Client, srv.URL, fmt.Sprintf("K%02d", i), "PAY1")
	})
	w := exactlyOneRedeemed(t, vs, "MULTIPLE_COUPONS_IN_PAYMENT")
	want := []string{"coupon:" + w.coupon + "=1", "payment:PAY1=1"}
	if got := couponLedger(t, srv.DatabaseURL); !sameStrings(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}

func TestCouponSingleUseAcrossTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts two arbiter processes")
	}
	rows := couponAccounts()
	addRow(rows, "coupons", couponRow("K1", "A1", nil))
	for i := range 50 {
		p := fmt.Sprintf("PAY%02d", i)
		addCouponPayment(rows, p, "A1", couponLineRow("L-"+p, p, "O-"+p, "P1", "M1", "150.00", nil))
	}
	db := testserver.Start(t, testserver.Options{Rows: canonical(t, rows)}) // creates, migrates and seeds the database
	replicas := []*testserver.Process{testserver.StartProcess(t, db.DatabaseURL), testserver.StartProcess(t, db.DatabaseURL)}
	client := &http.Client{Timeout: 30 * time.Second}
	vs := race(50, func(i int) redemption {
		return redeemCoupon(client, replicas[i%2].URL, "K1", fmt.Sprintf("PAY%02d", i))
	})
	w := exactlyOneRedeemed(t, vs, "COUPON_USED")
	want := []string{"coupon:K1=1", "payment:" + w.payment + "=1"}
	if got := couponLedger(t, db.DatabaseURL); !sameStrings(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}

func TestCouponRedeemRetryReturnsTheOriginalAnswer(t *testing.T) {
	rows := couponAccounts()
	addRow(rows, "coupons", couponRow("K1", "A1", nil))
	addCouponPayment(rows, "PAY1", "A1", couponLineRow("L1", "PAY1", "O-PAY1", "P1", "M1", "150.00", nil))
	srv := testserver.Start(t, testserver.Options{Rows: canonical(t, rows)})
	body := map[string]any{"input": map[string]any{"coupon_id": "K1", "payment_id": "PAY1"}, "as_of": checkoutAt}
	first := testserver.Post(t, srv.Client, srv.URL, "/v1/decisions/coupon.redeem", body)
	again := testserver.Post(t, srv.Client, srv.URL, "/v1/decisions/coupon.redeem", body)
	if first.Status != http.StatusOK || again.Status != http.StatusOK {
		t.Fatalf("statuses %d, %d: %s %s", first.Status, again.Status, first.Raw, again.Raw)
	}
	if first.Body["outcome"] != "allow" || again.Body["outcome"] != "allow" {
		t.Fatalf("outcomes %v, %v", first.Body["outcome"], again.Body["outcome"])
	}
	if first.Body["decision_id"] != again.Body["decision_id"] {
		t.Errorf("a retry made a new decision %v, want the original %v", again.Body["decision_id"], first.Body["decision_id"])
	}
	if c, _ := again.Body["commit"].(map[string]any); c["replayed"] != true {
		t.Errorf("retry commit %v, want replayed", again.Body["commit"])
	}
	if got, want := couponLedger(t, srv.DatabaseURL), []string{"coupon:K1=1", "payment:PAY1=1"}; !sameStrings(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}

func TestCouponReleaseReturnsTheCoupon(t *testing.T) {
	rows := couponAccounts()
	addRow(rows, "coupons", couponRow("K1", "A1", nil))
	addCouponPayment(rows, "PAY1", "A1", couponLineRow("L1", "PAY1", "O-PAY1", "P1", "M1", "150.00", nil))
	addCouponPayment(rows, "PAY2", "A1", couponLineRow("L2", "PAY2", "O-PAY2", "P1", "M1", "150.00", nil))
	srv := testserver.Start(t, testserver.Options{Rows: canonical(t, rows)})
	steps := []struct {
		name, decision string
		input          map[string]any
		outcome, code  string
	}{
		{"redeem on PAY1", "coupon.redeem", map[string]any{"coupon_id": "K1", "payment_id": "PAY1"}, "allow", ""},
		{"used for PAY2", "coupon.redeem", map[string]any{"coupon_id": "K1", "payment_id": "PAY2"}, "deny", "COUPON_USED"},
		{"negotiated refund keeps it spent", "coupon.release", map[string]any{"coupon_id": "K1", "payment_id": "PAY1", "event": "negotiated"}, "deny", "COUPON_NOT_RETURNED"},
		{"five-day refund returns it", "coupon.release", map[string]any{"coupon_id": "K1", "payment_id": "PAY1", "event": "five_day_no_reason"}, "allow", ""},
		{"a second return finds nothing", "coupon.release", map[string]any{"coupon_id": "K1", "payment_id": "PAY1", "event": "payment_cancelled"}, "deny", "COUPON_NOT_REDEEMED"},
		{"then it pays PAY2", "coupon.redeem", map[string]any{"coupon_id": "K1", "payment_id": "PAY2"}, "allow", ""},
	}
	for _, s := range steps {
		r := srv.Decide(t, s.decision, s.input, "2025-02-03T12:00:00+08:00")
		code := ""
		if rs, ok := r.Body["reasons"].([]any); ok && len(rs) > 0 {
			code = fmt.Sprint(rs[0].(map[string]any)["code"])
		}
		if r.Status != http.StatusOK || r.Body["outcome"] != s.outcome || code != s.code {
			t.Fatalf("%s: HTTP %d outcome %v first reason %q, want %s %q\n%s", s.name, r.Status, r.Body["outcome"], code, s.outcome, s.code, r.Raw)
		}
	}
	want := []string{"coupon:K1=-1", "coupon:K1=1", "coupon:K1=1", "payment:PAY1=-1", "payment:PAY1=1", "payment:PAY2=1"}
	if got := couponLedger(t, srv.DatabaseURL); !sameStrings(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}

func TestCouponBadInputIsAProblemNamingTheField(t *testing.T) {
	rows := couponAccounts()
	addRow(rows, "coupons", couponRow("K1", "A1", nil))
	addCouponPayment(rows, "PAY1", "A1", couponLineRow("L1", "PAY1", "O-PAY1", "P1", "M1", "150.00", nil))
	srv := testserver.Start(t, testserver.Options{Rows: canonical(t, rows)})
	cart := func(line map[string]any) map[string]any {
		base := map[string]any{"id": "L1", "product_id": "P1", "merchant_id": "M1", "billing_mode": "monthly", "payable_amount": "150.00"}
		for k, v := range line {
			if v == nil {
				delete(base, k)
			} else {
				base[k] = v
			}
		}
		return map[string]any{"account_id": "A1", "coupon_id": "K1",
			"cart": map[string]any{"orders": []any{map[string]any{"id": "O1", "order_type": "new", "lines": []any{base}}}}}
	}
	const amount = "input.cart.orders[0].lines[0].payable_amount"
	tests := []struct {
		name, decision string
		input          map[string]any
		status         int
		code, field    string
	}{
		{"unknown coupon", "coupon.applicability", map[string]any{"coupon_id": "NOPE", "payment_id": "PAY1"}, 422, "fact_not_found", "input.coupon_id"},
		{"unknown payment", "coupon.applicability", map[string]any{"coupon_id": "K1", "payment_id": "NOPE"}, 422, "fact_not_found", "input.payment_id"},
		{"unknown account", "coupon.candidates", map[string]any{"account_id": "NOPE", "payment_id": "PAY1"}, 422, "fact_not_found", "input.account_id"},
		{"unknown coupon to redeem", "coupon.redeem", map[string]any{"coupon_id": "NOPE", "payment_id": "PAY1"}, 422, "fact_not_found", "input.coupon_id"},
		{"missing payment id", "coupon.redeem", map[string]any{"coupon_id": "K1"}, 422, "invalid_input", "input.payment_id"},
		{"negative amount", "coupon.quote", cart(map[string]any{"payable_amount": "-150.00"}), 422, "invalid_input", amount},
		{"non-numeric amount", "coupon.quote", cart(map[string]any{"payable_amount": "150,00"}), 422, "invalid_input", amount},
		{"over-precise amount", "coupon.quote", cart(map[string]any{"payable_amount": "150.001"}), 422, "invalid_input", amount},
		{"amount as a JSON number", "coupon.quote", cart(map[string]any{"payable_amount": 150}), 422, "invalid_input", amount},
		{"line without a billing mode", "coupon.quote", cart(map[string]any{"billing_mode": nil}), 422, "invalid_input", "input.cart.orders[0].lines[0].billing_mode"},
		{"unknown billing mode", "coupon.quote", cart(map[string]any{"billing_mode": "weekly"}), 422, "invalid_input", "input.cart.orders[0].lines[0].billing_mode"},
		{"unknown release event", "coupon.release", map[string]any{"coupon_id": "K1", "payment_id": "PAY1", "event": "refund"}, 422, "invalid_input", "input.event"},
		{"unknown account activating", "coupon.activate", map[string]any{"account_id": "NOPE", "coupon_id": "K1", "code": "ABCD-EFGH-JKLM-NPQR"}, 422, "fact_not_found", "input.account_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := srv.Decide(t, tt.decision, tt.input, checkoutAt)
			if r.Status != tt.status || r.Body["code"] != tt.code {
				t.Fatalf("HTTP %d %v, want %d %s\n%s", r.Status, r.Body["code"], tt.status, tt.code, r.Raw)
			}
			var fields []string
			errs, _ := r.Body["errors"].([]any)
			for _, e := range errs {
				fields = append(fields, fmt.Sprint(e.(map[string]any)["field"]))
			}
			if !hasString(fields, tt.field) {
				t.Fatalf("fields %v, want %s\n%s", fields, tt.field, r.Raw)
			}
		})
	}
}

// walletRows builds the benchmark: payment BENCH of A1 with 10 lines (4 P1, 3 P2 of M1, 2 P9 of M2,
// 1 bundled ECS line) and a wallet of 50 coupons. A mixed wallet holds what a buyer collects: 10 of
// the payment's merchants that apply, 10 of them that do not (thresholds, SKUs, expired, used) and
// 30 of other merchants; in the all-applicable wallet every coupon applies.
func couponWallet(allApplicable bool) store.Rows {
	rows := couponAccounts()
	var lines []map[string]any
	for i := range 10 {
		product, merchant, over := "P1", "M1", map[string]any(nil)
		switch {
		case i >= 4 && i < 7:
			product = "P2"
		case i >= 7 && i < 9:
			product, merchant = "P9", "M2"
		case i == 9:
			product, merchant, over = "ECS1", "HWC", map[string]any{"is_marketplace_line": false}
		}
		lines = append(lines, couponLineRow(fmt.Sprintf("BL%02d", i), "BENCH", "O-BENCH", product, merchant, fmt.Sprintf("%d.%02d", 40+i*13, i*7), over))
	}
	addCouponPayment(rows, "BENCH", "A1", lines...)
	for i := range 50 {
		id := fmt.Sprintf("W%02d", i)
		over := map[string]any{"threshold_amount": fmt.Sprintf("%d.00", 50*(i%6)), "face_value": fmt.Sprintf("%d.50", 5+i)}
		if !allApplicable {
			switch {
			case i < 10: // applies
			case i < 12:
				over["threshold_amount"] = "5000.00"
			case i < 14:
				over["applicable_product_ids"], over["applicable_sku_ids"] = []any{}, []any{"P1-PRO"}
			case i < 17:
				over["valid_to"] = "2025-01-31T23:59:59+08:00"
			case i < 20:
				over["status"] = "used"
			default:
				m := fmt.Sprintf("M%d", 3+i%7)
				over["issuer_merchant_id"], over["applicable_product_ids"] = m, []any{"X-" + m}
			}
		}
		addRow(rows, "coupons", couponRow(id, "A1", over))
	}
	return rows
}

var candidatesInput = map[string]any{"account_id": "A1", "payment_id": "BENCH"}

// BenchmarkCouponCandidates measures coupon.candidates for a 50-coupon wallet against a 10-line
// payment in-process, with facts in memory and in PostgreSQL.
func BenchmarkCouponCandidates(b *testing.B) {
	asOf, _ := time.Parse(time.RFC3339, checkoutAt)
	for _, wallet := range []struct {
		name string
		all  bool
	}{{"mixed", false}, {"all-applicable", true}} {
		rows := canonical(b, couponWallet(wallet.all))
		srv := testserver.Start(b, testserver.Options{Rows: rows})
		mem, err := store.NewMemory(srv.Service.Engine.PolicySet().Catalog(), rows)
		if err != nil {
			b.Fatal(err)
		}
		stores := []struct {
			name string
			e    *engine.Engine
		}{
			{"memory", engine.New(srv.Service.Engine.PolicySet(), mem)},
			{"postgres", srv.Service.Engine},
		}
		for _, s := range stores {
			b.Run(wallet.name+"/"+s.name, func(b *testing.B) {
				req := engine.Request{Decision: "coupon.candidates", Input: candidatesInput, AsOf: asOf}
				d, err := s.e.Decide(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				if n := d.Outputs["wallet_size"]; fmt.Sprint(n) != "50" {
					b.Fatalf("wallet_size %v", n)
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
	}
}

// TestCouponCandidatesLoad sends coupon.candidates at a fixed rate through the real server with
// facts in PostgreSQL and reports latency percentiles. It measures, so it runs only when asked:
// go test -run TestCouponCandidatesLoad ./api -args -coupon-load
func TestCouponCandidatesLoad(t *testing.T) {
	if !*couponLoad {
		t.Skip("measurement: pass -coupon-load")
	}
	for _, wallet := range []struct {
		name string
		all  bool
	}{{"mixed", false}, {"all-applicable", true}} {
		srv := testserver.Start(t, testserver.Options{Rows: canonical(t, couponWallet(wallet.all))})
		body := []byte(fmt.Sprintf(`{"input": {"account_id": "A1", "payment_id": "BENCH"}, "as_of": %q}`, checkoutAt))
		if r := testserver.PostRaw(t, srv.Client, srv.URL, "/v1/decisions/coupon.candidates", body); r.Status != http.StatusOK {
			t.Fatalf("HTTP %d: %s", r.Status, r.Raw)
		}
		target := loadtest.Target{URL: srv.URL + "/v1/decisions/coupon.candidates", Bodies: [][]byte{body}}
		client := loadtest.Client()
		loadtest.Run(context.Background(), client, target, *couponRate/5, time.Second) // warm up
		res := loadtest.Run(context.Background(), client, target, *couponRate, *couponDuration)
		t.Logf("coupon.candidates %s wallet: %s", wallet.name, res)
		if res.Failed > 0 {
			t.Errorf("%d requests failed: %v", res.Failed, res.Statuses)
		}
	}
}

func sameStrings(a, b []string) bool {
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
