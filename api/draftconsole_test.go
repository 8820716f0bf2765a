package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"arbiter/internal/testing/demotree"
	"arbiter/internal/testing/pgtest"
	"arbiter/internal/testing/testserver"
	"arbiter/revision"
	"arbiter/store"
)

// TestDraftTablesDiffsAndRollback drives the routes the console's draft pages use: a new version
// copies the latest one and closes its window, the table reads back as JSON, a bad cell is reported
// at its path, a published version is refused, the diff shows the lines, and a rollback republishes an
// earlier tree.
func TestDraftTablesDiffsAndRollback(t *testing.T) {
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
	_, err = revs.Publish(ctx, tree, revision.Meta{Author: "ana", Message: "first"})
	if err != nil {
		t.Fatal(err)
	}
	code, d := call(t, srv, "POST", "/v1/drafts", ``)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, d)
	}
	id := d["id"].(string)
	if d["author"] != "testserver" {
		t.Errorf("a draft without an author is the caller's: %v", d["author"])
	}

	bad := []struct {
		name, body, field string
	}{
		{name: "no version", body: `{"table": "demo.rates", "valid_from": "2026-01-01T00:00:00+08:00"}`, field: "version"},
		{name: "a date without an offset", body: `{"table": "demo.rates", "version": "2026", "valid_from": "2026-01-01"}`, field: "valid_from"},
		{name: "no target", body: `{"version": "2026", "valid_from": "2026-01-01T00:00:00+08:00"}`, field: "target"},
		{name: "not after the latest", body: `{"table": "demo.rates", "version": "2026", "valid_from": "2024-06-01T00:00:00+08:00"}`, field: "version"},
		{name: "a window ending before it starts", body: `{"table": "demo.rates", "version": "2026", "valid_from": "2026-01-01T00:00:00+08:00", "valid_to": "2025-01-01T00:00:00+08:00"}`, field: "valid_to"},
		{name: "an unknown table", body: `{"table": "demo.nope", "version": "2026", "valid_from": "2026-01-01T00:00:00+08:00"}`, field: "version"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			code, p := call(t, srv, "POST", "/v1/drafts/"+id+"/versions", tt.body)
			if code != http.StatusUnprocessableEntity || !strings.Contains(fmtString(p["errors"]), `"field":"`+tt.field+`"`) {
				t.Errorf("%d %v, want 422 naming %s", code, p, tt.field)
			}
		})
	}

	code, d = call(t, srv, "POST", "/v1/drafts/"+id+"/versions", `{"table": "demo.rates", "version": "2026", "valid_from": "2026-01-01T00:00:00+08:00", "valid_to": "2027-01-01T00:00:00+08:00"}`)
	if code != http.StatusOK {
		t.Fatalf("new version: %d %v", code, d)
	}
	if ch := d["changes"].(map[string]any); ch["rules/demo/rates/2026.yaml"] != "put" || ch["rules/demo/rates/2025.yaml"] != "put" {
		t.Fatalf("the new version and the closed window: %v", ch)
	}
	if v := validation(t, d); v["ok"] != true || len(d["publish_blockers"].([]any)) != 0 {
		t.Fatalf("closing the window is no edit of a published version: %v %v", v, d["publish_blockers"])
	}

	code, tbl := call(t, srv, "GET", "/v1/drafts/"+id+"/tables/demo.rates", "")
	if code != http.StatusOK {
		t.Fatalf("table: %d %v", code, tbl)
	}
	status := map[string]string{}
	for _, v := range tbl["versions"].([]any) {
		v := v.(map[string]any)
		status[v["version"].(string)] = v["status"].(string)
		if v["version"] == "2025" && v["valid_to"] != "2026-01-01T00:00:00+08:00" {
			t.Errorf("2025 window not closed: %v", v)
		}
		if v["version"] == "2026" && (v["valid_to"] != "2027-01-01T00:00:00+08:00" || v["data"].(map[string]any)["rate"] != "0.2") {
			t.Errorf("2026 is a copy of 2025 with the window asked for: %v", v)
		}
	}
	if status["2024"] != "published" || status["2025"] != "changed" || status["2026"] != "added" {
		t.Errorf("statuses %v", status)
	}
	if props := tbl["schema"].(map[string]any)["properties"].(map[string]any); props["rate"] == nil {
		t.Errorf("schema %v", tbl["schema"])
	}

	put := func(version, body string) (int, map[string]any) {
		return call(t, srv, "PUT", "/v1/drafts/"+id+"/tables/demo.rates/versions/"+version, body)
	}
	code, d = put("2026", `{"data": {"rate": "30%", "minimum": "200.00"}}`)
	probs, _ := validation(t, d)["problems"].([]any)
	if code != http.StatusOK || len(probs) != 1 || !strings.HasPrefix(probs[0].(map[string]any)["message"].(string), "data.rate ") {
		t.Fatalf("a bad rate must be a problem at data.rate: %d %v", code, probs)
	}
	code, d = put("2026", `{"data": {"rate": 0.3, "minimum": "200.00"}}`)
	probs, _ = validation(t, d)["problems"].([]any)
	if code != http.StatusOK || len(probs) != 1 || !strings.HasPrefix(probs[0].(map[string]any)["message"].(string), "data.rate: write decimals as quoted strings") {
		t.Fatalf("a float rate must be a problem at data.rate: %d %v", code, probs)
	}
	code, d = put("2026", `{"data": {"rate": "0.3", "minimum": "200.00"}, "description": "rates from 2026 on"}`)
	if code != http.StatusOK || validation(t, d)["ok"] != true {
		t.Fatalf("the fixed table: %d %v", code, d)
	}
	for _, tt := range []struct {
		name, version, body string
		status              int
	}{
		{name: "a published version", version: "2024", body: `{"data": {"rate": "0.5", "minimum": "1.00"}}`, status: http.StatusConflict},
		{name: "a version not in the draft", version: "2030", body: `{"data": {"rate": "0.5", "minimum": "1.00"}}`, status: http.StatusNotFound},
		{name: "no data", version: "2026", body: `{}`, status: http.StatusUnprocessableEntity},
		{name: "data not an object", version: "2026", body: `{"data": [1]}`, status: http.StatusUnprocessableEntity},
		{name: "an unknown field", version: "2026", body: `{"data": {}, "x": 1}`, status: http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if code, p := put(tt.version, tt.body); code != tt.status {
				t.Errorf("%d %v, want %d", code, p, tt.status)
			}
		})
	}

	code, file := call(t, srv, "GET", "/v1/drafts/"+id+"/files/rules/demo/rates/2026.yaml", "")
	if code != http.StatusOK || file["status"] != "added" || !strings.Contains(fmtString(file["content"]), `rate: \"0.3\"`) {
		t.Fatalf("a draft file: %d %v", code, file)
	}
	if code, _ := call(t, srv, "GET", "/v1/drafts/"+id+"/files/rules/demo/rates/2030.yaml", ""); code != http.StatusNotFound {
		t.Errorf("a file not in the draft: %d", code)
	}
	// Keys keep the order the schema and the file write them (rate before minimum), not sorted.
	raw := testserver.Get(t, srv.Client, srv.URL, "/v1/drafts/"+id+"/tables/demo.rates").Raw
	if !regexp.MustCompile(`"properties":\{"rate":.*"minimum":`).Match(raw) || !regexp.MustCompile(`"data":\{"rate":"0.3","minimum":"200.00"\}`).Match(raw) {
		t.Errorf("the table's keys are not in the file's order: %s", raw)
	}
	code, diff := call(t, srv, "GET", "/v1/drafts/"+id+"/diff", "")
	if code != http.StatusOK {
		t.Fatalf("diff: %d %v", code, diff)
	}
	got := fmtString(diff["files"])
	for _, want := range []string{`"path":"rules/demo/rates/2025.yaml","status":"changed"`, `{"op":"+","text":"valid_to: 2026-01-01T00:00:00+08:00"}`,
		`"path":"rules/demo/rates/2026.yaml","status":"added"`, `{"op":"+","text":"  rate: \"0.3\""}`, `{"op":"+","text":"description: rates from 2026 on"}`} {
		if !strings.Contains(got, want) {
			t.Errorf("the diff lacks %s: %s", want, got)
		}
	}
	code, list := call(t, srv, "GET", "/v1/drafts", "")
	if code != http.StatusOK || !strings.Contains(fmtString(list), `"paths":["rules/demo/rates/2025.yaml","rules/demo/rates/2026.yaml"]`) {
		t.Fatalf("drafts: %d %v", code, list)
	}

	code, r2 := call(t, srv, "POST", "/v1/drafts/"+id+"/publish", `{"message": "2026 rates"}`)
	if code != http.StatusCreated {
		t.Fatalf("publish: %d %v", code, r2)
	}
	code, rd := call(t, srv, "GET", "/v1/revisions/r2/diff", "")
	if code != http.StatusOK || !strings.Contains(fmtString(rd["files"]), `"path":"rules/demo/rates/2026.yaml","status":"added"`) || rd["parent"] != json.Number("1") {
		t.Fatalf("revision diff: %d %v", code, rd)
	}
	code, r3 := call(t, srv, "POST", "/v1/revisions/r1/rollback", `{"message": "back to the 2025 rates"}`)
	if code != http.StatusCreated || r3["restored_from"] != json.Number("1") || r3["message"] != "back to the 2025 rates" || r3["author"] != "testserver" {
		t.Fatalf("rollback: %d %v", code, r3)
	}
	if code, _ := call(t, srv, "POST", "/v1/revisions/r9/rollback", `{}`); code != http.StatusNotFound {
		t.Errorf("rollback to a missing revision: %d", code)
	}
	if code, _ := call(t, srv, "POST", "/v1/revisions/r1/rollback", `{}`); code != http.StatusConflict {
		t.Errorf("rolling back to the tree already served: %d, want 409", code)
	}
	if code, rd := call(t, srv, "GET", "/v1/revisions/"+r3["seq"].(json.Number).String()+"/diff", ""); code != http.StatusOK ||
		!strings.Contains(fmtString(rd["files"]), `"path":"rules/demo/rates/2026.yaml","status":"removed"`) {
		t.Fatalf("the rollback's diff: %d %v", code, rd)
	}
}
