package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"arbiter/engine"
	"arbiter/engine/value"
	"arbiter/internal/loadtest"
	"arbiter/internal/testing/testserver"
	"arbiter/store"
)

// Benchmarks over the shipped policies: every sample request in process (facts in memory and in
// PostgreSQL) and over HTTP against PostgreSQL, and coupon.candidates over a 50-coupon wallet.
// The fixed-rate load test of the sample requests is `make load`.

var (
	couponLoad     = flag.Bool("coupon-load", false, "run the fixed-rate coupon.candidates load test")
	couponRate     = flag.Int("coupon-rate", 200, "coupon.candidates requests per second in the load test")
	couponDuration = flag.Duration("coupon-duration", 10*time.Second, "how long the coupon.candidates load test sends")
)

// engines returns the server's engine (PostgreSQL) and one over the same policies with rows in memory.
func engines(b *testing.B, srv *testserver.Server, rows store.Rows) []struct {
	name string
	e    *engine.Engine
} {
	b.Helper()
	mem, err := store.NewMemory(srv.Service.Engine.PolicySet().Catalog(), rows)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(mem.Close)
	return []struct {
		name string
		e    *engine.Engine
	}{
		{"memory", engine.New(srv.Service.Engine.PolicySet(), mem)},
		{"postgres", srv.Service.Engine},
	}
}

// benchDecide decides req once (it must succeed) and then b.N times.
func benchDecide(b *testing.B, e *engine.Engine, req engine.Request) {
	ctx := context.Background()
	if _, err := e.Decide(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Decide(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// benchHTTP posts body to url b.N times one after another and reports the p50 and p99 latencies.
func benchHTTP(b *testing.B, client *http.Client, url string, body []byte) {
	var lat []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
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
}

// BenchmarkSampleRequestsOverPostgres measures each fixtures/requests/*.json of a decision that does
// not commit (a commit replays after its first call, which would measure the replay) in process,
// with the fixtures in memory and in PostgreSQL, and over HTTP against PostgreSQL:
// go test -run '^$' -bench BenchmarkSampleRequestsOverPostgres -benchmem ./api
func BenchmarkSampleRequestsOverPostgres(b *testing.B) {
	rows := testserver.Fixtures(b)
	srv := testserver.Start(b, testserver.Options{Rows: rows})
	stores := engines(b, srv, rows)
	for _, rq := range sampleRequestFiles(b) {
		if rq.name != rq.decision || commitDecision(srv, rq.decision) {
			continue
		}
		var body struct {
			Input json.RawMessage `json:"input"`
			AsOf  time.Time       `json:"as_of"`
		}
		if err := json.Unmarshal(rq.raw, &body); err != nil {
			b.Fatalf("%s: %v", rq.file, err)
		}
		input, err := value.Decode(body.Input, "input")
		if err != nil {
			b.Fatalf("%s: %v", rq.file, err)
		}
		req := engine.Request{Decision: rq.decision, Input: input, AsOf: body.AsOf}
		for _, s := range stores {
			b.Run(rq.decision+"/"+s.name, func(b *testing.B) { benchDecide(b, s.e, req) })
		}
		b.Run(rq.decision+"/http", func(b *testing.B) { benchHTTP(b, srv.Client, srv.URL+"/v1/decisions/"+rq.decision, rq.raw) })
	}
}

func commitDecision(srv *testserver.Server, decision string) bool {
	info, _ := srv.Service.Engine.PolicySet().Decision(decision)
	for _, v := range info.Versions {
		if v.Commit {
			return true
		}
	}
	return false
}

// couponWallet builds payment BENCH of A1 with 10 lines (4 P1, 3 P2 of M1, 2 P9 of M2, 1 bundled
// ECS line) and a wallet of 50 coupons. A mixed wallet holds what a buyer collects: 10 of the
// payment's merchants that apply, 10 of them that do not (thresholds, SKUs, expired, used) and 30
// of other merchants; in the all-applicable wallet every coupon applies.
func couponWallet(allApplicable bool) store.Rows {
	rows := couponRows(nil, nil)
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
		rows["coupons"] = append(rows["coupons"], couponRow(id, "A1", over))
	}
	return rows
}

var wallets = []struct {
	name string
	all  bool
}{{"mixed", false}, {"all-applicable", true}}

// BenchmarkCouponCandidates measures coupon.candidates for a 50-coupon wallet against a 10-line
// payment in process, with facts in memory and in PostgreSQL.
func BenchmarkCouponCandidates(b *testing.B) {
	asOf, _ := time.Parse(time.RFC3339, checkoutAt)
	for _, wallet := range wallets {
		rows := canonical(b, couponWallet(wallet.all))
		srv := testserver.Start(b, testserver.Options{Rows: rows})
		for _, s := range engines(b, srv, rows) {
			b.Run(wallet.name+"/"+s.name, func(b *testing.B) {
				req := engine.Request{Decision: "coupon.candidates", Input: map[string]any{"account_id": "A1", "payment_id": "BENCH"}, AsOf: asOf}
				d, err := s.e.Decide(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				if n := d.Outputs["wallet_size"]; fmt.Sprint(n) != "50" {
					b.Fatalf("wallet_size %v", n)
				}
				benchDecide(b, s.e, req)
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
	for _, wallet := range wallets {
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
