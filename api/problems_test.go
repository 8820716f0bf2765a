package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

func TestDecisionEnvelope(t *testing.T) {
	a := startDemo(t, nil, nil)
	r := post(t, a.url+"/v1/decisions/demo.rego_sum", `{"input":{"account_id":"G1","amount":"129.89"},"as_of":"2024-06-01T00:00:00+08:00"}`)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	for _, k := range []string{"envelope", "decision_id", "decision", "policy", "tables", "as_of", "as_of_source", "outcome", "reasons", "outputs", "revision"} {
		if _, ok := r.body[k]; !ok {
			t.Errorf("envelope lacks %s: %s", k, r.raw)
		}
	}
	out := r.body["outputs"].(map[string]any)
	if out["total"] != "129.99" || out["fee"] != "12.999" {
		t.Fatalf("exact decimals expected, got %v", out)
	}
	if r.body["as_of_source"] != "request" || r.body["outcome"] != "allow" {
		t.Fatalf("got %s", r.raw)
	}
}

func TestProblems(t *testing.T) {
	a := startDemo(t, nil, nil)
	big := `{"input":{"account_id":"` + strings.Repeat("x", 5000) + `","amount":"1"}}`
	tests := []struct {
		name        string
		path        string
		contentType string
		body        string
		status      int
		code        string
		fields      []string
	}{
		{"malformed JSON", "/v1/decisions/demo.rego_sum", "application/json", `{"input":`, 400, "malformed_json", nil},
		{"empty body", "/v1/decisions/demo.rego_sum", "application/json", ``, 400, "malformed_json", nil},
		{"two JSON values", "/v1/decisions/demo.rego_sum", "application/json", `{"input":{}} {}`, 400, "malformed_json", nil},
		{"unknown top-level field", "/v1/decisions/demo.rego_sum", "application/json", `{"input":{},"facts":{"account":{}}}`, 400, "invalid_request", []string{"facts"}},
		{"input of the wrong JSON type", "/v1/decisions/demo.rego_sum", "application/json", `{"input":{},"explain":"yes"}`, 400, "invalid_request", []string{"explain"}},
		{"missing input", "/v1/decisions/demo.rego_sum", "application/json", `{"as_of":"2025-01-01T00:00:00Z"}`, 422, "invalid_input", []string{"input"}},
		{"input failing the schema", "/v1/decisions/demo.rego_sum", "application/json", `{"input":{"amount":"-1","extra":1}}`, 422, "invalid_input", []string{"input.account_id", "input.amount", "input.extra"}},
		{"over-precise amount", "/v1/decisions/demo.cel_sum", "application/json", `{"input":{"account_id":"G1","amount":"1.005"}}`, 422, "invalid_input", []string{"input.amount"}},
		{"unknown decision", "/v1/decisions/demo.nope", "application/json", `{"input":{}}`, 404, "unknown_decision", nil},
		{"unknown version", "/v1/decisions/demo.windowed", "application/json", `{"input":{},"version":"v7"}`, 404, "unknown_version", []string{"version"}},
		{"no version effective at as_of", "/v1/decisions/demo.windowed", "application/json", `{"input":{},"as_of":"2001-01-01T00:00:00Z"}`, 422, "no_effective_version", []string{"as_of"}},
		{"as_of not RFC 3339", "/v1/decisions/demo.windowed", "application/json", `{"input":{},"as_of":"yesterday"}`, 400, "invalid_request", []string{"as_of"}},
		{"unknown fact", "/v1/decisions/demo.rego_sum", "application/json", `{"input":{"account_id":"NOPE","amount":"1"}}`, 422, "fact_not_found", []string{"input.account_id"}},
		{"body over the limit", "/v1/decisions/demo.rego_sum", "application/json", big, 413, "body_too_large", nil},
		{"not JSON content", "/v1/decisions/demo.rego_sum", "text/plain", `hello`, 415, "unsupported_media_type", nil},
		{"unknown route", "/v1/nothing", "application/json", `{}`, 404, "not_found", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, http.MethodPost, a.url+tt.path, tt.contentType, []byte(tt.body))
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.raw)
			}
			if r.contentType != "application/problem+json" {
				t.Fatalf("content type %q", r.contentType)
			}
			if r.body["code"] != tt.code || r.body["type"] != "urn:arbiter:problem:"+tt.code {
				t.Fatalf("code %v, want %s: %s", r.body["code"], tt.code, r.raw)
			}
			if s, _ := r.body["status"].(interface{ String() string }); s == nil || s.String() != strconv.Itoa(tt.status) {
				t.Fatalf("problem status %v", r.body["status"])
			}
			if r.body["title"] == "" || r.body["title"] == nil {
				t.Fatalf("problem without a title: %s", r.raw)
			}
			got := fields(r)
			for _, f := range tt.fields {
				if !contains(got, f) {
					t.Errorf("field %s not named; got %v", f, got)
				}
			}
		})
	}
}

func TestAdminReloadNeedsTheToken(t *testing.T) {
	a := startDemo(t, nil, nil)
	for _, tt := range []struct {
		name   string
		header []string
		status int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"wrong token", []string{"Authorization", "Bearer nope"}, http.StatusUnauthorized},
		{"right token", []string{"Authorization", "Bearer s3cret"}, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, http.MethodPost, a.url+"/v1/admin/reload", "", nil, tt.header...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.raw)
			}
		})
	}
}
