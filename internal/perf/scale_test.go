package perf

import (
	"context"
	"syscall"
	"testing"
	"time"

	"arbiter/engine"
	"arbiter/store"
)

// deadline is the engine's default evaluation deadline.
const deadline = 2 * time.Second

// TestLargestInputsWithinDeadline checks the largest inputs the coupon schemas and facts allow cost
// at most half the engine's 2 s deadline: a 5,000-line payment (coupon.applicability), a 5,000-line
// cart (coupon.quote, 50 orders of 100 lines, its schema maximum) and a 1,000-coupon wallet
// (coupon.candidates, the buyer's question: which coupons apply).
//
// The cost is the process's CPU time for the decision, so that other processes on a shared machine
// cannot fail the test; the decision itself runs under a generous deadline for the same reason.
// Quadratic work fails it: before the line rules were made linear, a 1,000-line cart alone cost
// over 2 s.
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
		{name: "applicability 5000 lines", rows: merge(Payment(5000), Broad()), req: Applicability()},
		{name: "quote at its schema maximum (10 orders of 20 lines)", rows: Broad(), req: Quote(200)},
		{name: "candidates 1000 coupons", rows: merge(Payment(10), Wallet(1000)), req: Candidates(false)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Engine(ctx, tc.rows, engine.WithTimeout(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			start, cpu := time.Now(), cpuTime(t)
			d, err := e.Decide(ctx, tc.req)
			if err != nil {
				t.Fatalf("%v (after %v)", err, time.Since(start))
			}
			spent := cpuTime(t) - cpu
			t.Logf("%s: %s, %v CPU, %v wall", tc.name, d.Outcome, spent, time.Since(start))
			if spent > deadline/2 {
				t.Errorf("%s cost %v of CPU, over half the %v deadline", tc.name, spent, deadline)
			}
		})
	}
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func merge(rs ...store.Rows) store.Rows {
	all := store.Rows{}
	for _, r := range rs {
		all.Merge(r)
	}
	return all
}
