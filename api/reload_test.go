package api_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestReloadUnderConcurrentRequests swaps policy sets while requests flow: a good reload takes
// effect, a bad one is refused, and every request in between is answered by a complete set.
func TestReloadUnderConcurrentRequests(t *testing.T) {
	a := startDemo(t, nil, nil)
	before := a.engine.PolicySet().Revision()
	ctx, cancel := context.WithCancel(context.Background())
	var answered, failed atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				r := post(t, a.url+"/v1/decisions/demo.cel_sum", `{"input":{"account_id":"G1","amount":"300"},"as_of":"2024-06-01T00:00:00+08:00"}`)
				out, _ := r.body["outputs"].(map[string]any)
				// Either the old table (rate 0.1) or the new one (rate 0.5): never anything else.
				if r.status != http.StatusOK || (out["fee"] != "30.01" && out["fee"] != "150.05") {
					failed.Add(1)
					t.Errorf("status %d, body %s", r.status, r.raw)
					return
				}
				answered.Add(1)
			}
		}()
	}
	admin := []string{"Authorization", "Bearer s3cret"}

	// A good change: a new rate for 2024.
	writeFile(t, a.dir, "rules/demo/rates/2024.yaml", func(s string) string { return strings.Replace(s, `rate: "0.1"`, `rate: "0.5"`, 1) })
	// The demo cases pin the old fee; update the expectation so the new set proves itself.
	writeFile(t, a.dir, "policies/demo/rego_sum/v1/tests.yaml", func(s string) string { return strings.Replace(s, `fee: "12.999"`, `fee: "64.995"`, 1) })
	writeFile(t, a.dir, "policies/demo/cel_sum/v1/tests.yaml", func(s string) string { return strings.Replace(s, `fee: "12.999"`, `fee: "64.995"`, 1) })
	good := do(t, http.MethodPost, a.url+"/v1/admin/reload", "", nil, admin...)
	if good.status != http.StatusOK || good.body["ok"] != true {
		t.Fatalf("good reload refused: %s", good.raw)
	}
	after := a.engine.PolicySet().Revision()
	if after == before {
		t.Fatalf("revision did not change")
	}

	// A bad change: a policy that no longer compiles, and a case that no longer passes.
	writeFile(t, a.dir, "policies/demo/rego_sum/v1/policy.rego", func(s string) string { return s + "\nbroken if { nope(1) }\n" })
	bad := do(t, http.MethodPost, a.url+"/v1/admin/reload", "", nil, admin...)
	if bad.status != http.StatusUnprocessableEntity || bad.body["code"] != "reload_failed" {
		t.Fatalf("bad reload: %d %s", bad.status, bad.raw)
	}
	if got := a.engine.PolicySet().Revision(); got != after {
		t.Fatalf("a failed reload replaced the set: %s != %s", got, after)
	}
	writeFile(t, a.dir, "policies/demo/rego_sum/v1/policy.rego", func(s string) string { return strings.Replace(s, "\nbroken if { nope(1) }\n", "", 1) })
	writeFile(t, a.dir, "policies/demo/cel_sum/v1/tests.yaml", func(s string) string { return strings.Replace(s, `fee: "64.995"`, `fee: "1.00"`, 1) })
	failing := do(t, http.MethodPost, a.url+"/v1/admin/reload", "", nil, admin...)
	report, _ := failing.body["report"].(map[string]any)
	if failing.status != http.StatusUnprocessableEntity || report == nil || report["failed_cases"] == nil {
		t.Fatalf("a failing case must refuse the reload: %d %s", failing.status, failing.raw)
	}

	cancel()
	wg.Wait()
	if failed.Load() > 0 || answered.Load() == 0 {
		t.Fatalf("answered %d, failed %d", answered.Load(), failed.Load())
	}
	status := do(t, http.MethodGet, a.url+"/v1/status", "", nil)
	last, _ := status.body["last_reload"].(map[string]any)
	lastGood, _ := status.body["last_good_reload"].(map[string]any)
	if status.body["revision"] != after || last["ok"] != false || last["error"] == "" || lastGood["revision"] != after {
		t.Fatalf("status does not report the failure and the serving revision: %s", status.raw)
	}
	metrics := do(t, http.MethodGet, a.url+"/metrics", "", nil)
	if !strings.Contains(string(metrics.raw), "arbiter_reload_last_ok 0") {
		t.Fatalf("metrics do not show the failed reload:\n%s", metrics.raw)
	}
}

func writeFile(t *testing.T, dir, name string, edit func(string) string) {
	t.Helper()
	p := filepath.Join(dir, name)
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(edit(string(raw))), 0o644); err != nil {
		t.Fatal(err)
	}
}
