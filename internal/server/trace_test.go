package server_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"arbiter/internal/testing/testserver"
)

// TestTracesOfADecisionAndACommit: with a tracer provider installed, one read decision and one commit
// over PostgreSQL each give a tree of spans under the HTTP server span: the decision, its fact loads
// (with their pgx batches), the evaluation and, for the commit, the commit transaction and its queries.
func TestTracesOfADecisionAndACommit(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer func() { _ = tp.Shutdown(t.Context()) }()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	srv := testserver.Start(t, testserver.Options{Fixtures: true})

	for _, tt := range []struct {
		name     string
		decision string
		want     []string // span names under the HTTP span, each at least once
	}{
		{name: "read decision", decision: "coupon.applicability",
			want: []string{"arbiter.decide", "arbiter.facts.load", "pg.batch", "arbiter.evaluate"}},
		{name: "commit", decision: "coupon.redeem",
			want: []string{"arbiter.decide", "arbiter.commit", "pg.query", "arbiter.facts.load", "pg.batch", "arbiter.evaluate"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			exp.Reset()
			body, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "requests", tt.decision+".json"))
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/decisions/"+tt.decision, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			// A caller's trace continues: the server span is a child of this traceparent.
			req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
			resp, err := srv.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("HTTP %d", resp.StatusCode)
			}
			spans := exp.GetSpans()
			byID := map[string]tracetest.SpanStub{}
			var root *tracetest.SpanStub
			for i, s := range spans {
				byID[s.SpanContext.SpanID().String()] = s
				if s.Name == "POST /v1/decisions/{decision}" {
					root = &spans[i]
				}
			}
			if root == nil {
				t.Fatalf("no HTTP server span among %v", names(spans))
			}
			if got := root.SpanContext.TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
				t.Errorf("trace id %s, want the caller's", got)
			}
			under := map[string]int{}
			for _, s := range spans {
				if s.SpanContext.TraceID() != root.SpanContext.TraceID() || s.Name == root.Name {
					continue
				}
				// Every span descends from the HTTP span.
				p, ok := s, true
				for ok && p.Parent.SpanID() != root.SpanContext.SpanID() {
					p, ok = byID[p.Parent.SpanID().String()]
				}
				if !ok {
					t.Errorf("span %s does not descend from the HTTP span", s.Name)
				}
				under[s.Name]++
			}
			for _, w := range tt.want {
				if under[w] == 0 {
					t.Errorf("no %s span; spans: %v", w, names(spans))
				}
			}
			for _, s := range spans {
				if s.Name == "arbiter.decide" {
					var attrs []string
					for _, a := range s.Attributes {
						attrs = append(attrs, string(a.Key)+"="+a.Value.Emit())
					}
					if !strings.Contains(strings.Join(attrs, " "), "arbiter.decision="+tt.decision) || !strings.Contains(strings.Join(attrs, " "), "arbiter.outcome=") {
						t.Errorf("decide span attributes %v", attrs)
					}
				}
			}
		})
	}
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}
