package cel_test

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"arbiter/casetest"
	"arbiter/engine"
	"arbiter/store"
)

// BenchmarkCEL measures whole decisions of shipped CEL policies, one catalog case after another:
// facts from memory, evaluation and envelope, so most of what it reports is the CEL program.
func BenchmarkCEL(b *testing.B) {
	tree := os.DirFS("../../..")
	set, err := engine.Load(context.Background(), tree)
	if err != nil {
		b.Fatal(err)
	}
	cases, err := casetest.Load(tree, set)
	if err != nil {
		b.Fatal(err)
	}
	for _, decision := range []string{"university.voucher_quote", "incentive.performance", "incentive.claim"} {
		b.Run(decision, func(b *testing.B) {
			type run struct {
				e   *engine.Engine
				req engine.Request
			}
			var runs []run
			for _, tc := range cases {
				if tc.Decision != decision || tc.Want.Error != "" {
					continue
				}
				mem, err := store.NewMemory(set.Catalog(), tc.Rows)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { mem.Close() })
				req := tc.Request()
				req.DryRun = true
				runs = append(runs, run{engine.New(set, mem, engine.WithTables(tc.Tables)), req})
			}
			if len(runs) == 0 {
				b.Fatalf("no cases for %s", decision)
			}
			ctx := context.Background()
			for _, r := range runs {
				if _, err := r.e.Decide(ctx, r.req); err != nil {
					b.Fatalf("%s: %v", decision, err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				r := runs[i%len(runs)]
				if _, err := r.e.Decide(ctx, r.req); err != nil {
					b.Fatal(err)
				}
			}
			// On a shared machine wall time mostly measures the neighbours; CPU time less so.
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
