package value

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCanonicalErrorPaths(t *testing.T) {
	tests := []struct {
		name string
		in   string
		root string
		path string
	}{
		{name: "nested key", in: `{"a":{"b":"x\u0000"}}`, root: "input", path: "input.a.b"},
		{name: "array element", in: `{"lines":[1,{"n":1e999}]}`, root: "input", path: "input.lines[1].n"},
		{name: "no root", in: `{"a":[{"b":"\u0000"}]}`, root: "", path: "a[0].b"},
		{name: "top level", in: `"\u0000"`, root: "input", path: "input"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.in), tc.root)
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			if e.Path != tc.path {
				t.Errorf("path %q, want %q", e.Path, tc.path)
			}
		})
	}
}

// TestCanonicalLeavesCanonicalUntouched checks a document already in the value model is not written
// to, so that it can be read concurrently while it is converted again.
func TestCanonicalLeavesCanonicalUntouched(t *testing.T) {
	doc := map[string]any{"a": []any{int64(1), "x", map[string]any{"b": true}}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			if _, err := json.Marshal(doc); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := 0; i < 200; i++ {
		if _, err := Canonical(doc, "input"); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	n, err := Canonical(map[string]any{"n": json.Number("12"), "f": 2.0, "i": 3}, "input")
	if err != nil {
		t.Fatal(err)
	}
	m := n.(map[string]any)
	if m["n"] != int64(12) || m["f"] != int64(2) || m["i"] != int64(3) {
		t.Errorf("converted %#v", m)
	}
	if _, err := Canonical(map[string]any{"n": json.Number(strings.Repeat("9", 65))}, "input"); err == nil {
		t.Error("a 65-digit number was accepted")
	}
}
