package perf

import (
	"context"
	"fmt"
	"testing"
	"time"

	"arbiter/engine"
	"arbiter/store"
)

// BenchmarkScale measures coupon.applicability and coupon.quote against the number of lines and
// coupon.candidates against the wallet size (ten lines).
func BenchmarkScale(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 5000} {
		b.Run(fmt.Sprintf("applicability/lines=%d", n), func(b *testing.B) {
			benchDecide(b, merge(Payment(n), Broad()), Applicability())
		})
		b.Run(fmt.Sprintf("quote/lines=%d", n), func(b *testing.B) {
			benchDecide(b, Broad(), Quote(n))
		})
		b.Run(fmt.Sprintf("candidates/coupons=%d", n), func(b *testing.B) {
			benchDecide(b, merge(Payment(10), Wallet(n)), Candidates(false))
		})
	}
}

func benchDecide(b *testing.B, rows store.Rows, req engine.Request) {
	ctx := context.Background()
	e, err := Engine(ctx, rows, engine.WithTimeout(time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.Decide(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Decide(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
