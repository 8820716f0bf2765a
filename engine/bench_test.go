package engine_test

import (
	"context"
	"testing"
	"time"

	"arbiter/engine"
	"arbiter/store"
)

func benchDecide(b *testing.B, decision string) {
	set := loadGood(b)
	e := engine.New(set, memStore(b, store.Rows{"demo_accounts": {{"id": "G1", "tier": "gold", "balance": "0.10"}}}))
	req := engine.Request{Decision: decision, AsOf: time.Date(2024, 6, 1, 0, 0, 0, 0, engine.Beijing), Input: map[string]any{"account_id": "G1", "amount": "129.89"}}
	ctx := context.Background()
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

// BenchmarkDecideRego measures a whole Rego decision: schema, facts from memory, evaluation, envelope.
func BenchmarkDecideRego(b *testing.B) { benchDecide(b, "demo.rego_sum") }

// BenchmarkDecideCEL measures the same decision written in CEL.
func BenchmarkDecideCEL(b *testing.B) { benchDecide(b, "demo.cel_sum") }
