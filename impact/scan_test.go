package impact

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"arbiter/engine"
	"arbiter/engine/value"
)

var scanSeeds = []string{
	`{"partner_id": "INC-P1", "policy_year": 2024}`,
	`{"rows": [{"id": "R1", "amount": "694.005", "n": 1.5e3, "ok": true, "none": null}], "metrics": []}`,
	`{"a":{"b":{"c":[1,-2,3.25,1e400,"x\u00e9\n\"",false]}}}`,
	`{"s": "\ud83d\ude00", "t": "\u0000", "k": 12345678901234567890}`,
	`{"dup": 1, "dup": 2}`,
	`  [ ]  `,
	`{"x": 1} {"y": 2}`,
	`{"x": 01}`,
	"{\"bad\": \"\xff\"}",
	`{"outcome": "allow", "as_of_source": "clock", "policy": {"version": "2024.1", "digest": "d", "language": "cel", "pinned": true},
	  "reasons": [{"code": "A", "rule_id": "R-1"}, {"code": "B"}], "outputs": {"total": "1.50", "rows": [{"n": 2}]}, "tables": []}`,
	`{"outcome": "deny", "reasons": null, "outputs": null}`,
	`{"Outcome": "deny", "outcome": "allow"}`,
	`{"outcome": "allow", "outputs": {"a": 1}, "outputs": {"b": 2}}`,
	`{"outcome": "allow", "policy": {"version": 2}}`,
	`{"outcome": "allow", "reasons": [{"rule_id": "x"}]}`,
	`{"outcome": "al\u006cow"}`,
}

// FuzzDecodeFast holds the fast decoder to value.Decode: whatever it accepts, value.Decode accepts
// and reads as the same value.
func FuzzDecodeFast(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := decodeFast(data, map[string]string{})
		if !ok {
			return
		}
		want, err := value.Decode(data, "x")
		if err != nil {
			t.Fatalf("fast decoder accepted %q, value.Decode refuses it: %v", data, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: fast %#v, value.Decode %#v", data, got, want)
		}
	})
}

// FuzzScanEnvelope holds the envelope scanner to loggedEnvelope (encoding/json): whatever it picks
// out, encoding/json reads the same.
func FuzzScanEnvelope(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, ok := scanEnvelope(data, nil)
		if !ok {
			return
		}
		var d engine.Decision
		if err := json.Unmarshal(data, (*loggedEnvelope)(&d)); err != nil || d.Outcome == "" {
			t.Fatalf("scanner read %q, encoding/json: %v (outcome %q)", data, err, d.Outcome)
		}
		if p.outcome != d.Outcome || p.asOfSource != d.AsOfSource || p.version != d.Policy.Version || p.pinned != d.Policy.Pinned {
			t.Fatalf("%q: scanned %+v, decoded %+v", data, p, d)
		}
		if codes := codes(d.Reasons); len(codes) != len(p.reasons) || len(codes) > 0 && !reflect.DeepEqual(codes, p.reasons) {
			t.Fatalf("%q: reasons %q, decoded %q", data, p.reasons, codes)
		}
		var outputs map[string]any
		if p.outputs != nil {
			dec := json.NewDecoder(bytes.NewReader(p.outputs))
			dec.UseNumber()
			if err := dec.Decode(&outputs); err != nil {
				t.Fatalf("%q: outputs %q: %v", data, p.outputs, err)
			}
		}
		if !reflect.DeepEqual(outputs, d.Outputs) {
			t.Fatalf("%q: outputs %#v, decoded %#v", data, outputs, d.Outputs)
		}
	})
}

// FuzzRawSame holds the raw comparison to sameValue: when it says a logged JSON and a replayed value
// are the same, decoding the JSON and comparing agrees.
func FuzzRawSame(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s), []byte(s))
	}
	f.Add([]byte(`{"n": 1.50, "s": "a"}`), []byte(`{"s": "a", "n": 1.5}`))
	f.Add([]byte(`[1, 2]`), []byte(`[1, 2, 3]`))
	f.Fuzz(func(t *testing.T, raw, afterJSON []byte) {
		after, err := value.Decode(afterJSON, "after")
		if err != nil || !rawSame(raw, after) {
			return
		}
		var before any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&before); err != nil {
			t.Fatalf("rawSame accepted %q, which does not decode: %v", raw, err)
		}
		if !sameValue(before, after) {
			t.Fatalf("rawSame(%q, %#v), but sameValue finds them different", raw, after)
		}
	})
}

func TestRawSame(t *testing.T) {
	tests := []struct {
		name, raw, after string
		want             bool
	}{
		{name: "same object in another key order and spacing", raw: `{"b": [1, "x"], "a": true}`, after: `{"a":true,"b":[1,"x"]}`, want: true},
		{name: "jsonb spacing", raw: `{"rate": "0.04", "rows": [{"incentive": "15.83"}], "policy_year": 2024}`,
			after: `{"policy_year":2024,"rows":[{"incentive":"15.83"}],"rate":"0.04"}`, want: true},
		{name: "a changed amount", raw: `{"total": "1.00"}`, after: `{"total": "1.01"}`},
		{name: "a missing key", raw: `{"a": 1}`, after: `{"a": 1, "b": 2}`},
		{name: "an extra key", raw: `{"a": 1, "b": 2}`, after: `{"a": 1}`},
		{name: "a repeated key is left to the decoder", raw: `{"a": 1, "a": 1}`, after: `{"a": 1}`},
		{name: "a longer list", raw: `[1, 2, 3]`, after: `[1, 2]`},
		{name: "number against text", raw: `{"a": 1}`, after: `{"a": "1"}`},
		{name: "a float", raw: `{"a": 1.5}`, after: `{"a": 1.5}`, want: true},
		{name: "escaped text is left to the decoder", raw: `{"a": "\u0041"}`, after: `{"a": "A"}`},
		{name: "trailing garbage", raw: `{"a": 1} x`, after: `{"a": 1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			after, err := value.Decode([]byte(tc.after), "after")
			if err != nil {
				t.Fatal(err)
			}
			if got := rawSame([]byte(tc.raw), after); got != tc.want {
				t.Fatalf("rawSame(%s, %s) = %v, want %v", tc.raw, tc.after, got, tc.want)
			}
		})
	}
}

func TestScanEnvelope(t *testing.T) {
	tests := []struct {
		name, env string
		ok        bool
		want      loggedParts
	}{
		{name: "a logged envelope", ok: true,
			env:  `{"as_of": "2024-12-31T23:59:59+08:00", "policy": {"digest": "sha256:x", "version": "2024.1", "language": "cel"}, "outcome": "allow", "outputs": {"rate": "0.04"}, "reasons": [{"code": "INC_NOT_ELIGIBLE", "rule_id": "INC-02"}], "as_of_source": "request"}`,
			want: loggedParts{outcome: "allow", asOfSource: "request", version: "2024.1", reasons: []string{"INC_NOT_ELIGIBLE"}, outputs: []byte(`{"rate": "0.04"}`)}},
		{name: "a pinned version", ok: true, env: `{"outcome": "deny", "policy": {"version": "1", "pinned": true}, "reasons": null, "outputs": null}`,
			want: loggedParts{outcome: "deny", version: "1", pinned: true}},
		{name: "no outcome", env: `{"outputs": {}}`},
		{name: "a key in other case", env: `{"outcome": "allow", "OUTPUTS": {}}`},
		{name: "not JSON", env: `{`},
		{name: "trailing data", env: `{"outcome": "allow"} {}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := scanEnvelope([]byte(tc.env), nil)
			if ok != tc.ok || ok && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("scanEnvelope = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
