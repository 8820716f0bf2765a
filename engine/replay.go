package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"

	"arbiter/engine/facts"
)

// Replay evaluates req over recorded facts instead of loading them; nothing is committed.
// It answers "what would this set have decided" for impact analysis.
func (s *PolicySet) Replay(ctx context.Context, req Request, recorded map[string]any) (*Decision, error) {
	req.DryRun = true
	e := New(s, replayStore{facts: recorded})
	return e.Decide(ctx, req)
}

// replayStore serves one recorded fact snapshot.
type replayStore struct{ facts map[string]any }

func (r replayStore) Load(_ context.Context, lookups []facts.Lookup) (facts.Facts, error) {
	out := make(facts.Facts, len(lookups))
	for _, l := range lookups {
		out[l.Name] = r.facts[l.Name]
	}
	return out, nil
}

func (r replayStore) Commit(ctx context.Context, _ []string, fn func(context.Context, facts.Tx) error) error {
	return fn(ctx, r)
}

func (r replayStore) FindCommit(context.Context, string, string) (*facts.CommitRecord, error) {
	return nil, nil
}

func (r replayStore) SaveCommit(context.Context, facts.CommitRecord, []facts.LedgerEntry) error {
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
func Diff(before, after *Decision) (Change, bool) {
	var c Change
	changed := false
	if before.Outcome != after.Outcome {
		c.Outcome = [2]string{before.Outcome, after.Outcome}
		changed = true
	}
	if b, a := codes(before.Reasons), codes(after.Reasons); !equalStrings(b, a) {
		c.Reasons = [2][]string{b, a}
		changed = true
	}
	if !reflect.DeepEqual(jsonRoundTrip(before.Outputs), jsonRoundTrip(after.Outputs)) {
		c.Outputs = true
		changed = true
	}
	return c, changed
}

// DecodeFacts reads a recorded facts snapshot as the stores produce facts: integers as int64,
// other numbers as decimal strings.
func DecodeFacts(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	normalizeNumbers(m)
	return m, nil
}

// DecodeDecision reads an envelope as encoded by the API or the decision log.
func DecodeDecision(raw []byte) (*Decision, error) {
	var d Decision
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	return &d, nil
}
