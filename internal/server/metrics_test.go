package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"arbiter/internal/testing/testserver"
)

// TestMetricsCoverEveryRequest: errors are counted with their status and decision next to successes,
// and the scrape carries the build and the connection pool.
func TestMetricsCoverEveryRequest(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Fixtures: true})
	testserver.Post(t, srv.Client, srv.URL, "/v1/decisions/coupon.applicability", map[string]any{"input": map[string]any{"coupon_id": "K1"}})
	testserver.Post(t, srv.Client, srv.URL, "/v1/decisions/no.such.decision", map[string]any{"input": map[string]any{}})
	testserver.Get(t, srv.Client, srv.URL, "/nowhere")
	resp, err := srv.Client.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(raw)
	for _, want := range []string{
		`arbiter_http_request_duration_seconds_count{decision="coupon.applicability",method="POST",route="/v1/decisions/{decision}",status="422"} 1`,
		`arbiter_http_request_duration_seconds_count{decision="unknown",method="POST",route="/v1/decisions/{decision}",status="404"} 1`,
		`arbiter_http_request_duration_seconds_count{decision="",method="GET",route="unmatched",status="404"} 1`,
		`arbiter_build_info{commit="`,
		`arbiter_db_pool_max_connections `,
		`arbiter_db_pool_acquires_total `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, "arbiter_http") && strings.Contains(l, "_count") {
				t.Log(l)
			}
		}
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
}
