package server_test

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"arbiter/engine"
	"arbiter/internal/server"
)

var updateBudgets = flag.Bool("update-budgets", false, "rewrite testdata/alloc_budgets.json from the measured allocations")

// budgetFile holds, per sample request, the most allocations one decision may make: what it
// measured when the budget was set, plus a quarter.
const budgetFile = "testdata/alloc_budgets.json"

// budgetSlack is the share above the measured allocations a budget allows.
const budgetSlack = 1.25

// TestAllocationBudgets decides every sample request (fixtures/requests/*.json) in-process on the
// embedded default and fails when a decision allocates more than its budget, so that a change that
// makes a decision costlier fails `make test`. Allocations, unlike time, do not depend on what else
// the machine runs. `go test ./internal/server -run TestAllocationBudgets -update-budgets` records
// new budgets after a deliberate change.
func TestAllocationBudgets(t *testing.T) {
	if testing.Short() {
		t.Skip("decides every sample request many times")
	}
	svc, err := server.Build(context.Background(), server.Config{EvalTimeout: 5 * time.Second}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	// No decision log: its writer goroutine allocates concurrently and would blur the count.
	e := engine.New(svc.Engine.PolicySet(), svc.Store, engine.WithTimeout(5*time.Second))
	budgets := map[string]int{}
	if !*updateBudgets {
		raw, err := os.ReadFile(budgetFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &budgets); err != nil {
			t.Fatalf("%s: %v", budgetFile, err)
		}
	}
	files, _ := filepath.Glob("../../fixtures/requests/*.json")
	if len(files) == 0 {
		t.Fatal("no sample requests in fixtures/requests")
	}
	measured := map[string]int{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			req := sampleRequest(t, f)
			if isCommit(svc, req.Decision) {
				req.DryRun = true // a committed decision would only be replayed from the second run on
			}
			ctx := context.Background()
			if _, err := e.Decide(ctx, req); err != nil {
				t.Fatal(err)
			}
			var failed error
			allocs := testing.AllocsPerRun(20, func() {
				if _, err := e.Decide(ctx, req); err != nil {
					failed = err
				}
			})
			if failed != nil {
				t.Fatal(failed)
			}
			measured[name] = int(math.Ceil(allocs * budgetSlack))
			if *updateBudgets {
				return
			}
			budget, ok := budgets[name]
			if !ok {
				t.Fatalf("%s has no allocation budget in %s; run with -update-budgets", name, budgetFile)
			}
			if allocs > float64(budget) {
				t.Errorf("%s allocates %.0f per decision, over its budget of %d (%s)", name, allocs, budget, budgetFile)
			}
		})
	}
	if *updateBudgets && !t.Failed() {
		names := make([]string, 0, len(measured))
		for n := range measured {
			names = append(names, n)
		}
		sort.Strings(names)
		var b strings.Builder
		b.WriteString("{\n")
		for i, n := range names {
			sep := ","
			if i == len(names)-1 {
				sep = ""
			}
			b.WriteString("  \"" + n + "\": " + itoa(measured[n]) + sep + "\n")
		}
		b.WriteString("}\n")
		if err := os.WriteFile(budgetFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
