package api_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"arbiter/internal/testing/testserver"
	"arbiter/store/decisionlog"
)

// TestRetentionDropsAMonthUnderLoad: two replicas answer decisions and commits while retention drops
// two old months of the log (20,000 records) and the next months' partitions are created: every
// request is answered 200, every answered decision is logged and readable by id, and the old months
// are gone.
func TestRetentionDropsAMonthUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("retention under load")
	}
	ctx := context.Background()
	const coupons = 300
	var cs, ps []string
	for i := range coupons {
		cs, ps = append(cs, fmt.Sprintf("K%04d", i)), append(ps, fmt.Sprintf("PAY%04d", i))
	}
	a := testserver.Start(t, testserver.Options{Rows: canonical(t, couponRows(cs, ps))})
	b := testserver.Start(t, testserver.Options{DatabaseURL: a.DatabaseURL})
	admin, err := pgxpool.New(ctx, a.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	old := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := decisionlog.EnsurePartitions(ctx, admin, old, old.AddDate(0, 1, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `INSERT INTO decision_log (id, decision, version, as_of, outcome, envelope, input, facts, recorded_at)
		SELECT 'old-' || g, 'coupon.applicability', '1', $1::timestamptz + g * interval '3 minutes', 'allow', '{}', '{}', '{"a": 1}',
			$1::timestamptz + g * interval '3 minutes'
		FROM generate_series(0, 19999) g`, old); err != nil {
		t.Fatal(err)
	}

	load := startLogLoad([]*testserver.Server{a, b}, coupons, 6)
	time.Sleep(700 * time.Millisecond)
	pruned, err := decisionlog.Prune(ctx, admin, old.AddDate(0, 2, 0))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	future := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	made, err := decisionlog.EnsurePartitions(ctx, admin, future, future.AddDate(0, 2, 0))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	ok := load.finish()
	t.Logf("answered 200: %d; other answers: %v; dropped %v, created %v", len(ok), load.other, pruned.Partitions, made)
	if len(load.other) > 0 {
		t.Fatalf("answers other than 200 while partitions were dropped and created: %v", load.other)
	}
	if want := []string{"decision_log_2024_01", "decision_log_2024_02"}; !slices.Equal(pruned.Partitions, want) || len(made) != 3 {
		t.Fatalf("dropped %v (want %v), created %v (want three)", pruned.Partitions, want, made)
	}
	byKind := map[string]int{}
	for _, d := range ok {
		byKind[d.decision]++
	}
	if byKind["coupon.redeem"] == 0 || byKind["coupon.applicability"] == 0 {
		t.Fatalf("the load did not exercise commits and decisions: %v", byKind)
	}
	ids := make([]string, len(ok))
	for i, d := range ok {
		ids[i] = d.id
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var stored, old int
		if err := admin.QueryRow(ctx, `SELECT (SELECT count(*) FROM decision_log WHERE id = ANY($1)), (SELECT count(*) FROM decision_log WHERE id LIKE 'old-%')`, ids).Scan(&stored, &old); err != nil {
			t.Fatal(err)
		}
		if old != 0 {
			t.Fatalf("%d records of the dropped months remain", old)
		}
		if stored == len(ids) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d answered decisions logged", stored, len(ids))
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, d := range ok[:min(len(ok), 20)] {
		if r := testserver.Get(t, a.Client, a.URL, "/v1/decisions/"+d.id); r.Status != http.StatusOK || r.Body["decision_id"] != d.id {
			t.Fatalf("GET %s: %d %v", d.id, r.Status, r.Body)
		}
	}
}
