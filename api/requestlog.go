package api

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"
)

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-Id"

// acceptedRequestID bounds what an incoming request id may be, so it can go into logs and headers as is.
var acceptedRequestID = regexp.MustCompile(`^[A-Za-z0-9._:/+=@-]{1,128}$`)

// requestInfo collects what the request log reports, filled in by the handlers as they learn it.
type requestInfo struct {
	caller, decision, decisionID string
}

type infoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	i, _ := ctx.Value(infoKey{}).(*requestInfo)
	return i
}

// requestID returns the request's id (empty outside the middleware).
func requestID(r *http.Request) string { return middleware.GetReqID(r.Context()) }

// requestLog gives every request an id (the incoming X-Request-Id when it is sane, else a new UUID),
// returns it in X-Request-Id, and logs one line per request when it ends.
func requestLog(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := r.Header.Get(RequestIDHeader)
			if !acceptedRequestID.MatchString(id) {
				id = uuid.NewString()
			}
			w.Header().Set(RequestIDHeader, id)
			info := &requestInfo{}
			ctx := context.WithValue(r.Context(), middleware.RequestIDKey, id)
			ctx = context.WithValue(ctx, infoKey{}, info)
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			defer func() {
				status := ww.Status()
				if status == 0 {
					status = http.StatusOK
				}
				log.LogAttrs(ctx, slog.LevelInfo, "request",
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.String("decision", info.decision),
					slog.Int("status", status),
					slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
					slog.String("caller", info.caller),
					slog.String("request_id", id),
					slog.String("decision_id", info.decisionID),
				)
			}()
			next.ServeHTTP(ww, r.WithContext(ctx))
		})
	}
}
