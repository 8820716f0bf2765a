package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"arbiter/engine"
	"arbiter/internal/testing/testserver"
	"arbiter/store"
)

// Refund decisions beyond the catalog cases: the yearly self-service quota under concurrency and across
// two server processes, idempotent retries, the Beijing year boundary of the quota, bad input over
// HTTP, and refund.path benchmarks in-process and over HTTP.

// refundNow is the §8.0 refund evaluation time: every test instance was provisioned two days earlier.
const refundNow = "2025-06-10T12:00:00+08:00"

// refundAccount is A1 with the §8.0 P1 SaaS product and used self-service refunds recorded for 2025.
func refundAccount(used int) string {
	return fmt.Sprintf(`
market_accounts:
  - {id: A1, personal_real_name_verified: true}
market_products:
  - {id: P1, merchant_id: M1, delivery_type: saas, supervised: false, offered_billing_modes: [monthly, yearly]}
  - {id: P2, merchant_id: M1, delivery_type: saas, supervised: false, offered_billing_modes: [monthly, yearly]}
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

// refundVerdict is what one refund.request answered.
type refundVerdict struct {
	request    string
	status     int
	outcome    string
	code       string
	decisionID string
}

// fileRefund posts a refund.request; it is safe to call from any goroutine.
func fileRefund(client *http.Client, baseURL string, input map[string]any, asOf string) refundVerdict {
	a := decide(client, baseURL, "refund.request", input, asOf)
	return refundVerdict{request: fmt.Sprint(input["request_id"]), status: a.status, outcome: a.outcome, code: a.code, decisionID: a.decisionID}
}

// refundLedger returns the database's ledger rows as decision_id -> "key=amount" strings.
func refundLedger(t *testing.T, databaseURL string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rs, err := pool.Query(ctx, `SELECT decision_id, key, amount::text FROM ledger_entries ORDER BY decision_id, key`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	out := map[string][]string{}
	for rs.Next() {
		var id, key, amount string
		if err := rs.Scan(&id, &key, &amount); err != nil {
			t.Fatal(err)
		}
		out[id] = append(out[id], key+"="+amount)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// refundCommits counts the committed refund.request answers.
func refundCommits(t *testing.T, databaseURL string) int {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM commits WHERE decision = 'refund.request'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// exactlyThreeRefunded checks the race: three allowed, the rest refused for the quota, and for every
// winner exactly its two ledger rows (quota and instance) and nothing else in the ledger.
func exactlyThreeRefunded(t *testing.T, vs []refundVerdict, databaseURL string) {
	t.Helper()
	var winners []refundVerdict
	for _, v := range vs {
		switch {
		case v.status != http.StatusOK:
			t.Errorf("%s: HTTP %d %s", v.request, v.status, v.code)
		case v.outcome == "allow":
			winners = append(winners, v)
		case v.outcome != "deny" || v.code != "YEARLY_QUOTA_EXHAUSTED":
			t.Errorf("%s: %s %s, want deny YEARLY_QUOTA_EXHAUSTED", v.request, v.outcome, v.code)
		}
	}
	if len(winners) != 3 {
		t.Fatalf("%d refunds succeeded with 3 left in the quota, want exactly 3: %+v", len(winners), winners)
	}
	ledger := refundLedger(t, databaseURL)
	if len(ledger) != 3 {
		t.Errorf("ledger holds entries of %d decisions, want the 3 winners: %v", len(ledger), ledger)
	}
	for _, w := range winners {
		instance := "S" + strings.TrimPrefix(w.request, "REQ")
		want := []string{"refund_quota:A1:2025=1", "refund_subscription:" + instance + "=1"}
		if got := ledger[w.decisionID]; strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s (decision %s) wrote %v, want %v", w.request, w.decisionID, got, want)
		}
	}
	if n := refundCommits(t, databaseURL); n != 3 {
		t.Errorf("%d refund.request answers committed, want 3", n)
	}
}

func TestRefundQuotaUnderConcurrency(t *testing.T) {
	rows := yamlRows(t, refundAccount(7)+refundInstances(20, "2025-06-08T12:00:00+08:00"))
	srv := testserver.Start(t, testserver.Options{Rows: rows})
	vs := race(20, func(i int) refundVerdict {
		return fileRefund(srv.Client, srv.URL, refundInput(fmt.Sprintf("REQ%02d", i), i), refundNow)
	})
	exactlyThreeRefunded(t, vs, srv.DatabaseURL)

	// The path decision now sees the quota used up for every other instance.
	for i := range 20 {
		r := srv.Decide(t, "refund.path", map[string]any{"account_id": "A1", "product_id": "P1",
			"subscription_id": fmt.Sprintf("S%02d", i), "order_id": fmt.Sprintf("O%02d", i)}, refundNow)
		if r.Status != http.StatusOK || r.Body["outcome"] != "deny" {
			t.Fatalf("refund.path S%02d after the race: HTTP %d %v\n%s", i, r.Status, r.Body["outcome"], r.Raw)
		}
		quota := r.Body["outputs"].(map[string]any)["quota"].(map[string]any)
		if fmt.Sprint(quota["used"]) != "10" || fmt.Sprint(quota["remaining"]) != "0" {
			t.Fatalf("quota after the race %v, want used 10 remaining 0", quota)
		}
	}
}

func TestRefundQuotaAcrossTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts two arbiter processes")
	}
	rows := yamlRows(t, refundAccount(7)+refundInstances(20, "2025-06-08T12:00:00+08:00"))
	db := testserver.Start(t, testserver.Options{Rows: rows}) // creates, migrates and seeds the database
	replicas := []*testserver.Process{testserver.StartProcess(t, db.DatabaseURL), testserver.StartProcess(t, db.DatabaseURL)}
	client := &http.Client{Timeout: 30 * time.Second}
	vs := race(20, func(i int) refundVerdict {
		return fileRefund(client, replicas[i%2].URL, refundInput(fmt.Sprintf("REQ%02d", i), i), refundNow)
	})
	exactlyThreeRefunded(t, vs, db.DatabaseURL)
}

func TestRefundTenthAndEleventhOfTheYear(t *testing.T) {
	rows := yamlRows(t, refundAccount(8)+refundInstances(3, "2025-06-08T12:00:00+08:00"))
	srv := testserver.Start(t, testserver.Options{Rows: rows})
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
		code := ""
		if rs, _ := r.Body["reasons"].([]any); len(rs) > 0 {
			code = fmt.Sprint(rs[0].(map[string]any)["code"])
		}
		quota, _ := r.Body["outputs"].(map[string]any)["quota"].(map[string]any)
		if r.Status != http.StatusOK || r.Body["outcome"] != s.outcome || code != s.code || fmt.Sprint(quota["remaining_after"]) != s.remaining {
			t.Fatalf("%s refund: HTTP %d %v %q remaining_after %v, want %s %q %s\n%s", s.name, r.Status, r.Body["outcome"], code, quota["remaining_after"], s.outcome, s.code, s.remaining, r.Raw)
		}
	}
	var quotaRows int
	for _, entries := range refundLedger(t, srv.DatabaseURL) {
		for _, e := range entries {
			if strings.HasPrefix(e, "refund_quota:A1:2025=") {
				quotaRows++
			}
		}
	}
	if quotaRows != 2 {
		t.Fatalf("%d quota rows in the ledger, want 2 (the 9th and the 10th)", quotaRows)
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
	var keys []string
	for i, s := range steps {
		v := fileRefund(srv.Client, srv.URL, refundInput(fmt.Sprintf("REQ%02d", i), i), s.asOf)
		if v.status != http.StatusOK || v.outcome != s.outcome {
			t.Fatalf("as of %s: HTTP %d %s %s, want %s", s.asOf, v.status, v.outcome, v.code, s.outcome)
		}
		if v.outcome == "allow" {
			keys = append(keys, "refund_quota:A1:"+s.year+"=1")
		}
	}
	var got []string
	for _, entries := range refundLedger(t, srv.DatabaseURL) {
		for _, e := range entries {
			if strings.HasPrefix(e, "refund_quota:") {
				got = append(got, e)
			}
		}
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(keys, ",") {
		t.Fatalf("quota ledger %v, want %v", got, keys)
	}
}

func TestRefundRequestRetryReturnsTheOriginalAnswer(t *testing.T) {
	rows := yamlRows(t, refundAccount(3)+refundInstances(2, "2025-06-08T12:00:00+08:00"))
	srv := testserver.Start(t, testserver.Options{Rows: rows})
	body := map[string]any{"input": refundInput("REQ-1", 0), "as_of": refundNow}
	first := testserver.Post(t, srv.Client, srv.URL, "/v1/decisions/refund.request", body)
	again := testserver.Post(t, srv.Client, srv.URL, "/v1/decisions/refund.request", body)
	if first.Status != http.StatusOK || again.Status != http.StatusOK || first.Body["outcome"] != "allow" || again.Body["outcome"] != "allow" {
		t.Fatalf("HTTP %d %v then %d %v\n%s\n%s", first.Status, first.Body["outcome"], again.Status, again.Body["outcome"], first.Raw, again.Raw)
	}
	if first.Body["decision_id"] != again.Body["decision_id"] {
		t.Errorf("a retry made a new decision %v, want the original %v", again.Body["decision_id"], first.Body["decision_id"])
	}
	if c, _ := again.Body["commit"].(map[string]any); c["replayed"] != true {
		t.Errorf("retry commit %v, want replayed", again.Body["commit"])
	}
	// The same request id for another instance is a conflict naming the field, and records nothing.
	other := srv.Decide(t, "refund.request", refundInput("REQ-1", 1), refundNow)
	if other.Status != http.StatusConflict || other.Body["code"] != string(engine.CodeIdempotencyReuse) || !strings.Contains(string(other.Raw), "input.request_id") {
		t.Fatalf("reused request id: HTTP %d %v, want 409 %s naming input.request_id\n%s", other.Status, other.Body["code"], engine.CodeIdempotencyReuse, other.Raw)
	}
	ledger := refundLedger(t, srv.DatabaseURL)
	if len(ledger) != 1 || len(ledger[fmt.Sprint(first.Body["decision_id"])]) != 2 {
		t.Fatalf("ledger %v, want only the first refund's two rows", ledger)
	}
	// A new request id for the refunded instance finds it already unsubscribed.
	twice := fileRefund(srv.Client, srv.URL, refundInput("REQ-2", 0), refundNow)
	if twice.outcome != "deny" || twice.code != "ALREADY_UNSUBSCRIBED" {
		t.Fatalf("second refund of S00: %s %s, want deny ALREADY_UNSUBSCRIBED", twice.outcome, twice.code)
	}
}

func TestRefundBadInputIsAProblemNamingTheField(t *testing.T) {
	rows := yamlRows(t, refundAccount(3)+refundInstances(1, "2025-06-08T12:00:00+08:00"))
	srv := testserver.Start(t, testserver.Options{Rows: rows})
	path := func(change map[string]any) map[string]any {
		in := map[string]any{"account_id": "A1", "product_id": "P1", "subscription_id": "S00", "order_id": "O00"}
		for k, v := range change {
			if v == nil {
				delete(in, k)
			} else {
				in[k] = v
			}
		}
		return in
	}
	request := func(change map[string]any) map[string]any {
		in := refundInput("REQ-BAD", 0)
		for k, v := range change {
			if v == nil {
				delete(in, k)
			} else {
				in[k] = v
			}
		}
		return in
	}
	tests := []struct {
		name, decision string
		input          map[string]any
		asOf           string
		status         int
		code, field    string
	}{
		{"missing subscription", "refund.path", path(map[string]any{"subscription_id": nil}), refundNow, 422, "invalid_input", "input.subscription_id"},
		{"empty order id", "refund.path", path(map[string]any{"order_id": ""}), refundNow, 422, "invalid_input", "input.order_id"},
		{"unknown field", "refund.path", path(map[string]any{"refund_to": "bank"}), refundNow, 422, "invalid_input", "input.refund_to"},
		{"unknown scope", "refund.path", path(map[string]any{"scope": "everything"}), refundNow, 422, "invalid_input", "input.scope"},
		{"amount as a JSON number", "refund.path", path(map[string]any{"amount": 100}), refundNow, 422, "invalid_input", "input.amount"},
		{"negative amount", "refund.path", path(map[string]any{"amount": "-1.00"}), refundNow, 422, "invalid_input", "input.amount"},
		{"over-precise amount", "refund.path", path(map[string]any{"amount": "1.005"}), refundNow, 422, "invalid_input", "input.amount"},
		{"with_ecs as text", "refund.path", path(map[string]any{"with_ecs": "yes"}), refundNow, 422, "invalid_input", "input.with_ecs"},
		{"unknown instance", "refund.path", path(map[string]any{"subscription_id": "S99"}), refundNow, 422, "fact_not_found", "input.subscription_id"},
		{"another product's instance", "refund.path", path(map[string]any{"product_id": "P2"}), refundNow, 422, "fact_not_found", "input.subscription_id"},
		{"unknown account", "refund.path", path(map[string]any{"account_id": "NOPE"}), refundNow, 422, "fact_not_found", "input.account_id"},
		{"order of another instance", "refund.path", path(map[string]any{"order_id": "O99"}), refundNow, 422, "fact_not_found", "input.order_id"},
		{"bad as_of", "refund.path", path(nil), "2025-06-10 12:00", 400, "invalid_request", "as_of"},
		{"missing request id", "refund.request", request(map[string]any{"request_id": nil}), refundNow, 422, "invalid_input", "input.request_id"},
		{"unknown path", "refund.request", request(map[string]any{"path": "CASH_BACK"}), refundNow, 422, "invalid_input", "input.path"},
		{"negotiated without an amount", "refund.request", request(map[string]any{"path": "NEGOTIATED"}), refundNow, 422, "invalid_input", "input.amount"},
		{"unknown progress action", "refund.progress", map[string]any{"account_id": "A1", "request_id": "R1", "action": "escalate"}, refundNow, 422, "invalid_input", "input.action"},
		{"unknown refund request", "refund.progress", map[string]any{"account_id": "A1", "request_id": "R1"}, refundNow, 422, "fact_not_found", "input.request_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, _ := json.Marshal(map[string]any{"input": tt.input, "as_of": tt.asOf})
			resp, err := srv.Client.Post(srv.URL+"/v1/decisions/"+tt.decision, "application/json", strings.NewReader(string(raw)))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var p struct {
				Status int    `json:"status"`
				Code   string `json:"code"`
				Errors []struct {
					Field string `json:"field"`
				} `json:"errors"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
				t.Fatal(err)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
				t.Errorf("Content-Type %q, want application/problem+json", ct)
			}
			if resp.StatusCode != tt.status || p.Status != resp.StatusCode || p.Code != tt.code {
				t.Fatalf("HTTP %d (body status %d) code %q, want %d %s", resp.StatusCode, p.Status, p.Code, tt.status, tt.code)
			}
			var fields []string
			for _, e := range p.Errors {
				fields = append(fields, e.Field)
			}
			if !hasRefundField(fields, tt.field) {
				t.Fatalf("fields %v, want %s", fields, tt.field)
			}
		})
	}
	if ledger := refundLedger(t, srv.DatabaseURL); len(ledger) != 0 {
		t.Fatalf("bad requests wrote %v", ledger)
	}
}

func hasRefundField(fields []string, want string) bool {
	for _, f := range fields {
		if f == want {
			return true
		}
	}
	return false
}

// refundBenchRows is the §8.0 default refund with a renewal not yet in effect, an invoice returned
// and a campaign on another activity, so refund.path loads every kind of fact it reads.
const refundBenchRows = `
market_accounts:
  - {id: A1, personal_real_name_verified: true}
market_products:
  - {id: P1, merchant_id: M1, delivery_type: saas, supervised: false, offered_billing_modes: [monthly, yearly]}
refund_subscriptions:
  - {id: S1, owner_account_id: A1, product_id: P1, order_id: O1, billing_mode: monthly, provisioned_at: "2025-06-07T12:00:00+08:00", expires_at: "2025-07-07T00:00:00+08:00"}
refund_orders:
  - {id: O1, subscription_id: S1, account_id: A1, order_type: new, paid_at: "2025-06-07T11:55:00+08:00"}
  - {id: R1, subscription_id: S1, account_id: A1, order_type: renewal, period_start: "2025-07-07T00:00:00+08:00"}
refund_payments:
  - {id: PAY-O1, order_id: O1, cash_amount: "500.00", coupon_id: K1, coupon_amount: "20.00"}
  - {id: PAY-R1, order_id: R1, subscription_id: S1, cash_amount: "300.00"}
refund_invoices:
  - {id: INV1, order_id: O1, kind: electronic, status: returned}
refund_campaign_terms:
  - {activity_id: ACT-1, product_id: P1, refund_allowed: false}
refund_quota_counts:
  - {account_id: A1, calendar_year: 2025, source: marketplace, refunds: 2}
  - {account_id: A1, calendar_year: 2025, source: cloud_service, refunds: 1}
`

var refundBenchInput = map[string]any{"account_id": "A1", "product_id": "P1", "subscription_id": "S1", "order_id": "O1"}

// BenchmarkRefundPath measures refund.path in-process through the engine's public API, with facts
// in memory and in PostgreSQL.
func BenchmarkRefundPath(b *testing.B) {
	rows := yamlRows(b, refundBenchRows)
	srv := testserver.Start(b, testserver.Options{Rows: rows})
	mem, err := store.NewMemory(srv.Service.Engine.PolicySet().Catalog(), rows)
	if err != nil {
		b.Fatal(err)
	}
	asOf, _ := time.Parse(time.RFC3339, refundNow)
	for _, s := range []struct {
		name string
		e    *engine.Engine
	}{
		{"memory", engine.New(srv.Service.Engine.PolicySet(), mem)},
		{"postgres", srv.Service.Engine},
	} {
		b.Run(s.name, func(b *testing.B) {
			req := engine.Request{Decision: "refund.path", Input: refundBenchInput, AsOf: asOf}
			d, err := s.e.Decide(context.Background(), req)
			if err != nil {
				b.Fatal(err)
			}
			if d.Outputs["path"] != "FIVE_DAY_NO_REASON" {
				b.Fatalf("path %v, want FIVE_DAY_NO_REASON", d.Outputs["path"])
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

// BenchmarkRefundPathHTTP measures refund.path through the real HTTP handler with facts in
// PostgreSQL, one request at a time, and reports the p50 and p99 latencies.
func BenchmarkRefundPathHTTP(b *testing.B) {
	srv := testserver.Start(b, testserver.Options{Rows: yamlRows(b, refundBenchRows)})
	body, _ := json.Marshal(map[string]any{"input": refundBenchInput, "as_of": refundNow})
	if r := testserver.PostRaw(b, srv.Client, srv.URL, "/v1/decisions/refund.path", body); r.Status != http.StatusOK || r.Body["outcome"] != "allow" {
		b.Fatalf("HTTP %d: %s", r.Status, r.Raw)
	}
	var latencies []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		resp, err := srv.Client.Post(srv.URL+"/v1/decisions/refund.path", "application/json", strings.NewReader(string(body)))
		if err != nil {
			b.Fatal(err)
		}
		var answer struct {
			Outcome string `json:"outcome"`
		}
		err = json.NewDecoder(resp.Body).Decode(&answer)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || answer.Outcome != "allow" {
			b.Fatalf("HTTP %d %s: %v", resp.StatusCode, answer.Outcome, err)
		}
		latencies = append(latencies, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	at := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds())
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}
