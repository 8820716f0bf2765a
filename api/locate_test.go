package api

import (
	"net/http"
	"strings"
	"testing"
)

func TestParseRequestNamesBadTextAndDeepNesting(t *testing.T) {
	deep := strings.Repeat("[", 200_000) + strings.Repeat("]", 200_000)
	for _, tt := range []struct {
		name, body, field string
	}{
		{"invalid UTF-8 in an input string", "{\"input\":{\"a\":1,\"b\":[\"x\",\"\xff\"]}}", "input.b[1]"},
		{"invalid UTF-8 in a key", "{\"input\":{\"ok\":{\"\xc3\":1}}}", "input.ok"},
		{"invalid UTF-8 in version", "{\"input\":{},\"version\":\"v\xff\"}", "version"},
		{"NUL in version", `{"input":{},"version":"v\u0000"}`, "version"},
		{"version too long", `{"input":{},"version":"` + strings.Repeat("v", 65) + `"}`, "version"},
		{"200k-deep arrays", `{"input":{"a":` + deep + `}}`, "input.a" + strings.Repeat("[0]", 64)},
		{"200k-deep input", `{"input":` + deep + `}`, "input" + strings.Repeat("[0]", 65)},
		{"200k-deep body that is no object", deep, ""},
		{"invalid UTF-8 in a body that is no object", "[\"\xff\"]", ""},
		{"as_of at the zero instant", `{"input":{},"as_of":"0001-01-01T00:00:00Z"}`, "as_of"},
		{"as_of past 2262", `{"input":{},"as_of":"2300-01-01T00:00:00+08:00"}`, "as_of"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, p := ParseRequest([]byte(tt.body))
			if tt.field == "" {
				if p == nil || p.Status != http.StatusBadRequest {
					t.Fatalf("got %+v, want a 400", p)
				}
				return
			}
			if p == nil || p.Status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Field != tt.field {
				t.Fatalf("got %+v, want a 422 naming %s", p, tt.field)
			}
		})
	}
}
