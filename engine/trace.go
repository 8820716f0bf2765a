package engine

import (
	"context"
	"slices"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"arbiter/store"
)

var tracer = otel.Tracer("arbiter/engine")

// startSpan starts a child span only when ctx carries a recording span, so an untraced call
// allocates nothing.
func startSpan(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, noop.Span{}
	}
	// The copy keeps attrs from escaping, so an untraced call's variadic slice stays on the stack.
	return tracer.Start(ctx, name, trace.WithAttributes(slices.Clone(attrs)...))
}

// endSpan records err (if any) and the decision's outcome on sp and ends it.
func endSpan(sp trace.Span, err error, d *Decision) {
	if !sp.IsRecording() {
		return
	}
	if err != nil {
		sp.RecordError(err)
		sp.SetStatus(codes.Error, err.Error())
	} else if d != nil && d.Outcome != "" {
		sp.SetAttributes(attribute.String("arbiter.outcome", string(d.Outcome)))
	}
	sp.End()
}

// tracedLoader gives every fact load a span.
type tracedLoader struct{ loader }

func (t tracedLoader) Load(ctx context.Context, lookups []store.Lookup) (store.Facts, error) {
	ctx, sp := startSpan(ctx, "arbiter.facts.load", attribute.Int("arbiter.lookups", len(lookups)))
	f, err := t.loader.Load(ctx, lookups)
	endSpan(sp, err, nil)
	return f, err
}
