package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"arbiter/internal/testing/pgtest"
	"arbiter/store/decisionlog"
)

// TestLogExport: records of three months (one of them in no partition of its own) are exported as
// NDJSON, only those logged in [--from, --to) and of --decision, oldest first, with their facts.
func TestLogExport(t *testing.T) {
	ctx := context.Background()
	url := pgtest.New(t)
	t.Setenv("DATABASE_URL", url)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	jan := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := decisionlog.EnsurePartitions(ctx, pool, jan, jan.AddDate(0, 1, 0)); err != nil {
		t.Fatal(err)
	}
	log := decisionlog.NewPostgres(pool, decisionlog.Options{Interval: 10 * time.Millisecond})
	for i := range 12 { // every 10 days from January 1st: up to April 20th, March and April in the default partition
		decision := "demo.a"
		if i%3 == 2 {
			decision = "demo.b"
		}
		at := jan.Add(time.Duration(i) * 10 * 24 * time.Hour)
		log.Enqueue(decisionlog.Record{ID: fmt.Sprintf("r%02d", i), Decision: decision, Version: "1", Outcome: "allow", AsOf: at, RecordedAt: at,
			Caller: "key:k", Envelope: json.RawMessage(`{"outcome": "allow"}`), Input: json.RawMessage(fmt.Sprintf(`{"n": %d}`, i)),
			Facts: json.RawMessage(`{"account": {"id": "A1"}}`)})
	}
	if err := log.Close(ctx); err != nil || log.Dropped() != 0 {
		t.Fatalf("close: %v, dropped %d", err, log.Dropped())
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"a window across months", []string{"--from", "2025-01-15", "--to", "2025-03-15T00:00:00Z"}, []string{"r02", "r03", "r04", "r05", "r06", "r07"}},
		{"one decision", []string{"--from", "2025-01-01", "--to", "2026-01-01", "--decision", "demo.b"}, []string{"r02", "r05", "r08", "r11"}},
		{"nothing", []string{"--from", "2024-01-01", "--to", "2024-12-31"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			if err := cmdLog(ctx, append([]string{"export"}, tt.args...), &out, &errs); err != nil {
				t.Fatalf("%v (%s)", err, errs.String())
			}
			var got []string
			sc := bufio.NewScanner(&out)
			for sc.Scan() {
				var line exportLine
				if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
					t.Fatalf("line %q: %v", sc.Text(), err)
				}
				if string(line.Facts) != `{"account":{"id":"A1"}}` || line.Caller != "key:k" || line.Input == nil || line.RecordedAt.IsZero() {
					t.Errorf("line %s", sc.Text())
				}
				got = append(got, line.ID)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("exported %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLogExportUsage(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", nil, "usage: arbiter log export"},
		{"no from", []string{"export", "--to", "2025-01-01"}, "--from is required"},
		{"bad to", []string{"export", "--from", "2025-01-01", "--to", "next week"}, `--to: "next week" is neither RFC 3339`},
		{"from after to", []string{"export", "--from", "2025-02-01", "--to", "2025-01-01"}, "--from must be before --to"},
		{"no database", []string{"export", "--from", "2025-01-01", "--to", "2025-02-01"}, "DATABASE_URL is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			err := cmdLog(context.Background(), tt.args, &out, &errs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}
