package decisionlog_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"arbiter/store/decisionlog"
)

func at(i int, when time.Time) decisionlog.Record {
	r := record(i, "demo.x")
	r.RecordedAt = when
	return r
}

func month(y int, m time.Month) time.Time { return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC) }

func partitionOf(t *testing.T, p *pgxpool.Pool, id string) string {
	t.Helper()
	var name string
	if err := p.QueryRow(context.Background(), `SELECT tableoid::regclass::text FROM decision_log WHERE id = $1`, id).Scan(&name); err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	return name
}

// TestPruneDropsWholeMonths: retention drops the months that ended before the cutoff (with their fact
// snapshots) and deletes the default partition's records before it; the month holding the cutoff stays.
func TestPruneDropsWholeMonths(t *testing.T) {
	ctx := context.Background()
	p := pool(t)
	if _, err := decisionlog.EnsurePartitions(ctx, p, month(2025, 1), month(2025, 3)); err != nil {
		t.Fatal(err)
	}
	log := decisionlog.NewPostgres(p, decisionlog.Options{Interval: 10 * time.Millisecond})
	log.Enqueue(at(1, month(2025, 1).Add(36*time.Hour)))
	log.Enqueue(at(2, month(2025, 2).Add(36*time.Hour)))
	log.Enqueue(at(3, month(2025, 3).Add(36*time.Hour)))
	log.Enqueue(at(4, month(2024, 6).Add(time.Hour))) // no partition: the default one
	log.Enqueue(at(5, month(2024, 9).Add(time.Hour)))
	if err := log.Close(ctx); err != nil || log.Dropped() != 0 {
		t.Fatalf("close: %v, dropped %d", err, log.Dropped())
	}
	if got := partitionOf(t, p, "d0001"); got != "decision_log_2025_01" {
		t.Fatalf("d0001 is in %s", got)
	}
	if got := partitionOf(t, p, "d0004"); got != "decision_log_default" {
		t.Fatalf("d0004 is in %s", got)
	}
	tests := []struct {
		name    string
		cutoff  time.Time
		dropped []string
		rows    int64
		kept    []string
		gone    []string
	}{
		{"nothing older", month(2024, 1), nil, 0, []string{"d0001", "d0004"}, nil},
		{"a default row", month(2024, 8), nil, 1, []string{"d0001", "d0005"}, []string{"d0004"}},
		{"January ended before the cutoff, February did not", month(2025, 2).Add(20 * 24 * time.Hour), []string{"decision_log_2025_01"}, 1,
			[]string{"d0002", "d0003"}, []string{"d0001", "d0005"}},
		{"again: nothing more", month(2025, 2).Add(20 * 24 * time.Hour), nil, 0, []string{"d0002"}, nil},
		{"February to the day", month(2025, 3), []string{"decision_log_2025_02"}, 0, []string{"d0003"}, []string{"d0002"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decisionlog.Prune(ctx, p, tt.cutoff)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Partitions, tt.dropped) || got.Rows != tt.rows {
				t.Fatalf("pruned %+v, want partitions %v and %d rows", got, tt.dropped, tt.rows)
			}
			for _, id := range tt.kept {
				rec, err := log.Get(ctx, id)
				if err != nil {
					t.Errorf("%s: %v, want kept", id, err)
				} else {
					sameJSON(t, id+" facts", rec.Facts, record(0, "").Facts)
				}
			}
			for _, id := range tt.gone {
				if _, err := log.Get(ctx, id); !errors.Is(err, decisionlog.ErrNotFound) {
					t.Errorf("%s: %v, want deleted", id, err)
				}
			}
		})
	}
	var snapshots int
	if err := p.QueryRow(ctx, `SELECT count(*) FROM decision_log_facts`).Scan(&snapshots); err != nil || snapshots != 1 {
		t.Fatalf("%d fact snapshots left (%v), want 1: March's", snapshots, err)
	}
}

// TestEnsurePartitionsMovesStrays: a record logged in a month without its partition waits in the
// default partition, and moves, with its facts, into the month's partition once it is created.
func TestEnsurePartitionsMovesStrays(t *testing.T) {
	ctx := context.Background()
	p := pool(t)
	log := decisionlog.NewPostgres(p, decisionlog.Options{Interval: 10 * time.Millisecond})
	log.Enqueue(at(1, month(2031, 4).Add(time.Hour)))
	if err := log.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := partitionOf(t, p, "d0001"); got != "decision_log_default" {
		t.Fatalf("d0001 is in %s", got)
	}
	made, err := decisionlog.EnsurePartitions(ctx, p, month(2031, 3), month(2031, 4).Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"decision_log_2031_03", "decision_log_2031_04"}; !slices.Equal(made, want) {
		t.Fatalf("created %v, want %v", made, want)
	}
	if got := partitionOf(t, p, "d0001"); got != "decision_log_2031_04" {
		t.Fatalf("d0001 is in %s", got)
	}
	rec, err := log.Get(ctx, "d0001")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "facts", rec.Facts, record(0, "").Facts)
	if made, err := decisionlog.EnsurePartitions(ctx, p, month(2031, 3), month(2031, 4)); err != nil || len(made) != 0 {
		t.Fatalf("again: created %v, %v", made, err)
	}
	parts, err := decisionlog.Partitions(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if last := parts[len(parts)-1]; last.Name != "decision_log_2031_04" || !last.Month.Equal(month(2031, 4)) {
		t.Fatalf("last partition %+v", last)
	}
}

// TestFactSnapshotsAreShared: the records of one month decided on the same facts store them once.
func TestFactSnapshotsAreShared(t *testing.T) {
	ctx := context.Background()
	p := pool(t)
	if _, err := decisionlog.EnsurePartitions(ctx, p, month(2025, 1), month(2025, 2)); err != nil {
		t.Fatal(err)
	}
	log := decisionlog.NewPostgres(p, decisionlog.Options{Interval: 10 * time.Millisecond})
	for i := range 10 {
		log.Enqueue(at(i, month(2025, 1).Add(time.Duration(i)*time.Hour)))
	}
	other := at(10, month(2025, 1).Add(time.Hour))
	other.Facts = []byte(`{"account": {"id": "A2", "balance": "7"}}`)
	log.Enqueue(other)
	log.Enqueue(at(11, month(2025, 2).Add(time.Hour)))
	if err := log.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var jan, feb int
	if err := p.QueryRow(ctx, `SELECT (SELECT count(*) FROM decision_log_facts_2025_01), (SELECT count(*) FROM decision_log_facts_2025_02)`).Scan(&jan, &feb); err != nil {
		t.Fatal(err)
	}
	if jan != 2 || feb != 1 {
		t.Fatalf("snapshots: January %d (want 2), February %d (want 1)", jan, feb)
	}
	for i := range 12 {
		rec, err := log.Get(ctx, fmt.Sprintf("d%04d", i))
		if err != nil {
			t.Fatal(err)
		}
		want := record(0, "").Facts
		if i == 10 {
			want = other.Facts
		}
		sameJSON(t, rec.ID+" facts", rec.Facts, want)
	}
}
