package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"arbiter/store/decisionlog"
)

// cmdLog runs `arbiter log export`.
func cmdLog(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		return usageError{"usage: arbiter log export --from T --to T [--decision D,...] [--out FILE]"}
	}
	return cmdLogExport(ctx, args[1:], stdout, stderr)
}

// exportLine is one logged decision as `arbiter log export` writes it: one JSON object a line.
type exportLine struct {
	ID         string          `json:"decision_id"`
	Decision   string          `json:"decision"`
	Version    string          `json:"version"`
	Outcome    string          `json:"outcome"`
	AsOf       time.Time       `json:"as_of"`
	RecordedAt time.Time       `json:"recorded_at"`
	Caller     string          `json:"caller,omitempty"`
	Envelope   json.RawMessage `json:"envelope,omitempty"`
	Input      json.RawMessage `json:"input,omitempty"`
	Facts      json.RawMessage `json:"facts,omitempty"`
}

func cmdLogExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("log export", stderr)
	from := fs.String("from", "", "decisions logged at or after this instant (RFC 3339, or a date 2025-01-31 meaning its start in UTC); required")
	to := fs.String("to", "", "decisions logged before this instant (RFC 3339 or a date); required")
	decisions := fs.String("decision", "", "only these decisions, comma-separated (default: every decision)")
	out := fs.String("out", "", "write to this file instead of standard output")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	filter := decisionlog.Filter{Decisions: splitList(*decisions)}
	for _, b := range []struct {
		name, s string
		t       *time.Time
	}{{"--from", *from, &filter.From}, {"--to", *to, &filter.To}} {
		if b.s == "" {
			return usageError{b.name + " is required (RFC 3339, such as 2025-01-01T00:00:00Z, or a date)"}
		}
		t, err := parseInstant(b.s)
		if err != nil {
			return usageError{fmt.Sprintf("%s: %v", b.name, err)}
		}
		*b.t = t
	}
	if !filter.From.Before(filter.To) {
		return usageError{"--from must be before --to"}
	}
	url, err := databaseURL()
	if err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	n, err := exportLog(ctx, pool, filter, w)
	if err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(stderr, "exported %d decisions to %s\n", n, *out)
	}
	return nil
}

// exportLog writes the records filter selects as NDJSON, in (recorded_at, id) order, one page of the
// log in memory at a time.
func exportLog(ctx context.Context, pool *pgxpool.Pool, filter decisionlog.Filter, w io.Writer) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	n := 0
	err := decisionlog.Stream(ctx, pool, filter, func(r decisionlog.Record) error {
		n++
		return enc.Encode(exportLine{ID: r.ID, Decision: r.Decision, Version: r.Version, Outcome: r.Outcome, AsOf: r.AsOf.UTC(),
			RecordedAt: r.RecordedAt.UTC(), Caller: r.Caller, Envelope: r.Envelope, Input: r.Input, Facts: r.Facts})
	})
	if err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// parseInstant reads RFC 3339 or a date (its first instant in UTC).
func parseInstant(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2025-01-31T00:00:00Z) nor a date (2025-01-31)", s)
}
