package api_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"arbiter/internal/testing/testserver"
	"arbiter/store"
)

// Storefront decisions beyond the catalog cases: a free trial is ordered once per account and product
// and a product takes ten questions per account per day, even under concurrent requests, retries and two
// server processes; bad input is a problem naming the field.

// storefrontAt is the instant every storefront test decides at (Beijing day 2025-02-01).
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

// sfVerdict is what one decision request answered: the HTTP status, the outcome and first reason code
// (or the problem's code), and the decision id.
type sfVerdict struct {
	status   int
	outcome  string
	code     string
	decision string
	replayed bool
	err      error
}

// sfDecide posts {input, as_of} to baseURL's decision; it is safe to call from any goroutine.
func sfDecide(client *http.Client, baseURL, decision string, input map[string]any, asOf string) sfVerdict {
	a := decide(client, baseURL, decision, input, asOf)
	return sfVerdict{status: a.status, outcome: a.outcome, code: a.code, decision: a.decisionID, replayed: a.replayed, err: a.err}
}

// sfCount checks every verdict is an HTTP 200 allow or a deny with loserCode and returns how many allowed.
func sfCount(t *testing.T, vs []sfVerdict, loserCode string) int {
	t.Helper()
	allowed := 0
	for i, v := range vs {
		switch {
		case v.err != nil || v.status != http.StatusOK:
			t.Errorf("request %d: HTTP %d %s %v", i, v.status, v.code, v.err)
		case v.outcome == "allow":
			allowed++
		case v.outcome != "deny" || v.code != loserCode:
			t.Errorf("request %d: %s %s, want allow or deny %s", i, v.outcome, v.code, loserCode)
		}
	}
	return allowed
}

// sfLedger returns the database's ledger as key -> summed amount.
func sfLedger(t *testing.T, databaseURL string) map[string]string {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rows, err := pool.Query(ctx, `SELECT key, sum(amount)::text FROM ledger_entries GROUP BY key ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var key, sum string
		if err := rows.Scan(&key, &sum); err != nil {
			t.Fatal(err)
		}
		out[key] = strings.TrimSuffix(strings.TrimRight(sum, "0"), ".")
		if out[key] == "" {
			out[key] = "0"
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sfSameLedger(t *testing.T, got, want map[string]string) {
	t.Helper()
	if fmt.Sprint(sfPairs(got)) != fmt.Sprint(sfPairs(want)) {
		t.Fatalf("ledger %v, want %v", sfPairs(got), sfPairs(want))
	}
}

func sfPairs(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func sfTrialOrder(id, account string) map[string]any {
	return map[string]any{"order_id": id, "account_id": account, "product_id": "P1", "sku_id": "P1-TRIAL", "payable_amount": "0.00"}
}

func TestTrialOrderedOnceUnderConcurrency(t *testing.T) {
	for _, n := range []int{2, 20} {
		t.Run(fmt.Sprintf("%d orders", n), func(t *testing.T) {
			srv := testserver.Start(t, testserver.Options{Rows: storefrontRows()})
			vs := race(n, func(i int) sfVerdict {
				return sfDecide(srv.Client, srv.URL, "trial.order", sfTrialOrder(fmt.Sprintf("ORD-%02d", i), "A1"), storefrontAt)
			})
			if got := sfCount(t, vs, "TRIAL_ALREADY_PURCHASED"); got != 1 {
				t.Fatalf("%d trial orders succeeded, want exactly 1", got)
			}
			sfSameLedger(t, sfLedger(t, srv.DatabaseURL), map[string]string{"trial:A1:P1": "1", "trial-sku:A1:P1-TRIAL": "1"})
		})
	}
}

func TestTrialOrderedOnceAcrossTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts two arbiter processes")
	}
	db := testserver.Start(t, testserver.Options{Rows: storefrontRows()}) // creates, migrates and seeds the database
	replicas := []*testserver.Process{testserver.StartProcess(t, db.DatabaseURL), testserver.StartProcess(t, db.DatabaseURL)}
	client := &http.Client{Timeout: 30 * time.Second}
	vs := race(20, func(i int) sfVerdict {
		return sfDecide(client, replicas[i%2].URL, "trial.order", sfTrialOrder(fmt.Sprintf("ORD-%02d", i), "A1"), storefrontAt)
	})
	if got := sfCount(t, vs, "TRIAL_ALREADY_PURCHASED"); got != 1 {
		t.Fatalf("%d trial orders succeeded, want exactly 1", got)
	}
	sfSameLedger(t, sfLedger(t, db.DatabaseURL), map[string]string{"trial:A1:P1": "1", "trial-sku:A1:P1-TRIAL": "1"})
}

func TestTrialOrderRetryAndEligibility(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: storefrontRows()})
	eligible := func(account string) sfVerdict {
		return sfDecide(srv.Client, srv.URL, "trial.eligibility", map[string]any{"account_id": account, "product_id": "P1", "sku_id": "P1-TRIAL"}, storefrontAt)
	}
	if v := eligible("A1"); v.outcome != "allow" {
		t.Fatalf("before any order: %+v, want allow", v)
	}
	first := sfDecide(srv.Client, srv.URL, "trial.order", sfTrialOrder("ORD-1", "A1"), storefrontAt)
	again := sfDecide(srv.Client, srv.URL, "trial.order", sfTrialOrder("ORD-1", "A1"), storefrontAt)
	if first.outcome != "allow" || again.outcome != "allow" {
		t.Fatalf("order and retry: %+v, %+v, want both allow", first, again)
	}
	if first.replayed || !again.replayed || first.decision != again.decision {
		t.Fatalf("retry %+v of %+v, want the stored answer replayed", again, first)
	}
	// The same order id with a different request is a reuse, not a retry, and records nothing.
	reuse := sfDecide(srv.Client, srv.URL, "trial.order", sfTrialOrder("ORD-1", "A2"), storefrontAt)
	if reuse.status == http.StatusOK || reuse.status != http.StatusConflict || reuse.code != "idempotency_conflict" {
		t.Fatalf("order id ORD-1 reused for A2: %+v, want 409 idempotency_conflict", reuse)
	}
	steps := []struct {
		name, decision string
		input          map[string]any
		outcome, code  string
	}{
		{"a new order id is a second trial", "trial.order", sfTrialOrder("ORD-2", "A1"), "deny", "TRIAL_ALREADY_PURCHASED"},
		{"eligibility now refuses A1", "trial.eligibility", map[string]any{"account_id": "A1", "product_id": "P1", "sku_id": "P1-TRIAL"}, "deny", "TRIAL_ALREADY_PURCHASED"},
		{"another account is unaffected", "trial.order", sfTrialOrder("ORD-3", "A2"), "allow", ""},
	}
	for _, s := range steps {
		v := sfDecide(srv.Client, srv.URL, s.decision, s.input, storefrontAt)
		if v.status != http.StatusOK || v.outcome != s.outcome || v.code != s.code {
			t.Fatalf("%s: %+v, want %s %q", s.name, v, s.outcome, s.code)
		}
	}
	sfSameLedger(t, sfLedger(t, srv.DatabaseURL), map[string]string{
		"trial:A1:P1": "1", "trial-sku:A1:P1-TRIAL": "1", "trial:A2:P1": "1", "trial-sku:A2:P1-TRIAL": "1",
	})
}

func sfQuestion(id string) map[string]any {
	return map[string]any{"question_id": id, "account_id": "A1", "product_id": "P1", "text": "Does P1 support single sign-on?"}
}

func TestQuestionsPerDayUnderConcurrency(t *testing.T) {
	rows := storefrontRows()
	rows["store_question_logs"] = []map[string]any{{"account_id": "A1", "product_id": "P1", "day": "2025-02-01", "count": 3}}
	srv := testserver.Start(t, testserver.Options{Rows: rows})
	// Three questions were logged elsewhere today, so 7 of 15 concurrent questions fit under the limit of 10.
	vs := race(15, func(i int) sfVerdict {
		return sfDecide(srv.Client, srv.URL, "qa.ask", sfQuestion(fmt.Sprintf("Q-%02d", i)), storefrontAt)
	})
	if got := sfCount(t, vs, "DAILY_QUESTION_LIMIT"); got != 7 {
		t.Fatalf("%d questions accepted, want 7", got)
	}
	left := sfDecide(srv.Client, srv.URL, "qa.question", map[string]any{"account_id": "A1", "product_id": "P1"}, storefrontAt)
	if left.outcome != "deny" || left.code != "DAILY_QUESTION_LIMIT" {
		t.Fatalf("qa.question after the limit: %+v, want deny DAILY_QUESTION_LIMIT", left)
	}
	// The Beijing day turns at 16:00 UTC: the same account may ask again.
	next := sfDecide(srv.Client, srv.URL, "qa.ask", sfQuestion("Q-next"), "2025-02-01T16:00:00Z")
	if next.outcome != "allow" {
		t.Fatalf("first question of 2025-02-02: %+v, want allow", next)
	}
	sfSameLedger(t, sfLedger(t, srv.DatabaseURL), map[string]string{"qa:A1:P1:2025-02-01": "7", "qa:A1:P1:2025-02-02": "1"})
}

func TestStorefrontBadInputIsAProblemNamingTheField(t *testing.T) {
	rows := storefrontRows()
	rows["store_subscriptions"] = []map[string]any{
		{"id": "S-1", "account_id": "A1", "product_id": "P1", "billing_mode": "monthly", "period_months": 1, "expires_at": "2025-02-15T00:00:00+08:00"},
	}
	srv := testserver.Start(t, testserver.Options{Rows: rows})
	purchase := map[string]any{"account_id": "A1", "product_id": "P1", "sku_id": "P1-STD", "billing_mode": "monthly", "payment_method": "online", "agreement_accepted": true}
	with := func(base map[string]any, k string, v any) map[string]any {
		out := map[string]any{}
		for key, val := range base {
			out[key] = val
		}
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
		return out
	}
	upgrade := map[string]any{"account_id": "A1", "product_id": "P1", "subscription_id": "S-1", "kind": "upgrade", "new_price": "10.00", "old_price": "6.00", "remaining_days": 30, "discount": "0.8"}
	tests := []struct {
		name, decision string
		input          map[string]any
		code, field    string
	}{
		{"trial order without an order id", "trial.order", with(sfTrialOrder("X", "A1"), "order_id", nil), "invalid_input", "input.order_id"},
		{"trial payable as a JSON number", "trial.order", with(sfTrialOrder("X", "A1"), "payable_amount", 0), "invalid_input", "input.payable_amount"},
		{"trial payable with three places", "trial.order", with(sfTrialOrder("X", "A1"), "payable_amount", "0.001"), "invalid_input", "input.payable_amount"},
		{"trial of an unknown account", "trial.order", with(sfTrialOrder("X", "A1"), "account_id", "NOPE"), "fact_not_found", "input.account_id"},
		{"trial of an unknown spec", "trial.eligibility", map[string]any{"account_id": "A1", "product_id": "P1", "sku_id": "NOPE"}, "fact_not_found", "input.sku_id"},
		{"purchase with an unknown billing mode", "purchase.eligibility", with(purchase, "billing_mode", "weekly"), "invalid_input", "input.billing_mode"},
		{"purchase with an unknown field", "purchase.eligibility", with(purchase, "coupon", "K1"), "invalid_input", "input.coupon"},
		{"purchase of an unknown product", "purchase.eligibility", with(purchase, "product_id", "NOPE"), "fact_not_found", "input.product_id"},
		{"renewal of an unknown subscription", "renewal.eligibility", map[string]any{"account_id": "A1", "product_id": "P1", "subscription_id": "NOPE", "period_unit": "month", "period_count": 1}, "fact_not_found", "input.subscription_id"},
		{"renewal in weeks", "renewal.eligibility", map[string]any{"account_id": "A1", "product_id": "P1", "subscription_id": "S-1", "period_unit": "week", "period_count": 1}, "invalid_input", "input.period_unit"},
		{"upgrade without the new price", "saas.change", with(upgrade, "new_price", nil), "invalid_input", "input.new_price"},
		{"upgrade with a negative old price", "saas.change", with(upgrade, "old_price", "-6.00"), "invalid_input", "input.old_price"},
		{"upgrade with a discount above 1", "saas.change", with(upgrade, "discount", "1.2"), "invalid_input", "input.discount"},
		{"repurchase every day", "apipkg.repurchase", map[string]any{"account_id": "A1", "package_id": "PK", "plan_sku_id": "P1-STD", "threshold_type": "percent", "threshold_value": 20, "frequency": "daily"}, "invalid_input", "input.frequency"},
		{"question without text", "qa.ask", with(sfQuestion("Q-1"), "text", ""), "invalid_input", "input.text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectProblem(t, srv.Client, srv.URL, tt.decision, tt.input, storefrontAt, tt.code, tt.field)
		})
	}
}
