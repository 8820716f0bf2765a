package loadtest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"arbiter/internal/loadtest"
)

func TestRunSendsExactlyRateTimesDuration(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1)%10 == 0 {
			w.WriteHeader(http.StatusTeapot)
		}
	}))
	defer srv.Close()
	res := loadtest.Run(context.Background(), loadtest.Client(), loadtest.Target{URL: srv.URL, Bodies: [][]byte{[]byte(`{}`)}}, 200, 500*time.Millisecond)
	if res.Sent != 100 || hits.Load() != 100 {
		t.Fatalf("sent %d, server saw %d, want 100", res.Sent, hits.Load())
	}
	if res.OK != 90 || res.Failed != 10 || res.Statuses[http.StatusTeapot] != 10 {
		t.Fatalf("ok %d failed %d statuses %v", res.OK, res.Failed, res.Statuses)
	}
	if res.Percentile(50) > res.Percentile(99) || res.Percentile(99) > res.Percentile(100) {
		t.Fatalf("percentiles out of order: %s", res)
	}
}
