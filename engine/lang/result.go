package lang

import (
	"encoding/json"
	"fmt"

	"arbiter/engine/internal/decnum"
)

// ResultFromValue reads a policy's answer object {outcome, reasons, outputs, ledger}; it never panics.
func ResultFromValue(v any) (*Result, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("policy must return an object {outcome, reasons, outputs}, got %T", v)
	}
	r := &Result{Outputs: map[string]any{}}
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
				re := Reason{Code: Text(rm["code"]), Rule: Text(rm["rule"]), Message: Text(rm["message"]), Effect: Text(rm["effect"])}
				if re.Code == "" {
					return nil, fmt.Errorf("reasons: a reason needs a code")
				}
				if !ValidEffect(re.Effect) {
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
				e := LedgerEntry{Key: Text(lm["key"]), Amount: Text(lm["amount"])}
				if e.Key == "" {
					return nil, fmt.Errorf("ledger: an entry needs a key")
				}
				if e.Amount == "" {
					e.Amount = "1"
				}
				if _, err := decnum.Parse(e.Amount); err != nil {
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

// Text renders a scalar as text; amounts may arrive as json.Number from Rego.
func Text(v any) string {
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
