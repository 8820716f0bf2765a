package decisionlog

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"arbiter/internal/testing/pgtest"
)

// v7 makes a UUIDv7 holding the time at.
func v7(at time.Time, seq byte) string {
	u := uuid.Must(uuid.NewV7())
	ms := at.UnixMilli()
	for i := range 6 {
		u[i] = byte(ms >> (40 - 8*i))
	}
	u[15] = seq
	return u.String()
}

func TestIDTime(t *testing.T) {
	when := time.Date(2025, 3, 9, 10, 11, 12, 345e6, time.UTC)
	tests := []struct {
		name string
		id   string
		want time.Time
		ok   bool
	}{
		{"uuidv7", v7(when, 1), when, true},
		{"uuidv4", uuid.NewString(), time.Time{}, false},
		{"not a uuid", "bench-0000001", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := idTime(tt.id)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Fatalf("idTime(%s) = %v, %v; want %v, %v", tt.id, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestGetReadsOneMonth: a lookup by a UUIDv7 id reads the partition of the month its id names (the
// plan scans one of the log's partitions), and finds a record stamped months away from its id too.
func TestGetReadsOneMonth(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := EnsurePartitions(ctx, pool, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	when := time.Date(2025, 3, 9, 10, 0, 0, 0, time.UTC)
	near, far := v7(when, 1), v7(when, 2)
	log := NewPostgres(pool, Options{Interval: 10 * time.Millisecond})
	for _, r := range []Record{
		{ID: near, Decision: "demo.x", Version: "1", Outcome: "allow", AsOf: when, RecordedAt: when.Add(time.Second), Facts: json.RawMessage(`{"a": 1}`)},
		{ID: far, Decision: "demo.x", Version: "1", Outcome: "allow", AsOf: when, RecordedAt: when.AddDate(0, 2, 0), Facts: json.RawMessage(`{"a": 2}`)},
	} {
		log.Enqueue(r)
	}
	if err := log.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{near, far} {
		rec, err := log.Get(ctx, id)
		if err != nil || rec.ID != id {
			t.Fatalf("get %s: %+v, %v", id, rec, err)
		}
	}
	at, _ := idTime(near)
	rows, err := pool.Query(ctx, "EXPLAIN (COSTS OFF) "+selectRecord+` WHERE l.id = $1 AND l.recorded_at >= $2 AND l.recorded_at < $3`, near, at.Add(-idWindow), at.Add(idWindow))
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var line string
		_ = rows.Scan(&line)
		plan = append(plan, line)
	}
	text := strings.Join(plan, "\n")
	if n := strings.Count(text, " on decision_log_20"); n != 1 || !strings.Contains(text, "decision_log_2025_03") {
		t.Fatalf("the lookup scans %d of the log's partitions, want March's only:\n%s", n, text)
	}
}
