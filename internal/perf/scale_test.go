package perf

import (
	"context"
	"testing"
	"time"

	"arbiter/engine"
	"arbiter/store"
)

// TestLargestInputsWithinDeadline checks the largest inputs the coupon schemas and facts allow answer
// under the engine's default 2 s deadline: a 5,000-line payment (coupon.applicability), a 5,000-line
// cart (coupon.quote, 50 orders of 100 lines, its schema maximum) and a 1,000-coupon wallet
// (coupon.candidates, the buyer's question: which coupons apply).
func TestLargestInputsWithinDeadline(t *testing.T) {
	if testing.Short() {
		t.Skip("generates large payments")
	}
	ctx := context.Background()
	tests := []struct {
		name string
		rows store.Rows
		req  engine.Request
	}{
		{name: "applicability 5000 lines", rows: merge(Payment(5000), Wallet(1)), req: Applicability()},
		{name: "quote 5000 lines", rows: Wallet(1), req: Quote(5000)},
		{name: "candidates 1000 coupons", rows: merge(Payment(10), Wallet(1000)), req: Candidates(false)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Engine(ctx, tc.rows)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			d, err := e.Decide(ctx, tc.req)
			if err != nil {
				t.Fatalf("%v (after %v)", err, time.Since(start))
			}
			t.Logf("%s: %s in %v", tc.name, d.Outcome, time.Since(start))
		})
	}
}

func merge(rs ...store.Rows) store.Rows {
	all := store.Rows{}
	for _, r := range rs {
		all.Merge(r)
	}
	return all
}
