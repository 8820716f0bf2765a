package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"arbiter/engine"
	"arbiter/engine/facts"
	"arbiter/internal/decisionlog"
)

// flip is one logged decision the candidate set decides differently.
type flip struct {
	DecisionID string        `json:"decision_id"`
	Decision   string        `json:"decision"`
	AsOf       time.Time     `json:"as_of"`
	Change     engine.Change `json:"change,omitempty"`
	Error      string        `json:"error,omitempty"`
}

// impactReport summarises a replay of the decision log against a candidate policy set.
type impactReport struct {
	Candidate string         `json:"candidate_revision"`
	Replayed  int            `json:"replayed"`
	Flipped   int            `json:"flipped"`
	ByChange  map[string]int `json:"by_outcome_change"`
	Flips     []flip         `json:"flips"`
}

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
	set, cat, err := loadSet(ctx, *candidate)
	if err != nil {
		return err
	}
	pg, err := facts.OpenPostgres(ctx, url, cat)
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
	rep := Impact(ctx, set, recs)
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
		fmt.Fprintf(stdout, "  %s %s as of %s: outcome %v reasons %v outputs changed %v\n",
			f.DecisionID, f.Decision, f.AsOf.Format(time.RFC3339), f.Change.Outcome, f.Change.Reasons, f.Change.Outputs)
	}
	return nil
}

// Impact replays every record against set and lists the decisions that would change.
func Impact(ctx context.Context, set *engine.PolicySet, recs []decisionlog.Record) impactReport {
	rep := impactReport{Candidate: set.Revision(), ByChange: map[string]int{}, Flips: []flip{}}
	for _, rec := range recs {
		before, err := engine.DecodeDecision(rec.Envelope)
		if err != nil {
			continue
		}
		input, recorded, err := decodeLogged(rec)
		if err != nil {
			continue
		}
		rep.Replayed++
		after, err := set.Replay(ctx, engine.Request{Decision: rec.Decision, Input: input, AsOf: rec.AsOf}, recorded)
		if err != nil {
			rep.Flipped++
			rep.ByChange["error:"+string(engine.CodeOf(err))]++
			rep.Flips = append(rep.Flips, flip{DecisionID: rec.ID, Decision: rec.Decision, AsOf: rec.AsOf, Error: err.Error()})
			continue
		}
		if change, ok := engine.Diff(before, after); ok {
			rep.Flipped++
			rep.ByChange[before.Outcome+" -> "+after.Outcome]++
			rep.Flips = append(rep.Flips, flip{DecisionID: rec.ID, Decision: rec.Decision, AsOf: rec.AsOf, Change: change})
		}
	}
	return rep
}

func decodeLogged(rec decisionlog.Record) (any, map[string]any, error) {
	var input any
	dec := json.NewDecoder(bytes.NewReader(rec.Input))
	dec.UseNumber()
	if err := dec.Decode(&input); err != nil {
		return nil, nil, err
	}
	recorded, err := engine.DecodeFacts(rec.Facts)
	if err != nil {
		return nil, nil, err
	}
	return input, recorded, nil
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
