// Package impact answers "what would a candidate policy set have decided": it replays logged
// decisions (their input and the facts they were made on) against the candidate and diffs the answers.
package impact

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"time"

	"arbiter/engine"
	"arbiter/engine/value"
	"arbiter/store"
	"arbiter/store/decisionlog"
)

// Replay evaluates req over recorded facts instead of loading them; nothing is committed.
func Replay(ctx context.Context, set *engine.PolicySet, req engine.Request, recorded map[string]any) (*engine.Decision, error) {
	req.DryRun = true
	return engine.New(set, replayStore{facts: recorded}).Decide(ctx, req)
}

// replayStore serves one recorded fact snapshot.
type replayStore struct{ facts map[string]any }

func (r replayStore) Load(_ context.Context, lookups []store.Lookup) (store.Facts, error) {
	out := make(store.Facts, len(lookups))
	for _, l := range lookups {
		out[l.Name] = r.facts[l.Name]
	}
	return out, nil
}

func (r replayStore) Commit(ctx context.Context, _ []string, fn func(context.Context, store.Tx) error) error {
	return fn(ctx, r)
}

func (r replayStore) FindCommit(context.Context, string, string) (*store.CommitRecord, error) {
	return nil, nil
}

func (r replayStore) SaveCommit(context.Context, store.CommitRecord, []store.LedgerEntry) error {
	return nil
}

func (r replayStore) Ping(context.Context) error { return nil }

func (r replayStore) Close() {}

// Change describes how a replayed decision differs from the recorded one.
type Change struct {
	Outcome [2]string   `json:"outcome,omitempty"`
	Reasons [2][]string `json:"reasons,omitempty"`
	Outputs bool        `json:"outputs_changed,omitempty"`
}

// Diff compares a recorded decision with its replay; ok is false when they decide the same.
func Diff(before, after *engine.Decision) (Change, bool) {
	var c Change
	changed := false
	if before.Outcome != after.Outcome {
		c.Outcome = [2]string{before.Outcome, after.Outcome}
		changed = true
	}
	if b, a := codes(before.Reasons), codes(after.Reasons); !slices.Equal(b, a) {
		c.Reasons = [2][]string{b, a}
		changed = true
	}
	if !reflect.DeepEqual(roundTrip(before.Outputs), roundTrip(after.Outputs)) {
		c.Outputs = true
		changed = true
	}
	return c, changed
}

func codes(rs []engine.Reason) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Code)
	}
	return out
}

// roundTrip gives outputs the shape a caller decodes, so a recorded and a fresh answer compare alike.
func roundTrip(m map[string]any) any {
	raw, err := json.Marshal(m)
	if err != nil {
		return m
	}
	v, err := value.Decode(raw, "outputs")
	if err != nil {
		return m
	}
	return v
}

// Flip is one logged decision the candidate set decides differently.
type Flip struct {
	DecisionID string    `json:"decision_id"`
	Decision   string    `json:"decision"`
	AsOf       time.Time `json:"as_of"`
	Change     Change    `json:"change,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// Report summarises a replay of the decision log against a candidate policy set.
type Report struct {
	Candidate string         `json:"candidate_revision"`
	Replayed  int            `json:"replayed"`
	Flipped   int            `json:"flipped"`
	ByChange  map[string]int `json:"by_outcome_change"`
	Flips     []Flip         `json:"flips"`
}

// Run replays every record against set and lists the decisions that would change.
func Run(ctx context.Context, set *engine.PolicySet, recs []decisionlog.Record) Report {
	rep := Report{Candidate: set.Revision(), ByChange: map[string]int{}, Flips: []Flip{}}
	for _, rec := range recs {
		var before engine.Decision
		if err := json.Unmarshal(rec.Envelope, &before); err != nil {
			continue
		}
		input, recorded, err := decodeLogged(rec)
		if err != nil {
			continue
		}
		rep.Replayed++
		after, err := Replay(ctx, set, engine.Request{Decision: rec.Decision, Input: input, AsOf: rec.AsOf}, recorded)
		if err != nil {
			rep.Flipped++
			rep.ByChange["error:"+string(engine.CodeOf(err))]++
			rep.Flips = append(rep.Flips, Flip{DecisionID: rec.ID, Decision: rec.Decision, AsOf: rec.AsOf, Error: err.Error()})
			continue
		}
		if change, ok := Diff(&before, after); ok {
			rep.Flipped++
			rep.ByChange[before.Outcome+" -> "+after.Outcome]++
			rep.Flips = append(rep.Flips, Flip{DecisionID: rec.ID, Decision: rec.Decision, AsOf: rec.AsOf, Change: change})
		}
	}
	return rep
}

// decodeLogged reads a record's input and facts back into the value model the stores produce.
func decodeLogged(rec decisionlog.Record) (any, map[string]any, error) {
	input, err := value.Decode(rec.Input, "input")
	if err != nil {
		return nil, nil, err
	}
	facts, err := value.Decode(rec.Facts, "facts")
	if err != nil {
		return nil, nil, err
	}
	m, _ := facts.(map[string]any)
	return input, m, nil
}

// String renders a change for a terminal line.
func (c Change) String() string {
	var parts []string
	if c.Outcome[0] != "" || c.Outcome[1] != "" {
		parts = append(parts, "outcome "+c.Outcome[0]+" -> "+c.Outcome[1])
	}
	if c.Reasons[0] != nil || c.Reasons[1] != nil {
		parts = append(parts, "reasons "+strings.Join(c.Reasons[0], ",")+" -> "+strings.Join(c.Reasons[1], ","))
	}
	if c.Outputs {
		parts = append(parts, "outputs changed")
	}
	return strings.Join(parts, "; ")
}
