package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// evalDoc is what a policy sees: the request, its facts, the effective rule tables and now.
type evalDoc struct {
	request any
	facts   map[string]any
	rules   map[string]any
	// rulesKey names the exact rule-table versions in rules, so a program may cache its own
	// representation of them; empty means do not cache (test overrides).
	rulesKey string
	now      time.Time
}

// program is a compiled policy version, safe for concurrent use.
type program interface {
	eval(ctx context.Context, doc evalDoc) (*result, error)
}

// result is a policy's raw answer before the engine shapes it into a Decision.
type result struct {
	Outcome string
	Reasons []Reason
	Outputs map[string]any
	Ledger  []LedgerEntry
}

// Outcomes a policy may return. A policy may also return its own outcome words.
const (
	OutcomeAllow = "allow"
	OutcomeDeny  = "deny"
	OutcomeRefer = "refer"
)

// Reason effects: deny beats refer beats allow; a note explains without changing the outcome.
const (
	EffectDeny  = "deny"
	EffectRefer = "refer"
	EffectNote  = "note"
)

// Reason is one catalog rule that fired, with its stable code.
type Reason struct {
	Code    string `json:"code"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
	Effect  string `json:"effect"`
}

// LedgerEntry is one unit of consumption a commit records against a limit key.
type LedgerEntry struct {
	Key    string `json:"key"`
	Amount string `json:"amount"`
}

// finish derives the outcome when the policy gave none and orders reasons by the catalog's evaluation order.
func (r *result) finish(order map[string]int) {
	for i := range r.Reasons {
		if r.Reasons[i].Effect == "" {
			r.Reasons[i].Effect = EffectDeny
		}
	}
	sort.SliceStable(r.Reasons, func(i, j int) bool {
		a, b := r.Reasons[i], r.Reasons[j]
		oa, okA := order[a.Rule]
		ob, okB := order[b.Rule]
		switch {
		case okA && okB && oa != ob:
			return oa < ob
		case okA != okB:
			return okA
		}
		return a.Code < b.Code
	})
	if r.Outcome != "" {
		return
	}
	r.Outcome = OutcomeAllow
	for _, re := range r.Reasons {
		switch re.Effect {
		case EffectDeny:
			r.Outcome = OutcomeDeny
		case EffectRefer:
			if r.Outcome != OutcomeDeny {
				r.Outcome = OutcomeRefer
			}
		}
	}
	if r.Outputs == nil {
		r.Outputs = map[string]any{}
	}
}

// resultFromValue reads a policy's answer object {outcome, reasons, outputs, ledger}.
func resultFromValue(v any) (*result, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("policy must return an object {outcome, reasons, outputs}, got %T", v)
	}
	r := &result{Outputs: map[string]any{}}
	for k, val := range m {
		switch k {
		case "outcome":
			s, ok := val.(string)
			if !ok {
				return nil, fmt.Errorf("outcome must be a string, got %T", val)
			}
			r.Outcome = s
		case "reasons":
			items, err := asList(val)
			if err != nil {
				return nil, fmt.Errorf("reasons: %w", err)
			}
			for _, it := range items {
				rm, ok := it.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("reasons: each reason must be an object, got %T", it)
				}
				re := Reason{Code: str(rm["code"]), Rule: str(rm["rule"]), Message: str(rm["message"]), Effect: str(rm["effect"])}
				if re.Code == "" {
					return nil, fmt.Errorf("reasons: a reason needs a code")
				}
				switch re.Effect {
				case "", EffectDeny, EffectRefer, EffectNote:
				default:
					return nil, fmt.Errorf("reasons: effect %q must be deny, refer or note", re.Effect)
				}
				r.Reasons = append(r.Reasons, re)
			}
		case "outputs":
			om, ok := val.(map[string]any)
			if !ok && val != nil {
				return nil, fmt.Errorf("outputs must be an object, got %T", val)
			}
			if om != nil {
				r.Outputs = om
			}
		case "ledger":
			items, err := asList(val)
			if err != nil {
				return nil, fmt.Errorf("ledger: %w", err)
			}
			for _, it := range items {
				lm, ok := it.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("ledger: each entry must be an object {key, amount}")
				}
				e := LedgerEntry{Key: str(lm["key"]), Amount: str(lm["amount"])}
				if e.Key == "" {
					return nil, fmt.Errorf("ledger: an entry needs a key")
				}
				if e.Amount == "" {
					e.Amount = "1"
				}
				if _, err := parseDecimal(e.Amount); err != nil {
					return nil, fmt.Errorf("ledger: entry %s: %w", e.Key, err)
				}
				r.Ledger = append(r.Ledger, e)
			}
		default:
			return nil, fmt.Errorf("unknown field %q in the policy's answer (outcome, reasons, outputs, ledger)", k)
		}
	}
	return r, nil
}

func asList(v any) ([]any, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case []any:
		return t, nil
	}
	return nil, fmt.Errorf("must be a list, got %T", v)
}

// str renders scalars as text; amounts may arrive as json.Number from Rego.
func str(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	}
	return fmt.Sprint(v)
}
