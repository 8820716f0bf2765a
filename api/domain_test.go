package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"arbiter/store"
)

// race runs n calls at once, released together so they contend, and returns their results in order.
func race[T any](n int, do func(i int) T) []T {
	out := make([]T, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = do(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// reply is what one decision request answered: the outcome and first reason code on 200, the
// problem's code and fields otherwise.
type reply struct {
	status     int
	outcome    string
	code       string
	decisionID string
	replayed   bool
	fields     []string
	raw        []byte
	err        error
}

// decide posts {input, as_of} to a decision; it is safe to call from any goroutine.
func decide(client *http.Client, baseURL, decision string, input any, asOf string) reply {
	raw, err := json.Marshal(map[string]any{"input": input, "as_of": asOf})
	if err != nil {
		return reply{err: err, code: err.Error()}
	}
	resp, err := client.Post(baseURL+"/v1/decisions/"+decision, "application/json", bytes.NewReader(raw))
	if err != nil {
		return reply{err: err, code: err.Error()}
	}
	defer resp.Body.Close()
	a := reply{status: resp.StatusCode}
	a.raw, _ = io.ReadAll(resp.Body)
	var body struct {
		Outcome    string `json:"outcome"`
		Code       string `json:"code"`
		DecisionID string `json:"decision_id"`
		Reasons    []struct {
			Code string `json:"code"`
		} `json:"reasons"`
		Commit *struct {
			Replayed bool `json:"replayed"`
		} `json:"commit"`
		Errors []struct {
			Field string `json:"field"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(a.raw, &body); err != nil {
		a.err, a.code = err, err.Error()
		return a
	}
	a.outcome, a.code, a.decisionID = body.Outcome, body.Code, body.DecisionID
	if len(body.Reasons) > 0 {
		a.code = body.Reasons[0].Code
	}
	if body.Commit != nil {
		a.replayed = body.Commit.Replayed
	}
	if a.status != http.StatusOK && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		a.code = "not problem+json: " + a.code
	}
	for _, e := range body.Errors {
		a.fields = append(a.fields, e.Field)
	}
	return a
}

// expectProblem checks a request is refused with 422 problem+json of code, naming field.
func expectProblem(t *testing.T, client *http.Client, baseURL, decision string, input any, asOf, code, field string) {
	t.Helper()
	a := decide(client, baseURL, decision, input, asOf)
	if a.status != http.StatusUnprocessableEntity || a.code != code || !slices.Contains(a.fields, field) {
		t.Fatalf("HTTP %d %s %v, want 422 problem+json %s naming %s\n%s", a.status, a.code, a.fields, code, field, a.raw)
	}
}

// yamlRows parses rows written as fixture YAML against the embedded catalog, applying its defaults.
func yamlRows(t testing.TB, doc string) store.Rows {
	t.Helper()
	cat, err := store.LoadCatalog(os.DirFS("../facts"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := store.ParseRows(cat, t.Name(), []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
