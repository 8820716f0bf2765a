package revision_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"arbiter/internal/testing/demotree"
	"arbiter/internal/testing/pgtest"
	"arbiter/internal/testing/testserver"
	"arbiter/revision"
	"arbiter/store"
)

// replicas starts n servers on one database holding the demo tree's fact tables; they serve the demo
// folder until something is published.
func replicas(t *testing.T, n int) ([]*testserver.Server, *revision.Store, revision.Tree) {
	t.Helper()
	ctx := context.Background()
	db := pgtest.New(t)
	if err := store.Migrate(ctx, db, demotree.Catalog(t)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	demotree.WriteTo(t, dir)
	var out []*testserver.Server
	for i := 0; i < n; i++ {
		out = append(out, testserver.Start(t, testserver.Options{DatabaseURL: db, PolicyDir: dir, RevisionPoll: 500 * time.Millisecond,
			Rows: store.Rows{"demo_accounts": {{"id": "G1", "tier": "gold", "balance": "0"}}}}))
	}
	tree, err := revision.Snapshot(demotree.FS(t))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return out, revision.NewStore(pool), tree
}

type published struct {
	Mode    string `json:"mode"`
	Serving *struct {
		Seq int64 `json:"seq"`
	} `json:"serving"`
	Rejected *struct {
		Seq    int64  `json:"seq"`
		Reason string `json:"reason"`
	} `json:"rejected"`
}

func status(t *testing.T, s *testserver.Server) published {
	t.Helper()
	resp, err := s.Client.Get(s.URL + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Published published `json:"published"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Published
}

// waitFor polls every replica's status until ok holds for all of them.
func waitFor(t *testing.T, servers []*testserver.Server, what string, ok func(published) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for i, s := range servers {
		for {
			st := status(t, s)
			if ok(st) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %d: %s: status %+v", i, what, st)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func serving(seq int64) func(published) bool {
	return func(p published) bool { return p.Mode == "published" && p.Serving != nil && p.Serving.Seq == seq }
}

func fee(t *testing.T, s *testserver.Server, asOf string) string {
	t.Helper()
	r := s.Decide(t, "demo.cel_sum", map[string]any{"account_id": "G1", "amount": "1000"}, asOf)
	if r.Status != http.StatusOK {
		t.Fatalf("decide: %d %s", r.Status, r.Raw)
	}
	return fmt.Sprint(r.Body["outputs"].(map[string]any)["fee"])
}

func metrics(t *testing.T, s *testserver.Server) string {
	t.Helper()
	resp, err := s.Client.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return string(raw)
}

// TestReplicasFollowPublishesAndRollbacks: two servers on one database switch together after a
// publish, refuse a revision whose cases fail, and switch back on a rollback.
func TestReplicasFollowPublishesAndRollbacks(t *testing.T) {
	ctx := context.Background()
	servers, revs, tree := replicas(t, 2)
	waitFor(t, servers, "unpublished before any publish", func(p published) bool { return p.Mode == "unpublished" })

	r1, err := revs.Publish(ctx, tree, revision.Meta{Author: "ana", Message: "first"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, servers, "serving r1", serving(r1.Seq))
	for _, s := range servers {
		if got := fee(t, s, "2026-03-01T00:00:00+08:00"); got != "200" && got != "200.0" {
			t.Fatalf("fee in 2026 under r1 = %s, want 200 (the 2025 rate 0.2)", got)
		}
	}

	next := tree.Clone()
	if _, err := revision.NewVersion(next, "rules/demo/rates", "2026", time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))); err != nil {
		t.Fatal(err)
	}
	next["rules/demo/rates/2026.yaml"] = []byte(strings.Replace(string(next["rules/demo/rates/2026.yaml"]), `rate: "0.2"`, `rate: "0.3"`, 1))
	r2, err := revs.Publish(ctx, next, revision.Meta{Author: "ana", Message: "2026 rates"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, servers, "serving r2", serving(r2.Seq))
	for i, s := range servers {
		if got := fee(t, s, "2026-03-01T00:00:00+08:00"); !strings.HasPrefix(got, "300") {
			t.Fatalf("replica %d: fee in 2026 under r2 = %s, want 300", i, got)
		}
		if m := metrics(t, s); !strings.Contains(m, fmt.Sprintf(`arbiter_published_revision{seq="%d"`, r2.Seq)) {
			t.Fatalf("replica %d: /metrics does not report r%d", i, r2.Seq)
		}
	}

	// A revision whose cases fail never serves: each replica keeps r2 and says why.
	broken := next.Clone()
	file := "policies/demo/cel_sum/v1/tests.yaml"
	broken[file] = []byte(strings.Replace(string(broken[file]), `total: "129.99"`, `total: "1.00"`, 1))
	r3, err := revs.Publish(ctx, broken, revision.Meta{Author: "ana", Message: "a wrong expectation"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, servers, "r3 rejected", func(p published) bool {
		return serving(r2.Seq)(p) && p.Rejected != nil && p.Rejected.Seq == r3.Seq && strings.Contains(p.Rejected.Reason, "cases failed")
	})
	for i, s := range servers {
		if got := fee(t, s, "2026-03-01T00:00:00+08:00"); !strings.HasPrefix(got, "300") {
			t.Fatalf("replica %d: fee after the refused r3 = %s, want r2's 300", i, got)
		}
		if m := metrics(t, s); !strings.Contains(m, fmt.Sprintf("arbiter_published_revision_rejected %d", r3.Seq)) {
			t.Fatalf("replica %d: /metrics does not report the rejected r%d", i, r3.Seq)
		}
	}

	r4, err := revs.Rollback(ctx, r1.Seq, revision.Meta{Author: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, servers, "serving the rollback", serving(r4.Seq))
	for i, s := range servers {
		if got := fee(t, s, "2026-03-01T00:00:00+08:00"); got != "200" && got != "200.0" {
			t.Fatalf("replica %d: fee after rolling back to r1 = %s, want 200", i, got)
		}
	}
}

// TestRestartedReplicaCatchesUp: a publish made while a replica is down (its NOTIFY is lost) is served
// by the replica when it comes back.
func TestRestartedReplicaCatchesUp(t *testing.T) {
	ctx := context.Background()
	servers, revs, tree := replicas(t, 1)
	db := servers[0].DatabaseURL
	servers[0].Service.Close()
	r1, err := revs.Publish(ctx, tree, revision.Meta{Author: "ana", Message: "while down"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	demotree.WriteTo(t, dir)
	back := testserver.Start(t, testserver.Options{DatabaseURL: db, PolicyDir: dir, RevisionPoll: time.Hour})
	waitFor(t, []*testserver.Server{back}, "serving r1 after the restart", serving(r1.Seq))
}
