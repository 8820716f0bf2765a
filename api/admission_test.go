package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"arbiter/api"
	"arbiter/engine"
	"arbiter/internal/testing/demotree"
	"arbiter/store"
)

// gateStore holds every Load until the gate opens, reporting each arrival: evaluations in flight stay
// in flight for as long as the test wants.
type gateStore struct {
	store.Store
	arrived chan struct{}
	gate    chan struct{}
}

func (g *gateStore) Load(ctx context.Context, lookups []store.Lookup) (store.Facts, error) {
	g.arrived <- struct{}{}
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.Store.Load(ctx, lookups)
}

func TestAdmissionRefusesExactlyTheExcess(t *testing.T) {
	for _, tt := range []struct {
		name   string
		limit  int
		excess int
	}{
		{"one slot", 1, 1},
		{"four slots, three over", 4, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			set, err := engine.Load(context.Background(), demotree.FS(t))
			if err != nil {
				t.Fatal(err)
			}
			mem, err := store.NewMemory(demotree.Catalog(t), store.Rows{"demo_accounts": {{"id": "G1", "tier": "gold", "balance": "0.10"}}})
			if err != nil {
				t.Fatal(err)
			}
			gs := &gateStore{Store: mem, arrived: make(chan struct{}, tt.limit+tt.excess), gate: make(chan struct{})}
			reg := prometheus.NewRegistry()
			metrics := api.NewMetrics(reg)
			h := api.New(api.Config{Engine: engine.New(set, gs, engine.WithTimeout(time.Minute)), Metrics: metrics, Gatherer: reg, MaxInFlight: tt.limit})
			decide := func() *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodPost, "/v1/decisions/demo.rego_sum",
					strings.NewReader(`{"input":{"account_id":"G1","amount":"1.00"},"as_of":"2024-06-01T00:00:00+08:00"}`))
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}

			var wg sync.WaitGroup
			admitted := make(chan *httptest.ResponseRecorder, tt.limit)
			for i := 0; i < tt.limit; i++ {
				wg.Add(1)
				go func() { defer wg.Done(); admitted <- decide() }()
			}
			for i := 0; i < tt.limit; i++ {
				<-gs.arrived // every slot is taken by an evaluation waiting on the store
			}
			for i := 0; i < tt.excess; i++ {
				rec := decide()
				if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"code":"overloaded"`) {
					t.Fatalf("excess request %d: %d %s", i, rec.Code, rec.Body)
				}
				if rec.Header().Get("Retry-After") == "" {
					t.Fatalf("excess request %d: no Retry-After", i)
				}
			}
			if got := testutil.ToFloat64(metrics.Overloaded); got != float64(tt.excess) {
				t.Fatalf("arbiter_overload_rejected_total = %v, want %d", got, tt.excess)
			}
			close(gs.gate)
			wg.Wait()
			close(admitted)
			for rec := range admitted {
				if rec.Code != http.StatusOK {
					t.Fatalf("admitted request: %d %s", rec.Code, rec.Body)
				}
			}
			// The slots are free again.
			go func() {
				for range gs.arrived {
				}
			}()
			if rec := decide(); rec.Code != http.StatusOK {
				t.Fatalf("after the burst: %d %s", rec.Code, rec.Body)
			}
			close(gs.arrived)
		})
	}
}

// failingStore fails every Load with err.
type failingStore struct {
	store.Store
	err error
}

func (f failingStore) Load(context.Context, []store.Lookup) (store.Facts, error) { return nil, f.err }

// Pool exhaustion is overload, told apart from an unreachable database.
func TestStoreErrorsAnswer503WithTheirCode(t *testing.T) {
	set, err := engine.Load(context.Background(), demotree.FS(t))
	if err != nil {
		t.Fatal(err)
	}
	mem, err := store.NewMemory(demotree.Catalog(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, code string
		err        error
		retryAfter bool
	}{
		{"pool exhausted", "overloaded", fmt.Errorf("facts: acquire connection: %w", store.ErrOverloaded), true},
		{"database unreachable", "store_unavailable", fmt.Errorf("facts: %w", store.ErrUnavailable), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := api.New(api.Config{Engine: engine.New(set, failingStore{Store: mem, err: tt.err})})
			req := httptest.NewRequest(http.MethodPost, "/v1/decisions/demo.rego_sum",
				strings.NewReader(`{"input":{"account_id":"G1","amount":"1.00"},"as_of":"2024-06-01T00:00:00+08:00"}`))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"code":"`+tt.code+`"`) ||
				(rec.Header().Get("Retry-After") != "") != tt.retryAfter {
				t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
			}
		})
	}
}
