package decisionlog

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"arbiter/internal/testing/pgtest"
)

// TestStreamPagesInLoggedOrder: pages smaller than the log, ties on recorded_at, and every filter.
func TestStreamPagesInLoggedOrder(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var rows [][]any
	for i := 0; i < 11; i++ {
		decision := "a.x"
		if i%2 == 1 {
			decision = "b.y"
		}
		// Three records share each instant: the page boundary falls inside ties.
		rows = append(rows, []any{fmt.Sprintf("id-%02d", i), decision, "v1", base, "allow", `{}`, `{}`, `{}`, base.Add(time.Duration(i/3) * time.Second)})
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"decision_log"},
		[]string{"id", "decision", "version", "as_of", "outcome", "envelope", "input", "facts", "recorded_at"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	defer func(n int) { streamPage = n }(streamPage)
	streamPage = 2
	tests := []struct {
		name   string
		filter Filter
		want   string
	}{
		{name: "all", want: "id-00 id-01 id-02 id-03 id-04 id-05 id-06 id-07 id-08 id-09 id-10"},
		{name: "logged from the second second", filter: Filter{From: base.Add(time.Second)}, want: "id-03 id-04 id-05 id-06 id-07 id-08 id-09 id-10"},
		{name: "logged before the second second", filter: Filter{To: base.Add(time.Second)}, want: "id-00 id-01 id-02"},
		{name: "one decision", filter: Filter{Decisions: []string{"b.y"}}, want: "id-01 id-03 id-05 id-07 id-09"},
		{name: "ids", filter: Filter{IDs: []string{"id-10", "id-04"}}, want: "id-04 id-10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			err := Stream(ctx, pool, tc.filter, func(r Record) error {
				if got != "" {
					got += " "
				}
				got += r.ID
				return nil
			})
			if err != nil || got != tc.want {
				t.Fatalf("streamed %q, %v; want %q", got, err, tc.want)
			}
			n, err := Count(ctx, pool, tc.filter)
			if err != nil || int(n) != len(tc.want)/6+1 {
				t.Fatalf("count = %d, %v", n, err)
			}
		})
	}
}
