package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"arbiter/internal/testing/pgtest"
	"arbiter/internal/testing/tcpproxy"
	"arbiter/store"
	"arbiter/store/decisionlog"
)

const demoDDL = `CREATE TABLE demo_accounts (id text PRIMARY KEY, tier text NOT NULL DEFAULT 'basic', balance numeric NOT NULL DEFAULT 0);
CREATE TABLE demo_tiers (tier text PRIMARY KEY, discount numeric NOT NULL DEFAULT 0)`

// startDemoPostgres serves the demo policies with facts and the decision log in a fresh database,
// reached through dbURL's host (which may be a proxy the test controls).
func startDemoPostgres(t *testing.T, via func(string) string) (*demoAPI, *store.Postgres) {
	t.Helper()
	ctx := context.Background()
	direct := pgtest.New(t)
	conn, err := pgx.Connect(ctx, direct)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, demoDDL); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	dbURL := direct
	if via != nil {
		dbURL = via(direct)
	}
	pg, err := store.OpenPostgres(ctx, dbURL, demoCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Close)
	if err := pg.Seed(ctx, demoRows); err != nil {
		t.Fatal(err)
	}
	log := decisionlog.NewPostgres(pg.Pool(), decisionlog.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	a := startDemoWith(t, pg, log, pg.Ping)
	return a, pg
}

// TestFactKeyedByAnotherFactInPostgres loads the account, then its tier row keyed by the account's
// tier: two stages, each one batch.
func TestFactKeyedByAnotherFactInPostgres(t *testing.T) {
	a, pg := startDemoPostgres(t, nil)
	if err := pg.Seed(context.Background(), store.Rows{"demo_tiers": {{"tier": "gold", "discount": "0.15"}}}); err != nil {
		t.Fatal(err)
	}
	r := post(t, a.url+"/v1/decisions/demo.tiered", `{"input":{"account_id":"G1"},"as_of":"2025-01-01T00:00:00Z"}`)
	out, _ := r.body["outputs"].(map[string]any)
	if r.status != http.StatusOK || out["discount"] != "0.15" {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	r = post(t, a.url+"/v1/decisions/demo.tiered", `{"input":{"account_id":"B1"},"as_of":"2025-01-01T00:00:00Z"}`)
	if r.status != http.StatusUnprocessableEntity || r.body["code"] != "fact_not_found" {
		t.Fatalf("a basic account has no tier row: %d %s", r.status, r.raw)
	}
}

func TestDecisionLogWriteAndReadBack(t *testing.T) {
	a, _ := startDemoPostgres(t, nil)
	r := post(t, a.url+"/v1/decisions/demo.rego_sum", `{"input":{"account_id":"G1","amount":"129.89"},"as_of":"2024-06-01T00:00:00+08:00"}`)
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	id := r.body["decision_id"].(string)
	var got response
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got = do(t, http.MethodGet, a.url+"/v1/decisions/"+id, "", nil); got.status == http.StatusOK {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got.status != http.StatusOK {
		t.Fatalf("logged decision %s not found: %s", id, got.raw)
	}
	env := got.body["envelope"].(map[string]any)
	input := got.body["input"].(map[string]any)
	recorded := got.body["facts"].(map[string]any)
	account := recorded["account"].(map[string]any)
	if env["decision_id"] != id || got.body["outcome"] != "allow" || input["amount"] != "129.89" || account["balance"] != "0.1" {
		t.Fatalf("read back differs from what was decided: %s", got.raw)
	}
	if missing := do(t, http.MethodGet, a.url+"/v1/decisions/does-not-exist", "", nil); missing.status != http.StatusNotFound || missing.body["code"] != "not_found" {
		t.Fatalf("unknown id: %d %s", missing.status, missing.raw)
	}
}

// TestDatabaseOutageIs503AndRecovers cuts the connection to PostgreSQL through a proxy the test
// controls, then restores it: decisions and /readyz answer 503 store_unavailable meanwhile and
// succeed again afterwards, with no restart.
func TestDatabaseOutageIs503AndRecovers(t *testing.T) {
	var proxy *tcpproxy.Proxy
	a, _ := startDemoPostgres(t, func(direct string) string {
		var via string
		proxy, via = tcpproxy.ForURL(t, direct)
		return via
	})
	decide := func() response {
		return post(t, a.url+"/v1/decisions/demo.cel_sum", `{"input":{"account_id":"G1","amount":"1"},"as_of":"2025-02-01T00:00:00+08:00"}`)
	}
	if r := decide(); r.status != http.StatusOK {
		t.Fatalf("before the outage: %d %s", r.status, r.raw)
	}
	proxy.Kill()
	var r response
	for i := 0; i < 3; i++ { // a pooled connection may fail first, then dialing fails
		r = decide()
	}
	if r.status != http.StatusServiceUnavailable || r.body["code"] != "store_unavailable" {
		t.Fatalf("during the outage: %d %s", r.status, r.raw)
	}
	if ready := do(t, http.MethodGet, a.url+"/readyz", "", nil); ready.status != http.StatusServiceUnavailable || ready.body["code"] != "store_unavailable" {
		t.Fatalf("readyz during the outage: %d %s", ready.status, ready.raw)
	}
	proxy.Restore()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if r = decide(); r.status == http.StatusOK {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.status != http.StatusOK {
		t.Fatalf("no recovery after the database returned: %d %s", r.status, r.raw)
	}
	if ready := do(t, http.MethodGet, a.url+"/readyz", "", nil); ready.status != http.StatusOK {
		t.Fatalf("readyz after recovery: %d %s", ready.status, ready.raw)
	}
}
