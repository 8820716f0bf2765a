package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"arbiter/impact"
	"arbiter/store"
	"arbiter/store/decisionlog"
)

func cmdImpact(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("impact", stderr)
	candidate := fs.String("candidate", "", "folder holding the candidate policies/ and rules/")
	decision := fs.String("decision", "", "only this decision (default: every decision)")
	from := fs.String("from", "", "replay decisions made at or after this RFC 3339 instant (default: 30 days ago)")
	to := fs.String("to", "", "replay decisions made before this RFC 3339 instant (default: now)")
	limit := fs.Int("limit", 10000, "replay at most this many logged decisions")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *candidate == "" {
		return usageError{"--candidate is required"}
	}
	window, err := timeWindow(*from, *to)
	if err != nil {
		return err
	}
	url, err := databaseURL()
	if err != nil {
		return err
	}
	set, _, err := loadSet(ctx, *candidate)
	if err != nil {
		return err
	}
	pg, err := store.OpenPostgres(ctx, url, set.Catalog())
	if err != nil {
		return err
	}
	defer pg.Close()
	log := decisionlog.NewPostgres(pg.Pool(), decisionlog.Options{})
	defer func() { _ = log.Close(ctx) }()
	recs, err := log.List(ctx, *decision, window[0], window[1], *limit)
	if err != nil {
		return err
	}
	rep := impact.Run(ctx, set, recs)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "candidate %s: %d decisions replayed, %d would change\n", rep.Candidate, rep.Replayed, rep.Flipped)
	for change, n := range rep.ByChange {
		fmt.Fprintf(stdout, "  %-24s %d\n", change, n)
	}
	for _, f := range rep.Flips {
		if f.Error != "" {
			fmt.Fprintf(stdout, "  %s %s: %s\n", f.DecisionID, f.Decision, f.Error)
			continue
		}
		fmt.Fprintf(stdout, "  %s %s as of %s: %s\n", f.DecisionID, f.Decision, f.AsOf.Format(time.RFC3339), f.Change)
	}
	return nil
}

func timeWindow(from, to string) ([2]time.Time, error) {
	w := [2]time.Time{time.Now().AddDate(0, 0, -30), time.Now()}
	for i, s := range []string{from, to} {
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return w, usageError{fmt.Sprintf("%q is not RFC 3339", s)}
		}
		w[i] = t
	}
	return w, nil
}
