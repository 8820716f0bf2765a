// Package pgtest gives each test a fresh, migrated PostgreSQL database.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"arbiter/engine/facts"
)

// DefaultURL is the local test server: trust auth, database test.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// URL is TEST_DATABASE_URL, or DefaultURL.
func URL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

var counter atomic.Int64

// New creates a fresh database, migrates it, drops it when the test ends, and returns its URL.
// Without a reachable server the test is skipped, except under CI=true, where it fails.
func New(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base := URL()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pgtest: PostgreSQL at %s is required under CI=true: %v", redact(base), err)
		}
		t.Skipf("pgtest: no PostgreSQL at %s (set TEST_DATABASE_URL): %v", redact(base), err)
	}
	defer admin.Close(ctx)
	name := fmt.Sprintf("arbiter_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000_000, counter.Add(1))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	u.Path = "/" + name
	dbURL := u.String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	if err := facts.Migrate(ctx, dbURL); err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
	return dbURL
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "the configured database"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxx")
	}
	return strings.TrimSpace(u.String())
}
