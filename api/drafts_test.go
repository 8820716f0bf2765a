package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"arbiter/api"
	"arbiter/internal/testing/demotree"
	"arbiter/internal/testing/pgtest"
	"arbiter/internal/testing/testserver"
	"arbiter/revision"
	"arbiter/store"
)

// call sends method with a raw body to path and decodes the JSON answer.
func call(t *testing.T, s *testserver.Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	_ = dec.Decode(&out)
	return resp.StatusCode, out
}

func validation(t *testing.T, draft map[string]any) map[string]any {
	t.Helper()
	v, ok := draft["validation"].(map[string]any)
	if !ok {
		t.Fatalf("no validation in %v", draft)
	}
	return v
}

// TestDraftFromEditToPublish: a draft adds next year's rate table, a bad value is reported at its file
// and line, a logged decision becomes a case, impact with a one-year shift shows the money moved, and
// publishing makes the server serve it.
func TestDraftFromEditToPublish(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	if err := store.Migrate(ctx, db, demotree.Catalog(t)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	demotree.WriteTo(t, dir)
	srv := testserver.Start(t, testserver.Options{DatabaseURL: db, PolicyDir: dir, RevisionPoll: 200 * time.Millisecond,
		Rows: store.Rows{"demo_accounts": {{"id": "G1", "tier": "gold", "balance": "0"}}}})
	tree, err := revision.Snapshot(demotree.FS(t))
	if err != nil {
		t.Fatal(err)
	}
	revs := revision.NewStore(srv.Postgres.Pool())
	if code, _ := call(t, srv, "POST", "/v1/drafts", ``); code != http.StatusNotFound {
		t.Fatalf("a draft without any published revision: %d, want 404", code)
	}
	_, err = revs.Publish(ctx, tree, revision.Meta{Author: "ana", Message: "first"})
	if err != nil {
		t.Fatal(err)
	}

	// Traffic of 2025, logged.
	var logged []string
	for _, amount := range []string{"1000", "2000.50"} {
		r := srv.Decide(t, "demo.cel_sum", map[string]any{"account_id": "G1", "amount": amount}, "2025-06-01T00:00:00+08:00")
		if r.Status != http.StatusOK {
			t.Fatalf("decide: %s", r.Raw)
		}
		logged = append(logged, r.Body["decision_id"].(string))
	}

	code, d := call(t, srv, "POST", "/v1/drafts", `{"author": "ana"}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, d)
	}
	id := d["id"].(string)
	if d["base"] != json.Number("1") || validation(t, d)["ok"] != true {
		t.Fatalf("a fresh draft: %v", d)
	}

	closed := strings.Replace(string(tree["rules/demo/rates/2025.yaml"]), "valid_from: 2025-01-01T00:00:00+08:00",
		"valid_from: 2025-01-01T00:00:00+08:00\nvalid_to: 2026-01-01T00:00:00+08:00", 1)
	next := "table: demo.rates\nversion: \"2026\"\nvalid_from: 2026-01-01T00:00:00+08:00\ndata:\n  rate: 0.3\n  minimum: \"200.00\"\n"
	if code, d = call(t, srv, "PUT", "/v1/drafts/"+id+"/files/rules/demo/rates/2025.yaml", closed); code != http.StatusOK {
		t.Fatalf("put: %d %v", code, d)
	}
	code, d = call(t, srv, "PUT", "/v1/drafts/"+id+"/files/rules/demo/rates/2026.yaml", next)
	v := validation(t, d)
	probs, _ := v["problems"].([]any)
	if code != http.StatusOK || v["ok"] != false || len(probs) == 0 {
		t.Fatalf("a float rate must be refused: %d %v", code, v)
	}
	p := probs[0].(map[string]any)
	if p["file"] != "rules/demo/rates/2026.yaml" || p["line"] == nil {
		t.Fatalf("the problem must name the file and line: %v", p)
	}
	code, d = call(t, srv, "PUT", "/v1/drafts/"+id+"/files/rules/demo/rates/2026.yaml", strings.Replace(next, "rate: 0.3", `rate: "0.3"`, 1))
	if v := validation(t, d); code != http.StatusOK || v["ok"] != true {
		t.Fatalf("the fixed table: %d %v", code, v)
	}
	if diff := d["diff"].(map[string]any); len(diff["added"].([]any)) != 1 || len(diff["changed"].([]any)) != 1 {
		t.Fatalf("diff = %v", diff)
	}
	if code, d = call(t, srv, "PUT", "/v1/drafts/"+id+"/files/rules/demo/rates/2024.yaml", "x: 1\n"); code != http.StatusOK || len(d["publish_blockers"].([]any)) != 1 {
		t.Fatalf("editing a published version must be a publish blocker: %v", d["publish_blockers"])
	}
	if code, d = call(t, srv, "DELETE", "/v1/drafts/"+id+"/files/rules/demo/rates/2024.yaml", ""); code != http.StatusOK {
		t.Fatalf("delete: %d %v", code, d)
	}
	// Deleting the published 2024 version entirely is allowed, but the cases of 2024 then fail.
	if v := validation(t, d); v["ok"] != false {
		t.Fatalf("removing 2024 should break its cases: %v", v["cases"])
	}
	if code, d = call(t, srv, "PUT", "/v1/drafts/"+id+"/files/rules/demo/rates/2024.yaml", string(tree["rules/demo/rates/2024.yaml"])); code != http.StatusOK || validation(t, d)["ok"] != true {
		t.Fatalf("restoring 2024: %d %v", code, d)
	}

	// A logged decision becomes a case (once the log has written it).
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, d = call(t, srv, "POST", "/v1/drafts/"+id+"/cases", `{"decision_id": "`+logged[0]+`", "name": "DEMO-01 logged 1000 in 2025"}`)
		if code == http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code != http.StatusOK {
		t.Fatalf("case from a logged decision: %d %v", code, d)
	}
	v = validation(t, d)
	found := false
	for _, r := range v["results"].([]any) {
		r := r.(map[string]any)
		if r["name"] == "DEMO-01 logged 1000 in 2025" {
			found = r["passed"] == true
		}
	}
	if !found || v["ok"] != true {
		t.Fatalf("the new case must run and pass: %v", v["cases"])
	}

	// Impact replays what the table holds: wait until the log's writer has stored both decisions.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var n int
		if err := srv.Postgres.Pool().QueryRow(ctx, `SELECT count(*) FROM decision_log WHERE id = ANY($1)`, logged).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == len(logged) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d logged decisions stored", n, len(logged))
		}
	}
	code, rep := call(t, srv, "POST", "/v1/drafts/"+id+"/impact", `{"as_of_shift": "+1y"}`)
	if code != http.StatusOK {
		t.Fatalf("impact: %d %v", code, rep)
	}
	fee := rep["outputs"].(map[string]any)["fee"].(map[string]any)
	if rep["read"] != json.Number("2") || rep["changed"] != json.Number("2") || fee["total_delta"] != "300.05" {
		t.Fatalf("impact with a one-year shift: %v", rep)
	}
	code, rep = call(t, srv, "POST", "/v1/drafts/"+id+"/impact", `{"from": "2030-01-01T00:00:00Z"}`)
	if code != http.StatusOK || rep["read"] != json.Number("0") || rep["warnings"] == nil {
		t.Fatalf("an empty range must warn: %v", rep)
	}

	if code, d = call(t, srv, "POST", "/v1/drafts/"+id+"/publish", `{"message": "2026 rates", "author": "ana"}`); code != http.StatusCreated {
		t.Fatalf("publish: %d %v", code, d)
	}
	if d["parent"] != json.Number("1") || d["seq"] != json.Number("2") {
		t.Fatalf("published = %v", d)
	}
	deadline = time.Now().Add(15 * time.Second)
	for {
		r := srv.Decide(t, "demo.cel_sum", map[string]any{"account_id": "G1", "amount": "1000"}, "2026-06-01T00:00:00+08:00")
		if fee := r.Body["outputs"].(map[string]any)["fee"]; strings.HasPrefix(fmtString(fee), "300") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server never served the published draft: %s", r.Raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _ := call(t, srv, "PUT", "/v1/drafts/"+id+"/files/rules/demo/rates/2027.yaml", "x"); code != http.StatusConflict {
		t.Fatalf("editing a published draft: %d, want 409", code)
	}
}

func fmtString(v any) string {
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}

// TestRevisionRoutesHaveScopes: every revision and draft route names the scope it will need.
func TestRevisionRoutesHaveScopes(t *testing.T) {
	doc := openAPIDoc(t)
	n := 0
	for p, item := range doc["paths"].(map[string]any) {
		if !strings.HasPrefix(p, "/v1/revisions") && !strings.HasPrefix(p, "/v1/drafts") {
			continue
		}
		for method := range item.(map[string]any) {
			n++
			if api.RevisionRouteScopes[strings.ToUpper(method)+" "+p] == "" {
				t.Errorf("%s %s has no scope", method, p)
			}
		}
	}
	if n != len(api.RevisionRouteScopes) {
		t.Errorf("%d documented routes, %d scoped", n, len(api.RevisionRouteScopes))
	}
}
