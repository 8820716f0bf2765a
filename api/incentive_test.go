package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"arbiter/engine"
	"arbiter/internal/testing/testserver"
	"arbiter/store"
)

// Incentive decisions beyond the catalog cases: the published 2024 worked example and the yearly
// table switch over HTTP with PostgreSQL facts, bad input as problems, the sample requests, and the
// incentive.growth benchmarks.

// incentiveRows returns the incentive tables of the embedded fixtures.
func incentiveRows(t testing.TB) store.Rows {
	t.Helper()
	rows := store.Rows{}
	for table, rs := range testserver.Fixtures(t) {
		if strings.HasPrefix(table, "incentive_") {
			rows[table] = rs
		}
	}
	if len(rows["incentive_growth_metrics"]) == 0 {
		t.Fatal("fixtures/incentive.yaml has no growth statements")
	}
	return rows
}

// decisionJSON is the part of the envelope these tests read.
type decisionJSON struct {
	Decision string `json:"decision"`
	Policy   struct {
		Version string `json:"version"`
		Digest  string `json:"digest"`
	} `json:"policy"`
	Tables []struct {
		Name    string `json:"name"`
		Table   string `json:"table"`
		Version string `json:"version"`
	} `json:"tables"`
	Outcome string `json:"outcome"`
	Reasons []struct {
		Code string `json:"code"`
		Rule string `json:"rule"`
	} `json:"reasons"`
	Outputs map[string]json.RawMessage `json:"outputs"`
}

func decodeDecision(t *testing.T, r testserver.Response) decisionJSON {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.Status, r.Raw)
	}
	var d decisionJSON
	if err := json.Unmarshal(r.Raw, &d); err != nil {
		t.Fatalf("decode %s: %v", r.Raw, err)
	}
	return d
}

// text returns an output as its exact JSON text, so "15.83657640" and "15.8365764" differ.
func (d decisionJSON) text(name string) string { return string(d.Outputs[name]) }

func (d decisionJSON) tableVersion(id string) string {
	for _, t := range d.Tables {
		if t.Table == id {
			return t.Version
		}
	}
	return ""
}

func TestIncentiveWorkedExampleOverHTTPWithPostgres(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: incentiveRows(t)})
	d := decodeDecision(t, srv.Decide(t, "incentive.growth", map[string]any{"partner_id": "INC-P1", "policy_year": 2024}, "2024-12-31T23:59:59+08:00"))
	if d.Outcome != "allow" || len(d.Reasons) != 0 {
		t.Fatalf("outcome %s reasons %v, want allow without reasons", d.Outcome, d.Reasons)
	}
	for _, tt := range []struct{ output, want string }{
		{"growth_rate_percent", `"226.07"`},
		{"threshold_increment", `"1446741.46"`},
		{"rate", `"0.04"`},
		{"incremental_performance", `"565086.49"`},
		{"total_incentive", `"22603.46"`},
		{"allocation_ratio", `"0.0228191099448136"`},
		{"rows_incentive_total", `"22603.46000001"`},
	} {
		if got := d.text(tt.output); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.output, got, tt.want)
		}
	}
	var rows []struct {
		RowID     string `json:"row_id"`
		Incentive string `json:"incentive"`
	}
	if err := json.Unmarshal(d.Outputs["rows"], &rows); err != nil {
		t.Fatal(err)
	}
	want := []string{"15.83657640", "47.78447128", "12385.17038701", "10154.66856532"}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v, want %d", rows, len(want))
	}
	for i, w := range want {
		if rows[i].Incentive != w || rows[i].RowID != fmt.Sprintf("INC-P1-2024-R%d", i+1) {
			t.Errorf("row %d = %+v, want INC-P1-2024-R%d %s", i, rows[i], i+1, w)
		}
	}
	if v := d.tableVersion("incentive.growth_policy"); v != "2024" {
		t.Errorf("envelope names growth table version %q, want 2024", v)
	}
}

// TestIncentiveAsOfSelectsTheYearlyTable sends one request shape on both sides of the 2025 boundary:
// 2024 has a published growth table; 2025 has none (the example table is not served), so a 2025
// request is a no_table_version problem rather than an invented answer.
func TestIncentiveAsOfSelectsTheYearlyTable(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: incentiveRows(t)})
	input := map[string]any{"partner_id": "INC-G1"}
	before := decodeDecision(t, srv.Decide(t, "incentive.growth", input, "2024-12-31T23:59:59+08:00"))

	if before.Outcome != "allow" || before.text("total_incentive") != `"9876.54"` || before.text("rate") != `"0.08"` {
		t.Errorf("2024: %s total %s rate %s, want allow 9876.54 at 0.08", before.Outcome, before.text("total_incentive"), before.text("rate"))
	}
	if before.tableVersion("incentive.growth_policy") != "2024" || before.text("example_policy") != "false" {
		t.Errorf("2024: table %q example %s", before.tableVersion("incentive.growth_policy"), before.text("example_policy"))
	}
	after := srv.Decide(t, "incentive.growth", input, "2025-01-01T00:00:00+08:00")
	if after.Status != http.StatusUnprocessableEntity || after.Body["code"] != "no_table_version" {
		t.Errorf("2025: HTTP %d %s, want 422 no_table_version\n%s", after.Status, after.Body["code"], after.Raw)
	}
}

func TestIncentiveBadInputIsAProblemNamingTheField(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: incentiveRows(t)})
	statement := func(field, value string) map[string]any {
		s := map[string]any{"threshold_metric_cur": "2086683.11", "threshold_metric_prev": "639941.65",
			"base_metric_cur": "990549.59", "base_metric_prev": "425463.10"}
		s[field] = value
		return map[string]any{"partner_id": "INC-P1", "statement": s}
	}
	tests := []struct {
		name, decision string
		input          any
		code, field    string
	}{
		{"non-numeric metric", "incentive.growth", statement("threshold_metric_prev", "six hundred"), "invalid_input", "input.statement.threshold_metric_prev"},
		{"negative metric", "incentive.growth", statement("base_metric_cur", "-990549.59"), "invalid_input", "input.statement.base_metric_cur"},
		{"metric with three places", "incentive.growth", statement("base_metric_prev", "425463.105"), "invalid_input", "input.statement.base_metric_prev"},
		{"metric as a JSON number", "incentive.growth", map[string]any{"partner_id": "INC-P1", "statement": map[string]any{
			"threshold_metric_cur": 2086683.11, "threshold_metric_prev": "639941.65", "base_metric_cur": "990549.59", "base_metric_prev": "425463.10"}},
			"invalid_input", "input.statement.threshold_metric_cur"},
		{"unknown partner", "incentive.growth", map[string]any{"partner_id": "INC-NOBODY"}, "fact_not_found", "input.partner_id"},
		{"unexpected field", "incentive.growth", map[string]any{"partner_id": "INC-P1", "year": 2024}, "invalid_input", "input.year"},
		{"claim for an unknown partner", "incentive.claim", map[string]any{"partner_id": "INC-NOBODY", "incentive_ids": []any{"INC-I1"}}, "fact_not_found", "input.partner_id"},
		{"claim without a selection", "incentive.claim", map[string]any{"partner_id": "INC-P1"}, "invalid_input", "input.incentive_ids"},
		{"settlement amount with a comma", "incentive.settlement", map[string]any{"partner_id": "INC-P1", "amount": "1,060.00",
			"output_tax_category": "cloud_service", "payout_method": "bank_transfer"}, "invalid_input", "input.amount"},
		{"negative payment part", "incentive.performance", map[string]any{"partner_id": "INC-P1", "customer_id": "INC-CU1",
			"lines": []any{map[string]any{"id": "L1", "paid_at": "2025-01-31T23:30:00+08:00", "site": "cn", "kind": "consumption",
				"channel": "official", "paid": map[string]any{"cash": "-1.00"}}}}, "invalid_input", "input.lines[0].paid.cash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectProblem(t, srv.Client, srv.URL, tt.decision, tt.input, "2024-12-31T12:00:00+08:00", tt.code, tt.field)
		})
	}
}

// TestIncentiveSampleRequests posts every fixtures/requests/incentive.*.json to a server holding the
// fixtures, as the curl examples do.
func TestIncentiveSampleRequests(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: incentiveRows(t)})
	want := map[string]struct {
		outcome string
		output  string
		value   string
	}{
		"incentive.growth":      {"allow", "total_incentive", `"22603.46"`},
		"incentive.claim":       {"allow", "net_amount", `"1430.00"`},
		"incentive.expiry":      {"allow", "new_negative", `"-400.00"`},
		"incentive.settlement":  {"allow", "invoice_amount", `"1060.00"`},
		"incentive.invoice":     {"allow", "payment_due_on", `"2025-03-16"`},
		"incentive.performance": {"allow", "beneficiary_performance_total", `"1050.00"`},
	}
	files, err := filepath.Glob("../fixtures/requests/incentive.*.json")
	if err != nil || len(files) != len(want) {
		t.Fatalf("sample requests %v (%v), want one per decision: %d", files, err, len(want))
	}
	for _, f := range files {
		decision := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(decision, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			w, ok := want[decision]
			if !ok {
				t.Fatalf("no expectation for %s", decision)
			}
			d := decodeDecision(t, testserver.PostRaw(t, srv.Client, srv.URL, "/v1/decisions/"+decision, raw))
			if d.Outcome != w.outcome || d.text(w.output) != w.value {
				t.Errorf("%s: %s %s=%s, want %s %s", decision, d.Outcome, w.output, d.text(w.output), w.outcome, w.value)
			}
		})
	}
}

// BenchmarkIncentiveGrowth decides the worked example in process (facts in memory and in PostgreSQL)
// and over HTTP against PostgreSQL:
// go test -run '^$' -bench BenchmarkIncentiveGrowth -benchmem ./api
func BenchmarkIncentiveGrowth(b *testing.B) {
	rows := incentiveRows(b)
	srv := testserver.Start(b, testserver.Options{Rows: rows})
	mem, err := store.NewMemory(srv.Service.Engine.PolicySet().Catalog(), rows)
	if err != nil {
		b.Fatal(err)
	}
	asOf := time.Date(2024, 12, 31, 23, 59, 59, 0, engine.Beijing)
	input := map[string]any{"partner_id": "INC-P1"}
	req := engine.Request{Decision: "incentive.growth", Input: input, AsOf: asOf}
	for _, s := range []struct {
		name string
		e    *engine.Engine
	}{
		{"memory", engine.New(srv.Service.Engine.PolicySet(), mem)},
		{"postgres", srv.Service.Engine},
	} {
		b.Run(s.name, func(b *testing.B) {
			d, err := s.e.Decide(context.Background(), req)
			if err != nil {
				b.Fatal(err)
			}
			if got := fmt.Sprint(d.Outputs["total_incentive"]); got != "22603.46" {
				b.Fatalf("total_incentive %s", got)
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
	b.Run("http", func(b *testing.B) {
		body := []byte(`{"input": {"partner_id": "INC-P1"}, "as_of": "2024-12-31T23:59:59+08:00"}`)
		url := srv.URL + "/v1/decisions/incentive.growth"
		var lat []time.Duration
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			start := time.Now()
			resp, err := srv.Client.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("HTTP %d", resp.StatusCode)
			}
			lat = append(lat, time.Since(start))
		}
		b.StopTimer()
		if len(lat) > 0 {
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds()), "p99-µs")
		}
	})
}
