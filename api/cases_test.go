package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"arbiter"
	"arbiter/casetest"
	"arbiter/engine"
	"arbiter/internal/testing/testserver"
	"arbiter/store"
)

// TestCatalogCasesOverHTTPWithPostgres runs every tests.yaml case of the shipped bundle through the
// real HTTP API with its facts in PostgreSQL: each case's rows replace the database's, then the
// decision is requested over HTTP and the answer checked like `arbiter test` checks it in memory.
func TestCatalogCasesOverHTTPWithPostgres(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	set := srv.Service.Engine.PolicySet()
	cases, err := casetest.Load(arbiter.Bundle(), set)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("the bundle has no cases")
	}
	ctx := context.Background()
	// Only the tables the previous case wrote are cleared: a TRUNCATE of every table per case
	// would cost more than all the decisions together.
	dirty := map[string]bool{"ledger_entries": true, "commits": true}
	for _, tc := range cases {
		t.Run(tc.File+"/"+tc.Name, func(t *testing.T) {
			if err := resetTables(ctx, srv, dirty, tc.Rows); err != nil {
				t.Fatalf("load rows: %v", err)
			}
			if tc.Tables != nil {
				// Rule-table overrides cannot be sent over HTTP; run in-process against the same database.
				if r := casetest.RunWith(ctx, set, tc, srv.Postgres); !r.Passed() {
					t.Fatalf("%s:%d: %v", tc.File, tc.Line, r.Failures)
				}
				return
			}
			body := map[string]any{"input": tc.Input, "as_of": tc.AsOf.Format(time.RFC3339Nano), "version": tc.Version}
			if tc.DryRun {
				body["dry_run"] = true
			}
			resp := testserver.Post(t, srv.Client, srv.URL, "/v1/decisions/"+tc.Decision, body)
			d, err := answer(resp)
			if failures := tc.Check(d, err); len(failures) > 0 {
				t.Fatalf("%s:%d: %v\n%s", tc.File, tc.Line, failures, resp.Raw)
			}
		})
	}
}

// resetTables deletes every row of the dirty tables, loads rows, and marks their tables dirty.
func resetTables(ctx context.Context, srv *testserver.Server, dirty map[string]bool, rows store.Rows) error {
	var stmts []string
	for table := range dirty {
		if _, given := rows[table]; !given {
			stmts = append(stmts, "DELETE FROM "+pgx.Identifier{table}.Sanitize())
		}
	}
	sort.Strings(stmts)
	if len(stmts) > 0 {
		if _, err := srv.Postgres.Pool().Exec(ctx, strings.Join(stmts, "; ")); err != nil {
			return err
		}
	}
	if err := srv.Postgres.Seed(ctx, rows); err != nil {
		return err
	}
	for table := range rows {
		dirty[table] = true
	}
	return nil
}

// answer turns an HTTP response into what Engine.Decide would have returned.
func answer(r testserver.Response) (*engine.Decision, error) {
	if r.Status != http.StatusOK {
		e := &engine.Error{Code: engine.Code(str(r.Body["code"])), Message: str(r.Body["detail"])}
		if list, ok := r.Body["errors"].([]any); ok {
			for _, it := range list {
				m, _ := it.(map[string]any)
				e.Fields = append(e.Fields, engine.FieldError{Field: str(m["field"]), Message: str(m["message"])})
			}
		}
		return nil, e
	}
	var d engine.Decision
	if err := json.Unmarshal(r.Raw, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
