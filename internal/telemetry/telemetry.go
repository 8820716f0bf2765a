// Package telemetry turns on OpenTelemetry tracing when an OTLP endpoint is configured.
package telemetry

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"arbiter/internal/buildinfo"
)

// Variables are the environment variables that switch tracing on (the exporter reads the other
// OTEL_EXPORTER_OTLP_* and OTEL_* variables itself).
var Variables = []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME"}

// Enabled reports whether env configures an OTLP endpoint and does not disable the SDK.
func Enabled(env func(string) string) bool {
	if strings.EqualFold(env("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	return env("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup installs a tracer provider exporting spans over OTLP/HTTP in batches when Enabled, and the
// W3C trace-context propagator; otherwise tracing stays off (no-op spans). The returned function
// flushes and stops the exporter.
func Setup(ctx context.Context) (enabled bool, shutdown func(context.Context) error, err error) {
	if !Enabled(os.Getenv) {
		return false, func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return false, nil, fmt.Errorf("otlp exporter: %w", err)
	}
	info := buildinfo.Get()
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", serviceName()),
		attribute.String("service.version", info.Version),
		attribute.String("vcs.revision", info.Commit),
	))
	if err != nil {
		return false, nil, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return true, tp.Shutdown, nil
}

func serviceName() string {
	if n := os.Getenv("OTEL_SERVICE_NAME"); n != "" {
		return n
	}
	return "arbiter"
}
