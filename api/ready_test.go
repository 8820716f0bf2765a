package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"arbiter/internal/server"
	"arbiter/internal/testing/pgtest"
)

// A database nobody migrated, one migration behind or missing a catalog table does not look ready, and says why.
func TestReadyzChecksTheSchemaVersion(t *testing.T) {
	for _, tt := range []struct {
		name, sql, detail string
		status            int
	}{
		{"migrated", "", "", http.StatusOK},
		{"one migration behind", "UPDATE arbiter_engine_version SET version = version - 1", "migrations applied; run arbiter migrate", http.StatusServiceUnavailable},
		{"never migrated", "DROP TABLE arbiter_engine_version", "no migration has been applied", http.StatusServiceUnavailable},
		{"a fact table missing", "DROP TABLE partner_plans", "fact tables [partner_plans] of the catalog do not exist", http.StatusServiceUnavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url := pgtest.New(t)
			ctx := context.Background()
			if tt.sql != "" {
				conn, err := pgx.Connect(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := conn.Exec(ctx, tt.sql); err != nil {
					t.Fatal(err)
				}
				conn.Close(ctx)
			}
			svc, err := server.Build(ctx, server.Config{DatabaseURL: url}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(svc.Close)
			rec := httptest.NewRecorder()
			svc.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.detail) {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
		})
	}
}
