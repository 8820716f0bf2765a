package api

import (
	"bytes"
	"encoding/json"
)

// maskedValue replaces a personal field's value in answers to callers without the personal scope.
const maskedValue = "***"

// personalMask says which fields of which facts to mask: fields by fact name when the decision's
// version is known, else every column name the catalog marks personal in any fact.
type personalMask struct {
	fields map[string][]string
	any    []string
}

func (s *server) maskFor(decision, version string) personalMask {
	set := s.cfg.Engine.PolicySet()
	if fields, ok := set.PersonalFields(decision, version); ok {
		return personalMask{fields: fields}
	}
	return personalMask{any: set.PersonalColumnNames()}
}

// facts returns a copy of facts with personal fields masked; facts itself is not modified (the
// decision log may still be encoding it).
func (m personalMask) facts(facts map[string]any) map[string]any {
	if facts == nil {
		return nil
	}
	out := make(map[string]any, len(facts))
	for name, v := range facts {
		cols := m.any
		if m.fields != nil {
			cols = m.fields[name]
		}
		if len(cols) == 0 {
			out[name] = v
			continue
		}
		out[name] = maskRows(v, cols)
	}
	return out
}

// maskRows masks cols in a row (a map) or in each row of a list of rows.
func maskRows(v any, cols []string) any {
	switch t := v.(type) {
	case map[string]any:
		row := make(map[string]any, len(t))
		for k, x := range t {
			row[k] = x
		}
		for _, c := range cols {
			if x, ok := row[c]; ok && x != nil {
				row[c] = maskedValue
			}
		}
		return row
	case []map[string]any:
		out := make([]any, len(t))
		for i, r := range t {
			out[i] = maskRows(r, cols)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, r := range t {
			out[i] = maskRows(r, cols)
		}
		return out
	}
	return v
}

// factsJSON masks the facts of a logged record; what cannot be decoded is withheld, not shown.
func (m personalMask) factsJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return raw
	}
	var facts map[string]any
	if err := decodeNumbers(raw, &facts); err != nil {
		return json.RawMessage("null")
	}
	out, err := json.Marshal(m.facts(facts))
	if err != nil {
		return json.RawMessage("null")
	}
	return out
}

// envelopeJSON masks explain.facts in a logged envelope.
func (m personalMask) envelopeJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || !bytes.Contains(raw, []byte(`"explain"`)) {
		return raw
	}
	var env map[string]any
	if err := decodeNumbers(raw, &env); err != nil {
		return json.RawMessage("null")
	}
	if ex, ok := env["explain"].(map[string]any); ok {
		if facts, ok := ex["facts"].(map[string]any); ok {
			ex["facts"] = m.facts(facts)
		}
	}
	out, err := json.Marshal(env)
	if err != nil {
		return json.RawMessage("null")
	}
	return out
}

func decodeNumbers(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}
