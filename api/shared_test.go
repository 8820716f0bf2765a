package api_test

// Helpers of the tests of the shipped policies over PostgreSQL (testserver); helpers_test.go holds
// those of the demo tree.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"

	"arbiter/internal/testing/testserver"
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
	label      string // what the request was, for messages
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
	a := reply{label: fmt.Sprint(decision, " ", input)}
	raw, err := json.Marshal(map[string]any{"input": input, "as_of": asOf})
	if err != nil {
		a.err, a.code = err, err.Error()
		return a
	}
	resp, err := client.Post(baseURL+"/v1/decisions/"+decision, "application/json", bytes.NewReader(raw))
	if err != nil {
		a.err, a.code = err, err.Error()
		return a
	}
	defer resp.Body.Close()
	a.status = resp.StatusCode
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

// allowed checks every reply is an HTTP 200 allow or a deny with loserCode and returns the allowed ones.
func allowed(t *testing.T, rs []reply, loserCode string) []reply {
	t.Helper()
	var winners []reply
	for _, r := range rs {
		switch {
		case r.err != nil || r.status != http.StatusOK:
			t.Errorf("%s: HTTP %d %s %v", r.label, r.status, r.code, r.err)
		case r.outcome == "allow":
			winners = append(winners, r)
		case r.outcome != "deny" || r.code != loserCode:
			t.Errorf("%s: %s %s, want allow or deny %s", r.label, r.outcome, r.code, loserCode)
		}
	}
	return winners
}

// envelope is the part of a decision envelope the domain tests read.
type envelope struct {
	Decision string `json:"decision"`
	Policy   struct {
		Version string `json:"version"`
		Digest  string `json:"digest"`
	} `json:"policy"`
	Tables []struct {
		Table   string `json:"table"`
		Version string `json:"version"`
	} `json:"tables"`
	Outcome string `json:"outcome"`
	Reasons []struct {
		Code string `json:"code"`
		Rule string `json:"rule"`
	} `json:"reasons"`
	Outputs map[string]json.RawMessage `json:"outputs"`
}

// decodeEnvelope fails the test unless r is an HTTP 200 envelope.
func decodeEnvelope(t *testing.T, r testserver.Response) envelope {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.Status, r.Raw)
	}
	var e envelope
	if err := json.Unmarshal(r.Raw, &e); err != nil {
		t.Fatalf("decode %s: %v", r.Raw, err)
	}
	return e
}

// text returns an output as its exact JSON text, so "15.83657640" and "15.8365764" differ.
func (e envelope) text(name string) string { return string(e.Outputs[name]) }

// get returns key of the object output name as text ("" when absent).
func (e envelope) get(output, key string) string {
	dec := json.NewDecoder(bytes.NewReader(e.Outputs[output]))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m[key] == nil {
		return ""
	}
	return fmt.Sprint(m[key])
}

// codes lists the reason codes in order.
func (e envelope) codes() []string {
	var out []string
	for _, r := range e.Reasons {
		out = append(out, r.Code)
	}
	return out
}

// table returns the version of rule table id the decision used.
func (e envelope) table(id string) string {
	for _, t := range e.Tables {
		if t.Table == id {
			return t.Version
		}
	}
	return ""
}

// yamlRows parses rows written as fixture YAML against the shipped catalog, applying its defaults.
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

// canonical gives rows built in Go the catalog's defaults and canonical values, as fixtures get them.
func canonical(t testing.TB, rows store.Rows) store.Rows {
	t.Helper()
	raw, err := yaml.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	return yamlRows(t, string(raw))
}

// ledgerEntry is one row of the ledger.
type ledgerEntry struct {
	decision, key string
	amount        decimal.Decimal
}

// readLedger returns every ledger row of the database.
func readLedger(t *testing.T, databaseURL string) []ledgerEntry {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rs, err := conn.Query(ctx, `SELECT decision_id, key, amount::text FROM ledger_entries ORDER BY decision_id, key, amount`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rs, func(r pgx.CollectableRow) (ledgerEntry, error) {
		var e ledgerEntry
		var amount string
		if err := r.Scan(&e.decision, &e.key, &amount); err != nil {
			return e, err
		}
		e.amount, err = decimal.NewFromString(amount)
		return e, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ledgerLines renders entries as sorted "key=amount" lines, amounts without trailing zeros.
func ledgerLines(entries []ledgerEntry) []string {
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.key+"="+e.amount.String())
	}
	sort.Strings(out)
	return out
}

// ledgerSums sums entries by key ("key=sum" lines, sorted) and counts the entries of each key.
func ledgerSums(entries []ledgerEntry) (sums []string, count map[string]int) {
	total := map[string]decimal.Decimal{}
	count = map[string]int{}
	for _, e := range entries {
		total[e.key] = total[e.key].Add(e.amount)
		count[e.key]++
	}
	for k, v := range total {
		sums = append(sums, k+"="+v.String())
	}
	sort.Strings(sums)
	return sums, count
}

// ledgerByDecision groups entries by decision id as "key=amount" lines.
func ledgerByDecision(entries []ledgerEntry) map[string][]string {
	out := map[string][]string{}
	for _, e := range entries {
		out[e.decision] = append(out[e.decision], e.key+"="+e.amount.String())
	}
	return out
}

// queryInt returns the single integer query answers on databaseURL.
func queryInt(t *testing.T, databaseURL, query string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// sameLines compares two line lists regardless of order.
func sameLines(got, want []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)))
}

// startReplicas seeds a fresh database with rows and serves it from two `arbiter serve` processes.
func startReplicas(t *testing.T, rows store.Rows) (databaseURL string, urls []string, client *http.Client) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and starts two arbiter processes")
	}
	db := testserver.Start(t, testserver.Options{Rows: rows}) // creates, migrates and seeds the database
	a, b := testserver.StartProcess(t, db.DatabaseURL), testserver.StartProcess(t, db.DatabaseURL)
	return db.DatabaseURL, []string{a.URL, b.URL}, &http.Client{Timeout: 30 * time.Second}
}
