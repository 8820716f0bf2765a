package store

import (
	"context"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

var pgTracer = otel.Tracer("arbiter/store")

// otelTracer turns pgx queries and batches into OpenTelemetry spans, only under a recording span.
type otelTracer struct{}

func startQuerySpan(ctx context.Context, name string, attrs ...attribute.KeyValue) context.Context {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx
	}
	ctx, _ = pgTracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(append(attrs, attribute.String("db.system.name", "postgresql"))...))
	return ctx
}

// endQuerySpan ends the span startQuerySpan put in ctx: pgx hands the end hook the context the start
// hook returned, which holds a recording span only when startQuerySpan started one.
func endQuerySpan(ctx context.Context, err error) {
	sp := trace.SpanFromContext(ctx)
	if !sp.IsRecording() {
		return
	}
	if err != nil {
		sp.RecordError(err)
		sp.SetStatus(codes.Error, err.Error())
	}
	sp.End()
}

func (otelTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	return startQuerySpan(ctx, "pg.query", attribute.String("db.query.text", data.SQL))
}

func (otelTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	endQuerySpan(ctx, data.Err)
}

func (otelTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	n := 0
	if data.Batch != nil {
		n = data.Batch.Len()
	}
	return startQuerySpan(ctx, "pg.batch", attribute.Int("db.operation.batch.size", n))
}

func (otelTracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	if data.Err != nil {
		trace.SpanFromContext(ctx).RecordError(data.Err)
	}
}

func (otelTracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchEndData) {
	endQuerySpan(ctx, data.Err)
}
