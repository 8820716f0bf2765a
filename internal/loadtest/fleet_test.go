package loadtest_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"arbiter/internal/loadtest"
	"arbiter/internal/testing/pgbouncer"
	"arbiter/internal/testing/testserver"
)

var (
	fleet         = flag.Bool("fleet", false, "run the fixed-rate load test over 1 and then -replicas arbiter processes through PgBouncer")
	fleetReplicas = flag.Int("replicas", 3, "replicas in the fleet load test")
	fleetPool     = flag.Int("pool", 10, "PgBouncer server connections in the fleet load test")
)

// TestFleetLoad compares one replica with -replicas replicas (separate processes, one PostgreSQL,
// through PgBouncer in transaction mode) at the same fixed rate, for a read decision
// (coupon.candidates) and a commit decision (coupon.redeem: after its first answer every request is an
// idempotent replay, a transaction under the coupon's advisory locks), or -decisions. It only reports:
// go test -count=1 -run TestFleetLoad -v ./internal/loadtest -args -fleet -rate 300 -duration 10s
func TestFleetLoad(t *testing.T) {
	if !*fleet {
		t.Skip("measurement, not a test: pass -fleet")
	}
	db := testserver.Start(t, testserver.Options{Fixtures: true})
	via := pgbouncer.Start(t, db.DatabaseURL, pgbouncer.Options{PoolSize: *fleetPool})
	procs := make([]*testserver.Process, *fleetReplicas)
	for i := range procs {
		procs[i] = testserver.StartProcess(t, via)
	}
	client := loadtest.Client()
	names := []string{"coupon.candidates", "coupon.redeem"}
	if *decisions != "" {
		names = strings.Split(*decisions, ",")
	}
	for _, decision := range names {
		body, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "requests", decision+".json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, *fleetReplicas} {
			var urls []string
			for _, p := range procs[:n] {
				urls = append(urls, p.URL+"/v1/decisions/"+decision)
			}
			target := loadtest.Target{URLs: urls, Bodies: [][]byte{body}}
			loadtest.Run(context.Background(), client, target, *rate/10, time.Second) // warm up
			res := loadtest.Run(context.Background(), client, target, *rate, *duration)
			t.Logf("%-18s replicas=%d %s throughput=%.0f/s", decision, n, res, float64(res.OK)/res.Duration.Seconds())
			if res.Failed > 0 {
				t.Errorf("%s over %d replicas: %d requests failed: %v", decision, n, res.Failed, res.Statuses)
			}
		}
	}
}
