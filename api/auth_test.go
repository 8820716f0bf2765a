package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"arbiter/api"
	"arbiter/auth"
	"arbiter/internal/testing/testserver"
)

// authReply is one answer with its headers, the JSON body decoded with numbers kept as text.
type authReply struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// authDo sends method url with an optional bearer key and JSON body.
func authDo(t *testing.T, method, url, key, body string, header ...string) authReply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	// Two minutes because one of the requests is a reload, which runs every tests.yaml case first.
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := authReply{status: resp.StatusCode, header: resp.Header, raw: raw}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	_ = dec.Decode(&r.body)
	return r
}

// sampleBody is the shipped sample request of decision, with extra top-level fields set.
func sampleBody(t *testing.T, decision string, extra map[string]any) string {
	t.Helper()
	raw, err := os.ReadFile("../fixtures/requests/" + decision + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	for k, v := range extra {
		body[k] = v
	}
	out, _ := json.Marshal(body)
	return string(out)
}

func keyID(key string) string { return strings.Split(key, "_")[1] }

// waitLogged reads a decision back from the log with key, waiting for the writer.
func waitLogged(t *testing.T, base, key, id string) authReply {
	t.Helper()
	var r authReply
	for i := 0; i < 100; i++ {
		if r = authDo(t, http.MethodGet, base+"/v1/decisions/"+id, key, ""); r.status != http.StatusNotFound {
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
	return r
}

func TestRequestsWithoutCredentialsAre401(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Fixtures: true})
	for _, tt := range []struct {
		name, method, path, body string
	}{
		{"decision", http.MethodPost, "/v1/decisions/coupon.redeem", sampleBody(t, "coupon.redeem", nil)},
		{"dry run", http.MethodPost, "/v1/decisions/coupon.redeem", sampleBody(t, "coupon.redeem", map[string]any{"dry_run": true})},
		{"logged decision", http.MethodGet, "/v1/decisions/0190f0f0-0000-7000-8000-000000000000", ""},
		{"policies", http.MethodGet, "/v1/policies", ""},
		{"one policy", http.MethodGet, "/v1/policies/coupon.redeem", ""},
		{"tables", http.MethodGet, "/v1/tables", ""},
		{"status", http.MethodGet, "/v1/status", ""},
		{"reload", http.MethodPost, "/v1/admin/reload", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, key := range []string{"", "arb_0123456789abcdef_" + strings.Repeat("A", 43), "not-a-key"} {
				r := authDo(t, tt.method, srv.BaseURL+tt.path, key, tt.body)
				if r.status != http.StatusUnauthorized || r.body["code"] != "unauthenticated" {
					t.Fatalf("key %q: status %d, want 401 unauthenticated: %s", key, r.status, r.raw)
				}
				if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
					t.Fatalf("content type %q", ct)
				}
				if id := r.header.Get("X-Request-Id"); id == "" || r.body["instance"] != id {
					t.Fatalf("instance %v, want the request id %q", r.body["instance"], id)
				}
			}
		})
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/openapi.yaml"} {
		if r := authDo(t, http.MethodGet, srv.BaseURL+path, "", ""); r.status != http.StatusOK {
			t.Errorf("%s answers %d without credentials, want 200", path, r.status)
		}
	}
}

func TestScopesRefuseWith403(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Fixtures: true})
	key := func(name string, scopes ...string) string {
		return testserver.CreateKey(t, srv.DatabaseURL, name, scopes...)
	}
	checkout := key("checkout", "coupon.*", "commit")
	refundDesk := key("refund-desk", "refund.*", "commit", "log:read", "explain")
	browse := key("browse", "coupon.*")
	auditor := key("auditor", "coupon.*", "refund.*", "log:read")
	editor := key("editor", "log:read", "draft")

	// A decision logged for the log-read cases, asked with the all-scopes key.
	fh := authDo(t, http.MethodPost, srv.BaseURL+"/v1/decisions/fh.application", srv.Key, sampleBody(t, "fh.application", nil))
	if fh.status != http.StatusOK {
		t.Fatalf("fh.application: %d %s", fh.status, fh.raw)
	}
	fhID := fh.body["decision_id"].(string)
	if r := waitLogged(t, srv.BaseURL, srv.Key, fhID); r.status != http.StatusOK {
		t.Fatalf("fh.application not logged: %d %s", r.status, r.raw)
	}

	tests := []struct {
		name, key, method, path, body string
		status                        int
	}{
		{"refund desk cannot redeem coupons", refundDesk, http.MethodPost, "/v1/decisions/coupon.redeem", sampleBody(t, "coupon.redeem", nil), 403},
		{"refund desk cannot even dry-run them", refundDesk, http.MethodPost, "/v1/decisions/coupon.redeem", sampleBody(t, "coupon.redeem", map[string]any{"dry_run": true}), 403},
		{"checkout cannot ask FH applications", checkout, http.MethodPost, "/v1/decisions/fh.application", sampleBody(t, "fh.application", nil), 403},
		{"checkout cannot see an FH policy", checkout, http.MethodGet, "/v1/policies/fh.application", "", 403},
		{"commit decision without commit", browse, http.MethodPost, "/v1/decisions/coupon.redeem", sampleBody(t, "coupon.redeem", nil), 403},
		{"its dry run needs no commit", browse, http.MethodPost, "/v1/decisions/coupon.redeem", sampleBody(t, "coupon.redeem", map[string]any{"dry_run": true}), 200},
		{"explain without explain", checkout, http.MethodPost, "/v1/decisions/coupon.redeem", sampleBody(t, "coupon.redeem", map[string]any{"dry_run": true, "explain": true}), 403},
		{"explain with explain", refundDesk, http.MethodPost, "/v1/decisions/refund.path", sampleBody(t, "refund.path", map[string]any{"explain": true}), 200},
		{"log read without log:read", checkout, http.MethodGet, "/v1/decisions/" + fhID, "", 403},
		{"log read of another domain", auditor, http.MethodGet, "/v1/decisions/" + fhID, "", 403},
		{"reload without admin", refundDesk, http.MethodPost, "/v1/admin/reload", "", 403},
		{"reload with admin", srv.Key, http.MethodPost, "/v1/admin/reload", "", 200},
		{"revisions without log:read", checkout, http.MethodGet, "/v1/revisions", "", 403},
		{"revisions with log:read", auditor, http.MethodGet, "/v1/revisions", "", 200},
		{"a draft without draft", auditor, http.MethodPost, "/v1/drafts", "{}", 403},
		{"publishing a draft without publish", editor, http.MethodPost, "/v1/drafts/1/publish", `{"message": "m"}`, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := authDo(t, tt.method, srv.BaseURL+tt.path, tt.key, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.raw)
			}
			if tt.status == 403 && (r.body["code"] != "forbidden" || r.header.Get("Content-Type") != "application/problem+json") {
				t.Fatalf("not a forbidden problem: %s", r.raw)
			}
		})
	}

	t.Run("policies list only what the caller may ask", func(t *testing.T) {
		r := authDo(t, http.MethodGet, srv.BaseURL+"/v1/policies", checkout, "")
		if r.status != 200 {
			t.Fatalf("status %d", r.status)
		}
		for _, d := range r.body["decisions"].([]any) {
			if id := d.(map[string]any)["decision"].(string); !strings.HasPrefix(id, "coupon.") {
				t.Errorf("checkout sees %s", id)
			}
		}
	})
}

func TestCallerIsRecordedInTheLogAndTheCommit(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Fixtures: true})
	checkout := testserver.CreateKey(t, srv.DatabaseURL, "checkout", "coupon.*", "commit", "log:read")
	r := authDo(t, http.MethodPost, srv.BaseURL+"/v1/decisions/coupon.redeem", checkout, sampleBody(t, "coupon.redeem", nil))
	if r.status != 200 {
		t.Fatalf("coupon.redeem: %d %s", r.status, r.raw)
	}
	commit, _ := r.body["commit"].(map[string]any)
	if commit == nil || commit["committed"] != true {
		t.Fatalf("the sample redemption did not commit: %s", r.raw)
	}
	id := r.body["decision_id"].(string)
	want := "key:" + keyID(checkout)

	logged := waitLogged(t, srv.BaseURL, checkout, id)
	if logged.status != 200 || logged.body["caller"] != want {
		t.Fatalf("logged decision: %d caller %v, want %s: %s", logged.status, logged.body["caller"], want, logged.raw)
	}
	ctx := context.Background()
	var logCaller, commitCaller string
	if err := srv.Postgres.Pool().QueryRow(ctx, `SELECT caller FROM decision_log WHERE id = $1`, id).Scan(&logCaller); err != nil {
		t.Fatal(err)
	}
	if err := srv.Postgres.Pool().QueryRow(ctx, `SELECT caller FROM commits WHERE decision_id = $1`, id).Scan(&commitCaller); err != nil {
		t.Fatal(err)
	}
	if logCaller != want || commitCaller != want {
		t.Fatalf("decision_log.caller %q, commits.caller %q, want %q", logCaller, commitCaller, want)
	}
}

func TestRevokedKeyIsRefusedAtOnceOnEveryReplica(t *testing.T) {
	first := testserver.Start(t, testserver.Options{Fixtures: true})
	second := testserver.Start(t, testserver.Options{DatabaseURL: first.DatabaseURL})
	key := testserver.CreateKey(t, first.DatabaseURL, "refund-desk", "refund.*")
	body := sampleBody(t, "refund.path", nil)
	for _, srv := range []*testserver.Server{first, second} {
		if r := authDo(t, http.MethodPost, srv.BaseURL+"/v1/decisions/refund.path", key, body); r.status != 200 {
			t.Fatalf("before revocation: %d %s", r.status, r.raw)
		}
	}
	if err := auth.NewPostgresKeys(first.Postgres.Pool()).Revoke(context.Background(), keyID(key)); err != nil {
		t.Fatal(err)
	}
	// No wait: the very next request on either replica is refused.
	for i, srv := range []*testserver.Server{second, first} {
		r := authDo(t, http.MethodPost, srv.BaseURL+"/v1/decisions/refund.path", key, body)
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body["detail"].(string), "revoked") {
			t.Fatalf("replica %d after revocation: %d %s", i, r.status, r.raw)
		}
	}
}

func TestPersonalFieldsAreMaskedWithoutThePersonalScope(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Fixtures: true})
	plain := testserver.CreateKey(t, srv.DatabaseURL, "fh-desk", "fh.*", "explain", "log:read")
	personal := testserver.CreateKey(t, srv.DatabaseURL, "fh-officer", "fh.*", "explain", "log:read", "personal")
	body := sampleBody(t, "fh.application", map[string]any{"explain": true})

	names := func(facts any) []string {
		var out []string
		persons, _ := facts.(map[string]any)["persons"].([]any)
		for _, p := range persons {
			row := p.(map[string]any)
			out = append(out, row["name"].(string), row["social_security_city"].(string), row["id"].(string))
		}
		return out
	}
	tests := []struct {
		name   string
		key    string
		masked bool
	}{
		{"without personal", plain, true},
		{"with personal", personal, false},
	}
	var id string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := authDo(t, http.MethodPost, srv.BaseURL+"/v1/decisions/fh.application", tt.key, body)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			id = r.body["decision_id"].(string)
			live := names(r.body["explain"].(map[string]any)["facts"])
			logged := waitLogged(t, srv.BaseURL, tt.key, id)
			if logged.status != 200 {
				t.Fatalf("log: %d %s", logged.status, logged.raw)
			}
			fromLog := names(logged.body["facts"])
			fromEnvelope := names(logged.body["envelope"].(map[string]any)["explain"].(map[string]any)["facts"])
			for where, got := range map[string][]string{"explain": live, "log facts": fromLog, "log envelope": fromEnvelope} {
				if len(got) == 0 {
					t.Fatalf("%s: no persons", where)
				}
				joined := strings.Join(got, " ")
				if tt.masked && (strings.Contains(joined, "Li Wei") || strings.Contains(joined, "shenzhen") || !strings.Contains(joined, "***")) {
					t.Errorf("%s shows personal data: %v", where, got)
				}
				if !tt.masked && !strings.Contains(joined, "Li Wei") {
					t.Errorf("%s masks data for a caller with personal: %v", where, got)
				}
				if !strings.Contains(joined, "FH-SVC-1") {
					t.Errorf("%s masks the person's id, which is not personal: %v", where, got)
				}
			}
		})
	}
	// The log keeps what replay needs: the facts as the decision saw them.
	var stored string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		// The log writes in batches off the request path: wait for the row.
		err := srv.Postgres.Pool().QueryRow(context.Background(), `SELECT facts::text FROM decision_log_with_facts WHERE id = $1`, id).Scan(&stored)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
	}
	if !strings.Contains(stored, "Li Wei") {
		t.Fatalf("the log does not keep the facts as seen: %s", stored)
	}
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	ch chan []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.ch <- append([]byte(nil), p...)
	return len(p), nil
}

func TestOneLogLinePerRequestWithItsRequestID(t *testing.T) {
	a := startDemo(t, nil, nil)
	sink := &syncBuffer{ch: make(chan []byte, 100)}
	hs := httptest.NewServer(api.New(api.Config{Engine: a.engine, Logger: slog.New(slog.NewJSONHandler(sink, nil))}))
	t.Cleanup(hs.Close)
	next := func() map[string]any {
		t.Helper()
		select {
		case line := <-sink.ch:
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("log line %s: %v", line, err)
			}
			return m
		case <-time.After(5 * time.Second):
			t.Fatal("no log line")
			return nil
		}
	}
	tests := []struct {
		name, method, path, body, requestID string
		status                              int
		decision                            string
		keepsID                             bool
	}{
		{"decision", http.MethodPost, "/v1/decisions/demo.cel_sum", `{"input":{"account_id":"B1","amount":"1"},"as_of":"2025-02-01T00:00:00+08:00"}`, "order-7/attempt-1", 200, "demo.cel_sum", true},
		{"problem", http.MethodPost, "/v1/decisions/demo.cel_sum", `{"input":{}}`, "", 422, "demo.cel_sum", false},
		{"unsafe request id is replaced", http.MethodGet, "/v1/policies", "", "a b\tc", 200, "", false},
		{"open route", http.MethodGet, "/healthz", "", "", 200, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var header []string
			if tt.requestID != "" {
				header = []string{"X-Request-Id", tt.requestID}
			}
			r := authDo(t, tt.method, hs.URL+tt.path, "", tt.body, header...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.raw)
			}
			rid := r.header.Get("X-Request-Id")
			if tt.keepsID && rid != tt.requestID {
				t.Fatalf("X-Request-Id %q, want the caller's %q", rid, tt.requestID)
			}
			if !tt.keepsID && (rid == "" || rid == tt.requestID) {
				t.Fatalf("X-Request-Id %q: want a fresh id", rid)
			}
			if tt.status >= 400 && r.body["instance"] != rid {
				t.Fatalf("problem instance %v, want %s", r.body["instance"], rid)
			}
			line := next()
			want := map[string]any{"msg": "request", "method": tt.method, "path": tt.path, "status": float64(tt.status), "request_id": rid, "decision": tt.decision}
			if strings.HasPrefix(tt.path, "/v1/") {
				want["caller"] = "anonymous"
			}
			if tt.status == 200 && tt.decision != "" {
				want["decision_id"] = r.body["decision_id"]
			}
			for k, v := range want {
				if line[k] != v {
					t.Errorf("log %s = %v, want %v (line %v)", k, line[k], v, line)
				}
			}
			if _, ok := line["duration_ms"].(float64); !ok {
				t.Errorf("no duration in %v", line)
			}
		})
	}
}

func TestOpenAPIDocumentsAuthenticationOnEveryV1Route(t *testing.T) {
	doc := openAPIDoc(t)
	forbiddenToo := map[string]bool{
		"POST /v1/decisions/{decision}": true, "GET /v1/decisions/{id}": true,
		"GET /v1/policies/{decision}": true, "POST /v1/admin/reload": true,
	}
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			route := strings.ToUpper(method) + " " + path
			responses := op.(map[string]any)["responses"].(map[string]any)
			_, has401 := responses["401"]
			_, has403 := responses["403"]
			open, declaresOpen := op.(map[string]any)["security"].([]any)
			switch {
			case strings.HasPrefix(path, "/v1/") && !has401:
				t.Errorf("%s does not document 401", route)
			case forbiddenToo[route] && !has403:
				t.Errorf("%s does not document 403", route)
			case !strings.HasPrefix(path, "/v1/") && (!declaresOpen || len(open) != 0):
				t.Errorf("%s is open but does not say security: []", route)
			}
		}
	}
}
