package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"arbiter/api"
)

func TestTableVersion(t *testing.T) {
	a := startDemo(t, nil, nil)
	tests := []struct {
		name, path string
		status     int
	}{
		{"a version", "/v1/tables/demo.rates/versions/2025", http.StatusOK},
		{"unknown version", "/v1/tables/demo.rates/versions/1999", http.StatusNotFound},
		{"unknown table", "/v1/tables/demo.nope/versions/2025", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, http.MethodGet, a.url+tt.path, "", nil)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.raw)
			}
			if tt.status != http.StatusOK {
				if r.body["code"] != "not_found" {
					t.Errorf("problem code %v, want not_found", r.body["code"])
				}
				return
			}
			if r.body["table"] != "demo.rates" || r.body["version"] != "2025" || r.body["data"] == nil {
				t.Errorf("body %s lacks the table, version or data", r.raw)
			}
			schema, _ := r.body["schema"].(map[string]any)
			if _, ok := schema["properties"]; !ok && schema["type"] == nil {
				t.Errorf("schema %v is not the table's schema.yaml", r.body["schema"])
			}
		})
	}
}

func TestSamples(t *testing.T) {
	a := startDemo(t, nil, nil)
	samples := fstest.MapFS{
		"demo.spend.json": {Data: []byte(`{"input": {"account_id": "A", "amount": 12345678901234567890}, "as_of": "2025-02-01T00:00:00+08:00"}` + "\n")},
		"demo.bad.json":   {Data: []byte(`not json`)},
		"demo.list.json":  {Data: []byte(`[1]`)},
	}
	srv := httptest.NewServer(api.New(api.Config{Engine: a.engine, Samples: samples}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name, decision string
		status         int
		body           string
	}{
		{"a sample, numbers kept exactly", "demo.spend", http.StatusOK, `{"input": {"account_id": "A", "amount": 12345678901234567890}, "as_of": "2025-02-01T00:00:00+08:00"}`},
		{"no sample", "demo.cel_sum", http.StatusNotFound, ""},
		{"a hidden name", ".demo", http.StatusNotFound, ""},
		{"a path", "..%2Fdemo.spend", http.StatusNotFound, ""},
		{"not JSON", "demo.bad", http.StatusInternalServerError, ""},
		{"not an object", "demo.list", http.StatusInternalServerError, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, http.MethodGet, srv.URL+"/v1/samples/"+tt.decision, "", nil)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.raw)
			}
			if tt.body == "" {
				return
			}
			var got, want any
			if err := json.Unmarshal(r.raw, &got); err != nil {
				t.Fatal(err)
			}
			_ = json.Unmarshal([]byte(tt.body), &want)
			if string(mustJSON(t, got)) != string(mustJSON(t, want)) || !json.Valid(r.raw) {
				t.Errorf("body %s, want %s", r.raw, tt.body)
			}
			if want := `12345678901234567890`; !containsBytes(r.raw, want) {
				t.Errorf("body %s rounds the big number %s", r.raw, want)
			}
		})
	}
	t.Run("no samples configured", func(t *testing.T) {
		if r := do(t, http.MethodGet, a.url+"/v1/samples/demo.spend", "", nil); r.status != http.StatusNotFound {
			t.Errorf("status %d, want 404", r.status)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func containsBytes(b []byte, s string) bool { return strings.Contains(string(b), s) }
