package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"arbiter/api"
)

func openAPIDoc(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	// Round-trip through JSON so the schema compiler sees plain JSON values.
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc := openAPIDoc(t)
	documented := map[string]bool{}
	for p, item := range doc["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			documented[strings.ToUpper(method)+" "+p] = true
		}
	}
	a := startDemo(t, nil, nil)
	h := api.New(api.Config{Engine: a.engine})
	routes, ok := h.(chi.Routes)
	if !ok {
		t.Fatalf("handler is %T, not a chi router", h)
	}
	served := map[string]bool{}
	err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if route == "/metrics" && method != http.MethodGet {
			return nil // promhttp answers every method; GET is the documented one
		}
		if route == "/console" || strings.HasPrefix(route, "/console/") {
			return nil // the web console's static files, not part of the JSON API
		}
		served[method+" "+route] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for r := range served {
		if !documented[r] {
			t.Errorf("route %s is served but not in openapi.yaml", r)
		}
	}
	for r := range documented {
		if !served[r] {
			t.Errorf("openapi.yaml documents %s, which is not served", r)
		}
	}
	if t.Failed() {
		t.Logf("served: %v", keys(served))
	}
}

// openAPISchemas returns a compiler of the schemas under components/schemas of openapi.yaml.
func openAPISchemas(t *testing.T) func(name string) *jsonschema.Schema {
	t.Helper()
	doc := openAPIDoc(t)
	c := jsonschema.NewCompiler()
	if err := c.AddResource("mem:///openapi.json", doc); err != nil {
		t.Fatal(err)
	}
	return func(name string) *jsonschema.Schema {
		s, err := c.Compile("mem:///openapi.json#/components/schemas/" + name)
		if err != nil {
			t.Fatalf("schema %s: %v", name, err)
		}
		return s
	}
}

func TestResponsesMatchTheOpenAPISchemas(t *testing.T) {
	schema := openAPISchemas(t)
	a := startDemo(t, nil, nil)
	decided := post(t, a.url+"/v1/decisions/demo.spend", `{"input":{"account_id":"A","request_id":"r1"},"as_of":"2025-02-01T00:00:00+08:00","explain":true}`)
	id, _ := decided.body["decision_id"].(string)
	var logged response
	for i := 0; i < 50; i++ {
		if logged = do(t, http.MethodGet, a.url+"/v1/decisions/"+id, "", nil); logged.status == http.StatusOK {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	checks := []struct {
		name   string
		resp   response
		status int
		schema string
	}{
		{"commit decision envelope", decided, 200, "Decision"},
		{"plain decision envelope", post(t, a.url+"/v1/decisions/demo.cel_sum", `{"input":{"account_id":"B1","amount":"1"},"as_of":"2025-02-01T00:00:00+08:00"}`), 200, "Decision"},
		{"problem", post(t, a.url+"/v1/decisions/demo.cel_sum", `{"input":{}}`), 422, "Problem"},
		{"policy", do(t, http.MethodGet, a.url+"/v1/policies/demo.spend", "", nil), 200, "DecisionInfo"},
		{"logged decision", logged, 200, "LoggedDecision"},
		{"table version", do(t, http.MethodGet, a.url+"/v1/tables/demo.rates/versions/2025", "", nil), 200, "TableVersion"},
		{"reload report", do(t, http.MethodPost, a.url+"/v1/admin/reload", "", nil, "Authorization", "Bearer s3cret"), 200, "ReloadReport"},
	}
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			if ch.resp.status != ch.status {
				t.Fatalf("status %d, want %d: %s", ch.resp.status, ch.status, ch.resp.raw)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(ch.resp.raw))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema(ch.schema).Validate(inst); err != nil {
				t.Fatalf("response does not match %s: %v\n%s", ch.schema, err, ch.resp.raw)
			}
		})
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
