package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"arbiter/api"
)

// spendConcurrently posts demo.spend n times at once; body(i) is the i-th request's input.
func spendConcurrently(t *testing.T, base string, n int, body func(i int) string) []response {
	t.Helper()
	out := make([]response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = post(t, base+"/v1/decisions/demo.spend", body(i))
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// One idempotency key sent by 20 clients at once, each with another account (so other locks): one
// commits, every other one is 409, never a 503; the same request 20 times at once commits once and
// replays 19 times.
func TestConcurrentIdempotencyKeyReuseInPostgres(t *testing.T) {
	demo, _ := startDemoPostgres(t, nil)
	// The same engine behind a handler that admits every client at once: the race is in the store.
	srv := httptest.NewServer(api.New(api.Config{Engine: demo.engine, MaxInFlight: 100}))
	t.Cleanup(srv.Close)
	a := &demoAPI{url: srv.URL}
	const clients = 20
	for round := 0; round < 5; round++ {
		rid := fmt.Sprintf("reuse-%d", round)
		answers := spendConcurrently(t, a.url, clients, func(i int) string {
			return fmt.Sprintf(`{"input":{"account_id":"acct-%d-%d","request_id":%q},"as_of":"2025-02-01T00:00:00+08:00"}`, round, i, rid)
		})
		var ok, conflict int
		for _, r := range answers {
			switch {
			case r.status == http.StatusOK:
				ok++
			case r.status == http.StatusConflict && r.body["code"] == "idempotency_conflict" && contains(fields(r), "input.request_id"):
				conflict++
			default:
				t.Fatalf("round %d: %d %s", round, r.status, r.raw)
			}
		}
		if ok != 1 || conflict != clients-1 {
			t.Fatalf("round %d: %d committed and %d conflicts, want 1 and %d", round, ok, conflict, clients-1)
		}

		same := fmt.Sprintf("same-%d", round)
		answers = spendConcurrently(t, a.url, clients, func(int) string {
			return fmt.Sprintf(`{"input":{"account_id":"one-%d","request_id":%q},"as_of":"2025-02-01T00:00:00+08:00"}`, round, same)
		})
		var committed, replayed int
		for _, r := range answers {
			commit, _ := r.body["commit"].(map[string]any)
			switch {
			case r.status != http.StatusOK || commit == nil:
				t.Fatalf("round %d, same request: %d %s", round, r.status, r.raw)
			case commit["replayed"] == true:
				replayed++
			case commit["committed"] == true:
				committed++
			}
		}
		if committed != 1 || replayed != clients-1 {
			t.Fatalf("round %d, same request: %d committed and %d replayed, want 1 and %d", round, committed, replayed, clients-1)
		}

		// The stored answer is there to find for a client that lost it.
		r := do(t, http.MethodGet, a.url+"/v1/commits/demo.spend/"+url.PathEscape(same), "", nil)
		answer, _ := r.body["answer"].(map[string]any)
		if r.status != http.StatusOK || r.body["idempotency_key"] != same || answer == nil || answer["decision"] != "demo.spend" {
			t.Fatalf("round %d: GET commit: %d %s", round, r.status, r.raw)
		}
	}
}

func TestGetCommit(t *testing.T) {
	for _, backend := range []string{"memory", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			var a *demoAPI
			if backend == "memory" {
				a = startDemo(t, nil, nil)
			} else {
				a, _ = startDemoPostgres(t, nil)
			}
			spent := post(t, a.url+"/v1/decisions/demo.spend", `{"input":{"account_id":"A","request_id":"order/7"},"as_of":"2025-02-01T00:00:00+08:00"}`)
			if spent.status != http.StatusOK {
				t.Fatalf("%d %s", spent.status, spent.raw)
			}
			for _, tt := range []struct {
				name, path string
				status     int
				code       string
			}{
				{"stored", "/v1/commits/demo.spend/" + url.PathEscape("order/7"), 200, ""},
				{"no such key", "/v1/commits/demo.spend/order-8", 404, "not_found"},
				{"NUL in the key", "/v1/commits/demo.spend/a%00b", 404, "not_found"},
				{"unknown decision", "/v1/commits/demo.nope/order-7", 404, "unknown_decision"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					r := do(t, http.MethodGet, a.url+tt.path, "", nil)
					if r.status != tt.status || (tt.code != "" && r.body["code"] != tt.code) {
						t.Fatalf("%d %s", r.status, r.raw)
					}
					if tt.status == http.StatusOK && (r.body["decision_id"] != spent.body["decision_id"] || r.body["committed_at"] == nil) {
						t.Fatalf("stored commit %s does not match the answer %s", r.raw, spent.raw)
					}
				})
			}
		})
	}
}

func TestCommitKeysTheStoreCannotKeep(t *testing.T) {
	a := startDemo(t, nil, nil)
	for _, tt := range []struct {
		name, input, field string
	}{
		{"idempotency key too long", `{"account_id":"A","request_id":"` + strings.Repeat("r", 600) + `"}`, "input.request_id"},
		{"lock key too long", `{"account_id":"` + strings.Repeat("a", 600) + `","request_id":"r1"}`, "input.account_id"},
		{"NUL in the idempotency key", `{"account_id":"A","request_id":"r\u0000"}`, "input.request_id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, a.url+"/v1/decisions/demo.spend", `{"input":`+tt.input+`,"as_of":"2025-02-01T00:00:00+08:00"}`)
			if r.status != http.StatusUnprocessableEntity || !contains(fields(r), tt.field) {
				t.Fatalf("%d %s", r.status, r.raw)
			}
		})
	}
}

func TestStoredCommitMatchesTheOpenAPISchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	if err := c.AddResource("mem:///openapi.json", openAPIDoc(t)); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("mem:///openapi.json#/components/schemas/StoredCommit")
	if err != nil {
		t.Fatal(err)
	}
	a := startDemo(t, nil, nil)
	if r := post(t, a.url+"/v1/decisions/demo.spend", `{"input":{"account_id":"A","request_id":"r1"},"as_of":"2025-02-01T00:00:00+08:00"}`); r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	r := do(t, http.MethodGet, a.url+"/v1/commits/demo.spend/r1", "", nil)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(inst); r.status != http.StatusOK || err != nil {
		t.Fatalf("%d %v\n%s", r.status, err, r.raw)
	}
}
