package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"arbiter"
	"arbiter/internal/server"
	"arbiter/internal/testing/testserver"
)

// hostileValues are raw JSON texts put in place of one field of a shipped request at a time.
var hostileValues = []struct {
	name string
	raw  string
}{
	{"NUL in text", `"a\u0000b"`},
	{"invalid UTF-8", "\"a\xff\xfeb\""},
	{"lone surrogate", `"\ud800"`},
	{"100k-digit amount", `"1` + strings.Repeat("0", 100_000) + `"`},
	{"1000-digit amount", `"` + strings.Repeat("9", 1000) + `.5"`},
	{"long fraction", `"0.` + strings.Repeat("1", 1000) + `"`},
	{"exponent text", `"1e999999999"`},
	{"100k-digit number", `1` + strings.Repeat("0", 100_000)},
	{"huge exponent", `1e999999999`},
	{"negative huge exponent", `-1e999999999`},
	{"tiny exponent", `1e-999999999`},
	{"date past 9999", `"10000-01-01"`},
	{"last date", `"9999-12-31"`},
	{"date past 2262", `"2300-06-01"`},
	{"year zero", `"0000-01-01"`},
	{"month past 2262", `"2300-01"`},
	{"month 9999", `"9999-12"`},
	{"date-time past 9999", `"10000-01-01T00:00:00Z"`},
	{"date-time 9999", `"9999-12-31T23:59:59+08:00"`},
	{"date-time past 2262", `"2300-01-01T00:00:00+08:00"`},
	{"date-time year one", `"0001-01-01T00:00:00Z"`},
	{"200k-deep nesting", strings.Repeat("[", 200_000) + strings.Repeat("]", 200_000)},
}

// hostileTop are raw JSON texts put in place of the request's own fields.
var hostileTop = []struct {
	field, name, raw string
}{
	{"as_of", "past 2262", `"2300-01-01T00:00:00+08:00"`},
	{"as_of", "9999", `"9999-12-31T23:59:59Z"`},
	{"as_of", "past 9999", `"10000-01-01T00:00:00Z"`},
	{"as_of", "year one", `"0001-01-01T00:00:00Z"`},
	{"as_of", "before 1678", `"1600-01-01T00:00:00Z"`},
	{"as_of", "NUL", `"2025-01-01T00:00:00Z\u0000"`},
	{"version", "NUL", `"2020.1\u0000"`},
	{"version", "invalid UTF-8", "\"2020.1\xff\""},
	{"version", "100k characters", `"` + strings.Repeat("v", 100_000) + `"`},
	{"input", "200k-deep nesting", strings.Repeat("[", 200_000) + strings.Repeat("]", 200_000)},
	{"input", "200k-deep objects", strings.Repeat(`{"a":`, 150_000) + "1" + strings.Repeat("}", 150_000)},
	{"input", "NUL in a key", `{"a\u0000":1}`},
	{"input", "invalid UTF-8 in a key", "{\"a\xff\":1}"},
}

const mutationMark = "@@hostile-mutation@@"

// hostileService serves the shipped policies over the fixtures in memory, as `arbiter serve` without a database.
func hostileService(t *testing.T) http.Handler {
	t.Helper()
	return inMemoryService(t, server.Config{MaxBodyBytes: 1 << 20})
}

func inMemoryService(t *testing.T, cfg server.Config) http.Handler {
	t.Helper()
	svc, err := server.Build(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return svc.Handler
}

// shippedRequests reads fixtures/requests/*.json: decision id -> body.
func shippedRequests(t *testing.T) map[string]map[string]any {
	t.Helper()
	paths, err := fs.Glob(arbiter.Fixtures(), "requests/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no shipped requests (%v)", err)
	}
	out := map[string]map[string]any{}
	for _, p := range paths {
		raw, err := fs.ReadFile(arbiter.Fixtures(), p)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[strings.TrimSuffix(strings.TrimPrefix(p, "requests/"), ".json")] = body
	}
	return out
}

// leafPaths lists every scalar of v as a path of keys and indexes.
func leafPaths(v any, prefix []any, out *[][]any) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			leafPaths(t[k], append(append([]any(nil), prefix...), k), out)
		}
	case []any:
		for i, c := range t {
			leafPaths(c, append(append([]any(nil), prefix...), i), out)
		}
	default:
		*out = append(*out, prefix)
	}
}

// cloneJSON deep-copies a decoded JSON value.
func cloneJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, c := range t {
			m[k] = cloneJSON(c)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, c := range t {
			s[i] = cloneJSON(c)
		}
		return s
	}
	return v
}

// mutate returns body with the value at path replaced by raw JSON text.
func mutate(t *testing.T, body map[string]any, path []any, raw string) []byte {
	t.Helper()
	c := cloneJSON(body).(map[string]any)
	var cur any = c
	for i, step := range path {
		last := i == len(path)-1
		switch k := step.(type) {
		case string:
			m := cur.(map[string]any)
			if last {
				m[k] = mutationMark
			}
			cur = m[k]
		case int:
			s := cur.([]any)
			if last {
				s[k] = mutationMark
			}
			cur = s[k]
		}
	}
	enc, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Replace(enc, []byte(`"`+mutationMark+`"`), []byte(raw), 1)
}

func pathString(path []any) string {
	var b strings.Builder
	for _, step := range path {
		switch k := step.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		}
	}
	return b.String()
}

var problemField = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`)

// checkHostileAnswer fails unless the answer is a 200 or a 4xx problem naming at least one field.
func checkHostileAnswer(t *testing.T, label string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code == http.StatusOK {
		return
	}
	var p struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
		Errors []struct {
			Field string `json:"field"`
		} `json:"errors"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &p)
	switch {
	case rec.Code >= 500 || rec.Code < 400:
		t.Errorf("%s: status %d: %.300s", label, rec.Code, rec.Body.String())
	case rec.Header().Get("Content-Type") != "application/problem+json" || p.Code == "":
		t.Errorf("%s: status %d without a problem document: %.300s", label, rec.Code, rec.Body.String())
	case len(p.Errors) == 0 || !problemField.MatchString(p.Errors[0].Field):
		t.Errorf("%s: %d %s names no field: %.300s", label, rec.Code, p.Code, rec.Body.String())
	}
}

// TestHostileInputsToEveryDecision sends NUL, invalid UTF-8, oversize numbers and amounts, dates out of
// range and deep nesting in every field of every shipped request: the answer is a 200 or a 4xx problem
// naming a field, never a 5xx.
func TestHostileInputsToEveryDecision(t *testing.T) {
	if testing.Short() {
		t.Skip("sends several thousand requests")
	}
	sendHostile(t, hostileService(t), "")
}

// TestHostileInputsToEveryDecisionInPostgres does the same over PostgreSQL facts, where text and keys
// reach the database: nothing may come back as a store failure.
func TestHostileInputsToEveryDecisionInPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("sends several thousand requests")
	}
	srv := testserver.Start(t, testserver.Options{Fixtures: true})
	sendHostile(t, srv.Service.Handler, srv.Key)
}

// sendHostile sends every hostile body to h as a loopback client, with key when one is given.
func sendHostile(t *testing.T, h http.Handler, key string) {
	send := func(decision string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/decisions/"+decision, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = "127.0.0.1:40000"
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	reqs := shippedRequests(t)
	decisions := make([]string, 0, len(reqs))
	for d := range reqs {
		decisions = append(decisions, d)
	}
	sort.Strings(decisions)
	sent := 0
	for _, decision := range decisions {
		body := reqs[decision]
		t.Run(decision, func(t *testing.T) {
			var leaves [][]any
			leafPaths(body["input"], []any{"input"}, &leaves)
			for _, leaf := range leaves {
				for _, hv := range hostileValues {
					label := pathString(leaf) + " = " + hv.name
					checkHostileAnswer(t, label, send(decision, mutate(t, body, leaf, hv.raw)))
					sent++
				}
			}
			for _, ht := range hostileTop {
				checkHostileAnswer(t, ht.field+" = "+ht.name, send(decision, mutate(t, body, []any{ht.field}, ht.raw)))
				sent++
			}
		})
	}
	t.Logf("%d requests to %d decisions", sent, len(decisions))
}
