package lang_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"arbiter/engine/internal/decnum"
	"arbiter/engine/lang"
)

// FuzzResultFromValue feeds policy answers as Rego hands them over (JSON numbers kept as text): it
// never panics, and an accepted answer finishes into a well-formed result.
func FuzzResultFromValue(f *testing.F) {
	for _, s := range []string{
		`{"outcome": "allow", "outputs": {"fee": "1.50"}}`,
		`{"reasons": [{"code": "C1", "rule": "R-01", "message": "m", "effect": "refer"}, {"code": "C2", "rule": "R-02"}]}`,
		`{"reasons": [{"code": "C", "effect": "note"}], "ledger": [{"key": "k", "amount": "2.5"}, {"key": "j"}]}`,
		`{"ledger": [{"key": "k", "amount": 1e400}]}`, `{"reasons": null, "outputs": null}`, `{"outcome": 1}`,
		`{"reasons": [{"effect": "deny"}]}`, `{"bogus": true}`, `[1]`, `null`, `{"ledger": [{"key": 7, "amount": -3}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return
		}
		r, err := lang.ResultFromValue(v)
		if err != nil {
			if r != nil {
				t.Fatalf("a result beside the error %v", err)
			}
			return
		}
		gaveOutcome := r.Outcome != ""
		r.Finish(map[string]int{"R-01": 0, "R-02": 1})
		if r.Outputs == nil || r.Reasons == nil {
			t.Fatalf("finished result with nil outputs or reasons: %+v", r)
		}
		for _, re := range r.Reasons {
			if re.Code == "" || (re.Effect != lang.EffectDeny && re.Effect != lang.EffectRefer && re.Effect != lang.EffectNote) {
				t.Fatalf("a reason without a code or effect: %+v", re)
			}
		}
		if !gaveOutcome && r.Outcome != lang.Precedence(r.Reasons) {
			t.Fatalf("derived outcome %q, precedence says %q", r.Outcome, lang.Precedence(r.Reasons))
		}
		for _, e := range r.Ledger {
			if e.Key == "" {
				t.Fatalf("a ledger entry without a key: %+v", e)
			}
			if _, err := decnum.Parse(e.Amount); err != nil {
				t.Fatalf("a ledger amount that does not parse: %+v: %v", e, err)
			}
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("a result JSON cannot carry: %v", err)
		}
	})
}
