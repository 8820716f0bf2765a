package api

import (
	"bytes"
	"encoding/json"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzReplaceData: whatever JSON a client sends as a table version's data, replaceData either refuses
// it or writes a file whose header is kept and whose data reads back as the same value.
func FuzzReplaceData(f *testing.F) {
	file := []byte("table: demo.rates\nversion: \"2026\"\nvalid_from: 2026-01-01T00:00:00+08:00\n# a comment\ndata:\n  rate: \"0.2\"\n  minimum: \"200.00\"\n")
	for _, seed := range []string{`{"rate": "0.3", "minimum": "200.00"}`, `{"rows": [{"a": 1, "b": ["x", "y"]}, {"a": 2.5}]}`,
		`{"k": {"n": null, "t": true, "s": "yes", "e": ""}}`, `[1]`, `"x"`, `{"a": "line\nbreak", "b": "- dash", "c": "#"}`, `{`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := replaceData(file, data, nil)
		if err != nil {
			return
		}
		if !bytes.HasPrefix(out, []byte("table: demo.rates\nversion: \"2026\"\nvalid_from: 2026-01-01T00:00:00+08:00\n# a comment\ndata:")) {
			t.Fatalf("the header was not kept:\n%s", out)
		}
		var back struct {
			Data any `yaml:"data"`
		}
		if err := yaml.Unmarshal(out, &back); err != nil {
			t.Fatalf("the file does not read back: %v\n%s", err, out)
		}
		var want any
		if err := json.Unmarshal(data, &want); err != nil {
			return // yaml accepted what JSON would not (YAML is a superset): nothing to compare
		}
		wj, _ := json.Marshal(normalize(want))
		gj, _ := json.Marshal(normalize(back.Data))
		if !bytes.Equal(wj, gj) {
			t.Fatalf("data %s reads back as %s\n%s", wj, gj, out)
		}
	})
}

// normalize makes JSON and YAML decodings comparable: numbers as float64, maps with string keys.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			m[k] = normalize(e)
		}
		return m
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	}
	return v
}
