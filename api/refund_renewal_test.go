package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"arbiter/internal/testing/testserver"
)

// TestWholeInstanceRefundGivesBackTheRenewal files the sample refund of RFD-S1 (order RFD-O1 paid
// 500.00, renewal RFD-O1R paid 300.00 from 2025-07-07) against the fixtures in PostgreSQL: S002 L2852
// unsubscribes the renewal with the instance, and L2804/L2809/L2817 refund it in full, so the path
// answers and the committed request records 800.00 with a per-order breakdown.
func TestWholeInstanceRefundGivesBackTheRenewal(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Fixtures: true})
	sample := func(decision string) map[string]any {
		raw, err := os.ReadFile(filepath.Join("..", "fixtures", "requests", decision+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatal(err)
		}
		return body
	}
	type breakdown struct {
		OrderID      string `json:"order_id"`
		Path         string `json:"path"`
		RefundAmount string `json:"refund_amount"`
	}
	var answer struct {
		DecisionID string `json:"decision_id"`
		Outcome    string `json:"outcome"`
		Outputs    struct {
			RefundAmount      string      `json:"refund_amount"`
			OrderRefundAmount string      `json:"order_refund_amount"`
			Cancelled         []string    `json:"renewal_periods_cancelled"`
			Breakdown         []breakdown `json:"refund_breakdown"`
		} `json:"outputs"`
	}
	check := func(name string, r testserver.Response) {
		t.Helper()
		if r.Status != http.StatusOK || json.Unmarshal(r.Raw, &answer) != nil {
			t.Fatalf("%s: HTTP %d %s", name, r.Status, r.Raw)
		}
		o := answer.Outputs
		want := []breakdown{{"RFD-O1", "FIVE_DAY_NO_REASON", "500.00"}, {"RFD-O1R", "RENEWAL_NOT_EFFECTIVE_FULL", "300.00"}}
		if answer.Outcome != "allow" || o.RefundAmount != "800.00" || o.OrderRefundAmount != "500.00" || len(o.Cancelled) != 1 || o.Cancelled[0] != "RFD-O1R" ||
			len(o.Breakdown) != 2 || o.Breakdown[0] != want[0] || o.Breakdown[1] != want[1] {
			t.Fatalf("%s: %s %+v, want allow 800.00 = 500.00 + 300.00 (RFD-O1R)\n%s", name, answer.Outcome, o, r.Raw)
		}
	}
	check("refund.path", testserver.Post(t, srv.Client, srv.URL, "/v1/decisions/refund.path", sample("refund.path")))
	check("refund.request", testserver.Post(t, srv.Client, srv.URL, "/v1/decisions/refund.request", sample("refund.request")))

	// What was committed is the whole refund.
	var stored []byte
	if err := srv.Postgres.Pool().QueryRow(context.Background(),
		`SELECT answer FROM commits WHERE decision = 'refund.request' AND idempotency_key = 'RFD-REQ-1'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	var committed struct {
		Outputs struct {
			RefundAmount string      `json:"refund_amount"`
			Breakdown    []breakdown `json:"refund_breakdown"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(stored, &committed); err != nil || committed.Outputs.RefundAmount != "800.00" || len(committed.Outputs.Breakdown) != 2 {
		t.Fatalf("committed answer %s (%v), want refund_amount 800.00 over two orders", stored, err)
	}

	// The renewal went back with the instance: it cannot be refunded a second time on its own.
	again := sample("refund.request")
	in := again["input"].(map[string]any)
	in["request_id"], in["order_id"], in["scope"], in["path"] = "RFD-REQ-2", "RFD-O1R", "renewal_period", "RENEWAL_NOT_EFFECTIVE_FULL"
	r := testserver.Post(t, srv.Client, srv.URL, "/v1/decisions/refund.request", again)
	if r.Status != http.StatusOK || r.Body["outcome"] != "deny" {
		t.Fatalf("the renewal alone afterwards: HTTP %d %v, want deny\n%s", r.Status, r.Body["outcome"], r.Raw)
	}
}
