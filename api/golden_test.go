package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"arbiter/internal/testing/testserver"
)

var update = flag.Bool("update", false, "rewrite api/testdata/golden/ from the server's answers")

// varies stands in a golden answer for a field whose value differs from run to run.
const varies = "(varies)"

// sampleRequest is one request body on file and the golden answer it is compared with.
type sampleRequest struct {
	name     string // the golden's path under testdata/golden, without .json
	decision string
	file     string
	raw      []byte
}

// sampleRequestFiles lists fixtures/requests/<decision>.json (the sample of each decision, golden
// <decision>.json) and testdata/requests/<decision>/<case>.json (further requests of a decision:
// other answers, bad input; golden <decision>/<case>.json).
func sampleRequestFiles(t testing.TB) []sampleRequest {
	t.Helper()
	var out []sampleRequest
	samples, err := filepath.Glob(filepath.Join("..", "fixtures", "requests", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range samples {
		d := strings.TrimSuffix(filepath.Base(f), ".json")
		out = append(out, sampleRequest{name: d, decision: d, file: f})
	}
	more, err := filepath.Glob(filepath.Join("testdata", "requests", "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range more {
		d := filepath.Base(filepath.Dir(f))
		out = append(out, sampleRequest{name: d + "/" + strings.TrimSuffix(filepath.Base(f), ".json"), decision: d, file: f})
	}
	for i := range out {
		if out[i].raw, err = os.ReadFile(out[i].file); err != nil {
			t.Fatal(err)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// TestSampleRequests posts every request on file to the real server over PostgreSQL seeded with
// fixtures/, checks each answer (envelope or problem) against openapi.yaml, and compares it with its
// golden under testdata/golden.
// The ledger is emptied before each request, so commit decisions answer as on a fresh database; a
// commit that was allowed is sent again and must replay the same answer.
// Rewrite the goldens with: go test ./api -run TestSampleRequests -update
func TestSampleRequests(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Fixtures: true})
	set := srv.Service.Engine.PolicySet()
	requests := sampleRequestFiles(t)
	commits := map[string]bool{}
	for _, d := range set.Decisions() {
		for _, v := range d.Versions {
			commits[d.Decision] = commits[d.Decision] || v.Commit
		}
		if _, err := os.Stat(filepath.Join("..", "fixtures", "requests", d.Decision+".json")); err != nil {
			t.Errorf("decision %s has no sample request fixtures/requests/%s.json", d.Decision, d.Decision)
		}
	}
	schemas := openAPISchemas(t)
	envelopeSchema, problemSchema := schemas("Decision"), schemas("Problem")
	ctx := context.Background()
	seen := map[string]bool{}
	for _, rq := range requests {
		seen[rq.name+".json"] = true
		t.Run(rq.name, func(t *testing.T) {
			if _, err := srv.Postgres.Pool().Exec(ctx, "DELETE FROM ledger_entries; DELETE FROM commits"); err != nil {
				t.Fatal(err)
			}
			resp := testserver.PostRaw(t, srv.Client, srv.URL, "/v1/decisions/"+rq.decision, rq.raw)
			got := goldenText(t, rq, resp)
			schema := envelopeSchema
			if resp.Status != http.StatusOK {
				schema = problemSchema
			}
			if inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(resp.Raw)); err != nil {
				t.Fatal(err)
			} else if err := schema.Validate(inst); err != nil {
				t.Errorf("answer does not match openapi.yaml: %v", err)
			}
			golden := filepath.Join("testdata", "golden", filepath.FromSlash(rq.name)+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("no golden answer (run with -update to write it): %v", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("answer differs from %s (run with -update if the change is intended):\n%s", golden, lineDiff(want, got))
				}
			}
			switch {
			case resp.Status != http.StatusOK:
				var n int
				if err := srv.Postgres.Pool().QueryRow(ctx, "SELECT count(*) FROM ledger_entries").Scan(&n); err != nil || n != 0 {
					t.Errorf("a refused request left %d ledger entries (%v)", n, err)
				}
			case commits[rq.decision] && resp.Body["outcome"] == "allow":
				checkReplay(t, srv, rq, resp)
			}
		})
	}
	if !*update && !t.Failed() {
		// A golden whose request was removed or renamed would otherwise linger unchecked.
		_ = filepath.Walk(filepath.Join("testdata", "golden"), func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(filepath.Join("testdata", "golden"), p)
			if !seen[filepath.ToSlash(rel)] {
				t.Errorf("%s has no request", p)
			}
			return nil
		})
	}
}

// checkReplay sends a committed request again: the answer is the stored one, replayed.
func checkReplay(t *testing.T, srv *testserver.Server, rq sampleRequest, first testserver.Response) {
	t.Helper()
	again := testserver.PostRaw(t, srv.Client, srv.URL, "/v1/decisions/"+rq.decision, rq.raw)
	if again.Status != http.StatusOK || again.Body["decision_id"] != first.Body["decision_id"] {
		t.Fatalf("retry: HTTP %d decision %v, want 200 and the original decision %v\n%s", again.Status, again.Body["decision_id"], first.Body["decision_id"], again.Raw)
	}
	commit, _ := again.Body["commit"].(map[string]any)
	if commit == nil || commit["replayed"] != true {
		t.Fatalf("retry commit %v, want replayed", again.Body["commit"])
	}
	commit["replayed"] = false
	if a, b := goldenText(t, rq, first), goldenText(t, rq, again); !bytes.Equal(a, b) {
		t.Errorf("the replayed answer differs from the original:\n%s", lineDiff(a, b))
	}
}

// goldenText checks the answer's status and media type agree with its body and renders the body
// as indented JSON, with the fields that legitimately vary per run replaced by a placeholder.
func goldenText(t *testing.T, rq sampleRequest, r testserver.Response) []byte {
	t.Helper()
	if r.Body == nil {
		t.Fatalf("HTTP %d, body is not a JSON object: %s", r.Status, r.Raw)
	}
	body := map[string]any{}
	for k, v := range r.Body {
		body[k] = v
	}
	wantType := "application/problem+json"
	if r.Status == http.StatusOK {
		wantType = "application/json"
	}
	if mt, _, _ := strings.Cut(r.ContentType, ";"); mt != wantType {
		t.Errorf("HTTP %d with Content-Type %q, want %s", r.Status, r.ContentType, wantType)
	}
	if r.Status == http.StatusOK {
		if body["decision_id"] == nil || body["decision_id"] == "" {
			t.Fatalf("envelope without a decision_id: %s", r.Raw)
		}
		body["decision_id"] = varies
		// The revision digests the whole tree: any policy anywhere changes it. The policy and table
		// digests stay compared: they change only with the files that decided.
		if body["revision"] == nil || body["revision"] == "" {
			t.Fatalf("envelope without a revision: %s", r.Raw)
		}
		body["revision"] = varies
		var req struct {
			AsOf *string `json:"as_of"`
		}
		if err := json.Unmarshal(rq.raw, &req); err != nil {
			t.Fatalf("%s: %v", rq.file, err)
		}
		if req.AsOf == nil {
			body["as_of"] = varies // the server's clock
		}
	} else if fmt.Sprint(body["status"]) != fmt.Sprint(r.Status) || body["code"] == nil {
		t.Fatalf("HTTP %d answered a body that is not its problem: %s", r.Status, r.Raw)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(body); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// lineDiff lists the lines of want and got that differ, by line number.
func lineDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 40; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d\n  want %s\n  got  %s\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}
