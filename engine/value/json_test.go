package value

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestMarshalMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		v    any
	}{
		{"null", nil},
		{"booleans", []any{true, false}},
		{"whole numbers", []any{int64(0), int64(-42), int64(9007199254740993), 7}},
		{"floats fall back", []any{1.5, 1e21, 1e-7, 0.0}},
		{"json number falls back", json.Number("12.50")},
		{"text escapes", "a\"b\\c\n\r\t\b\f\x01<script>&amp;\u2028\u2029 é 中文 \xff end"},
		{"sorted keys", map[string]any{"b": int64(1), "a": "x", "Z": nil, "ä": true, "<k>": []any{}}},
		{"nested", map[string]any{"lines": []any{map[string]any{"id": "L1", "amount": "12.50", "tags": []any{"x", nil}}}, "empty": map[string]any{}}},
		{"nil map and slice", map[string]any{"m": map[string]any(nil), "s": []any(nil)}},
		{"other types fall back", map[string]any{"strings": []string{"a", "b"}, "struct": struct{ A int }{1}}},
		{"many keys", func() map[string]any {
			m := map[string]any{}
			for _, k := range []string{"q", "w", "e", "r", "t", "y", "u", "i", "o", "p", "a", "s", "d", "f", "g", "h", "j", "k", "l", "z"} {
				m[k] = k
			}
			return m
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Marshal = %s\nencoding/json = %s", got, want)
			}
		})
	}
}

func TestMarshalError(t *testing.T) {
	if _, err := Marshal(map[string]any{"f": func() {}}); err == nil {
		t.Error("a function encoded without error")
	}
}

// FuzzMarshal checks that any decoded document encodes as encoding/json encodes it.
func FuzzMarshal(f *testing.F) {
	for _, s := range []string{`{"a":[1,"x",null,true]}`, `"\u003c\u2028\ufffd"`, `{"b":{"c":-12}}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Decode(data, "input")
		if err != nil {
			return
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Skip()
		}
		got, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("Marshal = %s\nencoding/json = %s", got, want)
		}
	})
}
