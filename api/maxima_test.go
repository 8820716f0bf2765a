package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"arbiter"
	"arbiter/internal/server"
)

// The deadline a request at a schema's maxima must meet, best of maximaRuns (a loaded machine slows
// single runs), and the share of it that leaves room to spare (going over it is reported, not failed).
const (
	maximaDeadline = 2 * time.Second
	maximaBudget   = time.Second
	maximaRuns     = 3
)

// inputSchemas reads the input_schema of each decision's latest shipped version.
func inputSchemas(t *testing.T) map[string]map[string]any {
	t.Helper()
	manifests, err := fs.Glob(arbiter.Bundle(), "policies/*/*/*/manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(manifests) // versions sort by name: the last one of a decision is the latest
	out := map[string]map[string]any{}
	for _, m := range manifests {
		raw, err := fs.ReadFile(arbiter.Bundle(), m)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Decision    string         `yaml:"decision"`
			InputSchema map[string]any `yaml:"input_schema"`
		}
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		out[doc.Decision] = doc.InputSchema
	}
	return out
}

// fillToMaxima grows every array of v that its schema bounds with maxItems to that bound, copying
// the array's elements (an "id" made unique per copy), inner arrays first; it returns how many
// arrays it grew.
func fillToMaxima(v any, schema map[string]any) (any, int) {
	grown := 0
	switch t := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for k, c := range t {
			sub, _ := props[k].(map[string]any)
			var n int
			t[k], n = fillToMaxima(c, sub)
			grown += n
		}
		return t, grown
	case []any:
		items, _ := schema["items"].(map[string]any)
		for i, c := range t {
			var n int
			t[i], n = fillToMaxima(c, items)
			grown += n
		}
		max, ok := schema["maxItems"].(int)
		if !ok || len(t) == 0 || len(t) >= max {
			return t, grown
		}
		out := make([]any, 0, max)
		for i := 0; len(out) < max; i++ {
			c := cloneJSON(t[i%len(t)])
			if m, ok := c.(map[string]any); ok && i >= len(t) {
				if id, ok := m["id"].(string); ok {
					m["id"] = fmt.Sprintf("%s-copy%d", id, i)
				}
			}
			out = append(out, c)
		}
		return out, grown + 1
	}
	return v, grown
}

// TestSchemaMaximaEvaluateInTime fills every bounded array of every shipped request to its schema's
// maxItems: the decision must answer (200 or a 4xx problem) well within the deadline, never time out.
func TestSchemaMaximaEvaluateInTime(t *testing.T) {
	if testing.Short() {
		t.Skip("evaluates every decision at its largest input")
	}
	// The service's own deadline is far away: the test measures, then compares with maximaDeadline.
	h := inMemoryService(t, server.Config{MaxBodyBytes: 1 << 20, EvalTimeout: time.Minute})
	schemas := inputSchemas(t)
	reqs := shippedRequests(t)
	decisions := make([]string, 0, len(reqs))
	for d := range reqs {
		decisions = append(decisions, d)
	}
	sort.Strings(decisions)
	for _, decision := range decisions {
		body := cloneJSON(reqs[decision]).(map[string]any)
		in, grown := fillToMaxima(body["input"], schemas[decision])
		if grown == 0 {
			continue
		}
		body["input"] = in
		t.Run(decision, func(t *testing.T) {
			raw, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			send := func(raw []byte) *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodPost, "/v1/decisions/"+decision, bytes.NewReader(raw))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			warm, _ := json.Marshal(reqs[decision]) // first-use costs are not the input's
			send(warm)
			took := time.Duration(1<<63 - 1)
			var rec *httptest.ResponseRecorder
			for range maximaRuns {
				start := time.Now()
				rec = send(raw)
				took = min(took, time.Since(start))
			}
			t.Logf("%d arrays at maxItems, %d bytes: %d in %v (best of %d)", grown, len(raw), rec.Code, took.Round(time.Millisecond), maximaRuns)
			switch {
			case rec.Code >= 500 || took > maximaDeadline:
				t.Errorf("%d in %v, deadline %v: %.300s", rec.Code, took, maximaDeadline, strings.TrimSpace(rec.Body.String()))
			case took > maximaBudget:
				t.Logf("over the budget of %v: lower the schema's maxima or make the policy cheaper", maximaBudget)
			}
		})
	}
}
