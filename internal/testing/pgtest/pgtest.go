// Package pgtest gives each test a fresh, migrated PostgreSQL database.
//
// The server is TEST_DATABASE_URL, or the local default (postgres://postgres@127.0.0.1:5432/test).
// The first New of a process migrates a template database named after a digest of the embedded
// migrations and fact catalog (built once and shared by every test process, under an advisory lock); every New then
// copies it, which costs a fraction of running the migrations. Without a reachable server the test is
// skipped, except under CI=true, where it fails.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"arbiter"
	"arbiter/store"
)

// DefaultURL is the local test server: trust auth, database test.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

const (
	templatePrefix = "arbiter_tpl_"
	dbPrefix       = "arbiter_t_"
	lockKey        = int64(0x61726269746572) // "arbiter": serialises template builds across processes
	staleAfter     = 3 * time.Hour           // test databases older than this were left by killed runs
)

// URL is TEST_DATABASE_URL, or DefaultURL.
func URL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

var template struct {
	mu   sync.Mutex
	name string
}

// templateName returns the migrated template, building it on first use (or again when fresh is set,
// after a copy found it gone).
func templateName(ctx context.Context, admin *pgx.Conn, base string, fresh bool) (string, error) {
	template.mu.Lock()
	defer template.mu.Unlock()
	if template.name != "" && !fresh {
		return template.name, nil
	}
	name, err := ensureTemplate(ctx, admin, base)
	if err != nil {
		return "", err
	}
	template.name = name
	return name, nil
}

// New creates a fresh migrated database, drops it when the test ends, and returns its URL.
func New(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := URL()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pgtest: PostgreSQL at %s is required when CI=true: %v", redact(base), err)
		}
		t.Skipf("pgtest: skipped, no PostgreSQL at %s (start it or set TEST_DATABASE_URL): %v", redact(base), err)
	}
	defer admin.Close(context.Background())

	tmpl, err := templateName(ctx, admin, base, false)
	if err != nil {
		t.Fatalf("pgtest: template database: %v", err)
	}
	name := dbPrefix + strconv.FormatInt(time.Now().Unix(), 10) + "_" + randomHex(5)
	err = createFrom(ctx, admin, name, tmpl)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "3D000" { // the template was dropped: build it again
		if tmpl, err = templateName(ctx, admin, base, true); err == nil {
			err = createFrom(ctx, admin, name, tmpl)
		}
	}
	if err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() { drop(name) })
	return withDatabase(base, name)
}

// ensureTemplate returns the name of the migrated template for the current migrations, building it
// if no process has yet. It also drops what killed runs left behind.
func ensureTemplate(ctx context.Context, admin *pgx.Conn, base string) (string, error) {
	cat, err := embeddedCatalog()
	if err != nil {
		return "", err
	}
	digest, err := migrationsDigest(cat)
	if err != nil {
		return "", err
	}
	name := templatePrefix + digest
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return "", err
	}
	defer admin.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", lockKey) //nolint:errcheck
	dropStale(ctx, admin, name)
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	// Build under a temporary name and rename when complete, so that a half-migrated template is never used.
	building := name + "_b" + randomHex(3)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident(building)+" TEMPLATE template0"); err != nil {
		return "", err
	}
	if err := store.Migrate(ctx, withDatabase(base, building), cat); err != nil {
		drop(building)
		return "", err
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+ident(building)+" RENAME TO "+ident(name)); err != nil {
		drop(building)
		return "", err
	}
	// Nobody connects to a template: a connection would block every copy of it. The comment dates it.
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+ident(name)+" ALLOW_CONNECTIONS false"); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "COMMENT ON DATABASE "+ident(name)+" IS "+quoteLiteral(strconv.FormatInt(time.Now().Unix(), 10))); err != nil {
		return "", err
	}
	return name, nil
}

// createFrom copies the template, retrying while another session briefly holds it.
func createFrom(ctx context.Context, admin *pgx.Conn, name, tmpl string) error {
	for attempt := 0; ; attempt++ {
		_, err := admin.Exec(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(tmpl))
		var pgErr *pgconn.PgError
		if err == nil || attempt >= 50 || !errors.As(err, &pgErr) || pgErr.Code != "55006" { // object_in_use
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dropStale removes templates of other migrations and test databases that killed runs left behind.
func dropStale(ctx context.Context, admin *pgx.Conn, current string) {
	type entry struct{ name, comment string }
	rows, err := admin.Query(ctx, `SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '')
		FROM pg_database WHERE datname LIKE 'arbiter\_t%'`)
	if err != nil {
		return
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (entry, error) {
		var e entry
		err := r.Scan(&e.name, &e.comment)
		return e, err
	})
	if err != nil {
		return
	}
	old := func(stamp string) bool {
		sec, err := strconv.ParseInt(stamp, 10, 64)
		return err == nil && time.Since(time.Unix(sec, 0)) > staleAfter
	}
	for _, e := range list {
		switch {
		case strings.HasPrefix(e.name, templatePrefix):
			// Templates of other migrations stay a while: a test binary built before an edit may
			// still be copying its own.
			building := strings.Contains(e.name, "_b")
			if building || (e.name != current && old(e.comment)) {
				drop(e.name) // builds only run under the lock this caller holds: a build seen now was abandoned
			}
		case strings.HasPrefix(e.name, dbPrefix):
			stamp, _, _ := strings.Cut(strings.TrimPrefix(e.name, dbPrefix), "_")
			if old(stamp) {
				drop(e.name)
			}
		}
	}
}

func drop(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, URL())
	if err != nil {
		return
	}
	defer c.Close(ctx)
	_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)")
}

// embeddedCatalog is the fact catalog compiled into the binary, whose tables every database gets.
func embeddedCatalog() (*store.Catalog, error) {
	sub, err := fs.Sub(arbiter.Bundle(), "facts")
	if err != nil {
		return nil, err
	}
	return store.LoadCatalog(sub)
}

// migrationsDigest names the template after the migrations' and the catalog's content.
func migrationsDigest(cat *store.Catalog) (string, error) {
	fsys := store.Migrations()
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		raw, err := fs.ReadFile(fsys, n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(raw))
		h.Write(raw)
	}
	h.Write([]byte(cat.Digest()))
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + name
	return u.String()
}

func ident(s string) string { return pgx.Identifier{s}.Sanitize() }

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "the configured server"
	}
	return u.Redacted()
}
