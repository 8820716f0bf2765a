package api

import (
	"net/http"
	"testing"
)

// FuzzParseDecisionRequest feeds arbitrary bodies to the request decoder: it must never panic, and
// it must either produce a request with an input or a 4xx problem with a code.
func FuzzParseDecisionRequest(f *testing.F) {
	for _, seed := range []string{
		`{"input":{"account_id":"A1"},"as_of":"2025-01-01T00:00:00+08:00"}`,
		`{"input":{"amount":"12.50","lines":[{"billing_mode":"monthly"}]},"version":"v1","explain":true}`,
		`{"input":null}`, `{"input":`, `[]`, `"x"`, `{"input":{},"as_of":"nope"}`, `{"input":{}} {}`,
		`{"input":{"n":1e999}}`, `{"facts":{}}`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, p := ParseRequest(body)
		if p != nil {
			if p.Status < 400 || p.Status >= 500 || p.Code == "" || p.Title == "" {
				t.Fatalf("problem %+v for %q", p, body)
			}
			return
		}
		if req.Input == nil {
			t.Fatalf("accepted %q without an input", body)
		}
	})
}

func TestParseDecisionRequestStatuses(t *testing.T) {
	for _, tt := range []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"valid", `{"input":{}}`, 0, ""},
		{"syntax error", `{"input":`, http.StatusBadRequest, codeMalformedJSON},
		{"number as input field type", `{"input":{},"version":1}`, http.StatusBadRequest, codeInvalidRequest},
		{"input is null", `{"input":null}`, http.StatusUnprocessableEntity, "invalid_input"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, p := ParseRequest([]byte(tt.body))
			if tt.status == 0 {
				if p != nil {
					t.Fatalf("unexpected problem %+v", p)
				}
				return
			}
			if p == nil || p.Status != tt.status || p.Code != tt.code {
				t.Fatalf("got %+v, want %d %s", p, tt.status, tt.code)
			}
		})
	}
}
