package loadtest_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"arbiter/internal/loadtest"
	"arbiter/internal/testing/testserver"
)

var (
	load      = flag.Bool("load", false, "run the fixed-rate HTTP load test against PostgreSQL facts")
	rate      = flag.Int("rate", 1000, "requests per second")
	duration  = flag.Duration("duration", 10*time.Second, "how long to send")
	decisions = flag.String("decisions", "", "comma-separated decision ids (default: every fixtures/requests/*.json)")
)

// TestLoad measures latency at a fixed request rate through the real server with facts in
// PostgreSQL, one decision at a time, using the sample requests of fixtures/requests.
// It only reports: run it with `make load` (go test -run TestLoad ./internal/loadtest -args -load).
func TestLoad(t *testing.T) {
	if !*load {
		t.Skip("measurement, not a test: pass -load (make load)")
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400) // as arbiter serve does
	}
	srv := testserver.Start(t, testserver.Options{Fixtures: true})
	files, err := filepath.Glob("../../fixtures/requests/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample requests: %v", err)
	}
	want := map[string]bool{}
	for _, d := range strings.Split(*decisions, ",") {
		if d != "" {
			want[d] = true
		}
	}
	client := loadtest.Client()
	for _, f := range files {
		decision := strings.TrimSuffix(filepath.Base(f), ".json")
		if len(want) > 0 && !want[decision] {
			continue
		}
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		target := loadtest.Target{URL: srv.URL + "/v1/decisions/" + decisionID(decision), Bodies: [][]byte{body}}
		if r := testserver.PostRaw(t, srv.Client, srv.URL, "/v1/decisions/"+decisionID(decision), body); r.Status != 200 {
			t.Errorf("%s: sample request answered %d: %s", decision, r.Status, r.Raw)
			continue
		}
		loadtest.Run(context.Background(), client, target, *rate/10, time.Second) // warm up pools and caches
		res := loadtest.Run(context.Background(), client, target, *rate, *duration)
		t.Logf("%-28s %s", decisionID(decision), res)
		if res.Failed > 0 {
			t.Errorf("%s: %d requests failed: %v", decision, res.Failed, res.Statuses)
		}
	}
}

// decisionID maps a sample file name (coupon.applicability.json or coupon.applicability.tc01.json) to its decision.
func decisionID(name string) string {
	parts := strings.Split(name, ".")
	if len(parts) < 2 {
		return name
	}
	return parts[0] + "." + parts[1]
}
