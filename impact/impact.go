// Package impact answers "what would a candidate policy set have decided": it replays logged
// decisions (their input and the facts they were made on) against the candidate and reports what
// flips, which reasons come and go, and how every output moves, money summed exactly.
package impact

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"arbiter/engine"
	"arbiter/engine/value"
	"arbiter/store"
	"arbiter/store/decisionlog"
)

// Replay evaluates req over recorded facts instead of loading them; nothing is committed.
func Replay(ctx context.Context, set *engine.PolicySet, req engine.Request, recorded map[string]any) (*engine.Decision, error) {
	req.DryRun = true
	return engine.New(set, &replayStore{facts: recorded}).Decide(ctx, req)
}

// FactNotLoggedError means the candidate reads a fact the logged decision did not load, so it cannot
// be replayed on the facts it was made on.
type FactNotLoggedError struct{ Name string }

func (e *FactNotLoggedError) Error() string {
	return fmt.Sprintf("fact %q was not logged with the decision", e.Name)
}

// replayStore serves one recorded fact snapshot; a worker swaps the snapshot per record.
type replayStore struct{ facts map[string]any }

func (r *replayStore) Load(_ context.Context, lookups []store.Lookup) (store.Facts, error) {
	out := make(store.Facts, len(lookups))
	for _, l := range lookups {
		v, ok := r.facts[l.Name]
		if !ok {
			return nil, &FactNotLoggedError{Name: l.Name}
		}
		out[l.Name] = v
	}
	return out, nil
}

func (r *replayStore) Commit(ctx context.Context, _ []string, fn func(context.Context, store.Tx) error) error {
	return fn(ctx, r)
}

func (r *replayStore) FindCommit(context.Context, string, string) (*store.CommitRecord, error) {
	return nil, nil
}

func (r *replayStore) SaveCommit(context.Context, store.CommitRecord, []store.LedgerEntry) error {
	return nil
}

func (r *replayStore) Ping(context.Context) error { return nil }

func (r *replayStore) Close() {}

// ValueChange is one output's value before (logged) and after (replayed); Delta is after - before
// when both are decimal numbers.
type ValueChange struct {
	Before any    `json:"before"`
	After  any    `json:"after"`
	Delta  string `json:"delta,omitempty"`
}

// Change describes how a replayed decision differs from the logged one.
type Change struct {
	Outcome        [2]string              `json:"outcome,omitempty"` // set when the outcome differs
	ReasonsAdded   []string               `json:"reasons_added,omitempty"`
	ReasonsRemoved []string               `json:"reasons_removed,omitempty"`
	Outputs        map[string]ValueChange `json:"outputs,omitempty"`
}

// Diff compares a logged decision with its replay; ok is false when they decide the same.
func Diff(before, after *engine.Decision) (Change, bool) {
	var c Change
	if before.Outcome != after.Outcome {
		c.Outcome = [2]string{before.Outcome, after.Outcome}
	}
	b, a := codes(before.Reasons), codes(after.Reasons)
	c.ReasonsAdded, c.ReasonsRemoved = minus(a, b), minus(b, a)
	c.Outputs = diffOutputs(before.Outputs, after.Outputs)
	return c, c.Outcome[0] != "" || len(c.ReasonsAdded)+len(c.ReasonsRemoved)+len(c.Outputs) > 0
}

func codes(rs []engine.Reason) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Code)
	}
	return out
}

// minus returns the codes of a that b lacks, in a's order.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// diffOutputs compares outputs key by key in the shape a caller decodes (JSON); decimals that are
// numerically equal ("1.50", "1.5") are the same value.
func diffOutputs(before, after map[string]any) map[string]ValueChange {
	if sameValue(before, after) {
		return nil
	}
	var out map[string]ValueChange
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	for k := range keys {
		bv, bok := before[k]
		av, aok := after[k]
		bj, aj := canonical(bv, bok), canonical(av, aok)
		if bytes.Equal(bj, aj) {
			continue
		}
		bd, berr := asDecimal(bv, bok)
		ad, aerr := asDecimal(av, aok)
		if berr == nil && aerr == nil && bd.Equal(ad) {
			continue
		}
		vc := ValueChange{Before: plain(bj), After: plain(aj)}
		if berr == nil && aerr == nil {
			vc.Delta = ad.Sub(bd).String()
		}
		if out == nil {
			out = map[string]ValueChange{}
		}
		out[k] = vc
	}
	return out
}

// sameValue reports, without encoding, whether a logged value (decoded JSON, numbers as json.Number)
// and a replayed one (the engine's value model) are the same JSON; false when unsure.
func sameValue(before, after any) bool {
	switch b := before.(type) {
	case nil:
		return after == nil
	case string:
		a, ok := after.(string)
		return ok && a == b
	case bool:
		a, ok := after.(bool)
		return ok && a == b
	case json.Number:
		switch a := after.(type) {
		case json.Number:
			return a == b
		case int64:
			return string(b) == strconv.FormatInt(a, 10)
		case float64:
			f, err := b.Float64()
			return err == nil && f == a
		}
		return false
	case map[string]any:
		a, ok := after.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, bv := range b {
			av, ok := a[k]
			if !ok || !sameValue(bv, av) {
				return false
			}
		}
		return true
	case []any:
		a, ok := after.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range b {
			if !sameValue(b[i], a[i]) {
				return false
			}
		}
		return true
	}
	return false
}

func canonical(v any, ok bool) []byte {
	if !ok {
		return []byte("null")
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return []byte(fmt.Sprint(v))
	}
	return raw
}

// plain decodes canonical JSON back into a value for the report.
func plain(raw []byte) any {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return string(raw)
	}
	return v
}

var decimalText = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`)

// asDecimal reads a number or a decimal string; a missing output counts as zero, so a new output
// moves money by its whole amount.
func asDecimal(v any, ok bool) (decimal.Decimal, error) {
	if !ok || v == nil {
		return decimal.Zero, nil
	}
	switch x := v.(type) {
	case string:
		if !decimalText.MatchString(x) {
			return decimal.Zero, errors.New("not a decimal")
		}
		return decimal.NewFromString(x)
	case json.Number:
		return decimal.NewFromString(x.String())
	case int64:
		return decimal.NewFromInt(x), nil
	case int:
		return decimal.NewFromInt(int64(x)), nil
	case float64:
		return decimal.NewFromString(strconv.FormatFloat(x, 'f', -1, 64))
	}
	return decimal.Zero, errors.New("not a number")
}

// Shift moves a logged decision's as_of before replaying it, in Beijing calendar terms.
type Shift struct{ Years, Months, Days int }

// IsZero reports whether the shift keeps as_of.
func (s Shift) IsZero() bool { return s == Shift{} }

// Apply shifts t by calendar years, months and days in Beijing time.
func (s Shift) Apply(t time.Time) time.Time {
	if s.IsZero() {
		return t
	}
	return t.In(engine.Beijing).AddDate(s.Years, s.Months, s.Days)
}

func (s Shift) String() string {
	if s.IsZero() {
		return ""
	}
	var b strings.Builder
	for _, p := range []struct {
		n    int
		unit string
	}{{s.Years, "y"}, {s.Months, "m"}, {s.Days, "d"}} {
		if p.n != 0 {
			fmt.Fprintf(&b, "%+d%s", p.n, p.unit)
		}
	}
	return b.String()
}

var shiftPart = regexp.MustCompile(`([+-]?\d+)([ymd])`)

// ParseShift reads an as-of shift such as "+1y", "-6m", "+1y2m" or "30d" ("" is no shift).
func ParseShift(s string) (Shift, error) {
	var out Shift
	s = strings.TrimSpace(s)
	if s == "" {
		return out, nil
	}
	rest := shiftPart.ReplaceAllStringFunc(s, func(p string) string {
		m := shiftPart.FindStringSubmatch(p)
		n, _ := strconv.Atoi(m[1])
		switch m[2] {
		case "y":
			out.Years += n
		case "m":
			out.Months += n
		case "d":
			out.Days += n
		}
		return ""
	})
	if rest != "" && rest != "+" {
		return Shift{}, fmt.Errorf("as-of shift %q: want a signed count of years, months or days such as +1y, -6m, +1y2m", s)
	}
	return out, nil
}

// decodeLogged reads a record's input and facts back into the value model the stores produce.
func decodeLogged(rec decisionlog.Record) (any, map[string]any, error) {
	input, err := value.Decode(rec.Input, "input")
	if err != nil {
		return nil, nil, fmt.Errorf("input: %w", err)
	}
	facts, err := value.Decode(rec.Facts, "facts")
	if err != nil {
		return nil, nil, fmt.Errorf("facts: %w", err)
	}
	m, _ := facts.(map[string]any)
	return input, m, nil
}

// String renders a change for a terminal line.
func (c Change) String() string {
	var parts []string
	if c.Outcome[0] != "" {
		parts = append(parts, "outcome "+c.Outcome[0]+" -> "+c.Outcome[1])
	}
	if len(c.ReasonsAdded) > 0 {
		parts = append(parts, "+"+strings.Join(c.ReasonsAdded, " +"))
	}
	if len(c.ReasonsRemoved) > 0 {
		parts = append(parts, "-"+strings.Join(c.ReasonsRemoved, " -"))
	}
	for _, k := range slices.Sorted(maps.Keys(c.Outputs)) {
		v := c.Outputs[k]
		s := fmt.Sprintf("%s %v -> %v", k, show(v.Before), show(v.After))
		if v.Delta != "" {
			s += " (" + signed(v.Delta) + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func show(v any) string {
	if v == nil {
		return "(none)"
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(raw)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

func signed(d string) string {
	if strings.HasPrefix(d, "-") {
		return d
	}
	return "+" + d
}
