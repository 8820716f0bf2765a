package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

var tracer = otel.Tracer("arbiter/api")

// observe gives every request, errors included, a server span (continuing a W3C traceparent) and an
// observation in arbiter_http_request_duration_seconds by route, method, status and decision.
func (s *server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx := otel.GetTextMapPropagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, sp := tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path)))
		defer sp.End()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r.WithContext(ctx))
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		route, decision := "unmatched", ""
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
			if route == "/v1/decisions/{decision}" && r.Method == http.MethodPost {
				decision = s.decisionLabel(rc.URLParam("decision"))
			}
		}
		s.cfg.Metrics.Requests.WithLabelValues(route, r.Method, strconv.Itoa(status), decision).Observe(time.Since(start).Seconds())
		if sp.IsRecording() {
			sp.SetName(r.Method + " " + route)
			sp.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", status))
			if decision != "" {
				sp.SetAttributes(attribute.String("arbiter.decision", decision))
			}
			if status >= 500 {
				sp.SetStatus(codes.Error, http.StatusText(status))
			}
		}
	})
}

// decisionLabel keeps the metric's label set bounded: a name no policy declares is "unknown".
func (s *server) decisionLabel(name string) string {
	if s.cfg.Engine.PolicySet().HasDecision(name) {
		return name
	}
	return "unknown"
}
