package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed migrations/*.sql
var embeddedMigrations embed.FS

// versionTable records how many engine migrations a database has applied.
const versionTable = "arbiter_engine_version"

// legacyVersionTable counted migrations when fact tables had migrations of their own (002 to 009);
// its first migration was today's 001.
const legacyVersionTable = "arbiter_schema_version"

// factsLockKey serialises the fact-table step of concurrent Migrate calls ("arbiter" + 1).
const factsLockKey = int64(0x61726269746572 + 1)

var migrationName = regexp.MustCompile(`^(\d+)_[A-Za-z0-9_]+\.sql$`)

// Migrations returns the embedded migrations of the engine's own tables (NNN_<name>.sql at the root).
func Migrations() fs.FS {
	sub, err := fs.Sub(embeddedMigrations, "migrations")
	if err != nil {
		panic(err) // the embed directive guarantees the folder exists
	}
	return sub
}

// Migrate applies the embedded engine migrations that url's database has not applied yet, then
// creates the tables and provider indexes of c that are missing. A catalog table that exists gets
// the declared columns it lacks when they need no value for existing rows (nullable or with a
// default); any other difference from the catalog fails the call with a [*DriftError] per table and
// column (errors.Join), and nothing of the fact-table step is kept. Concurrent calls against one
// database are safe: both steps run under advisory locks.
func Migrate(ctx context.Context, url string, c *Catalog) error {
	if c == nil {
		return errors.New("facts: migrate: no catalog")
	}
	files, err := migrationFiles(Migrations())
	if err != nil {
		return err
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil { // a malformed URL will not work later either: not ErrUnavailable
		return fmt.Errorf("facts: migrate: database url: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return unavailable(fmt.Errorf("facts: migrate: connect: %w", err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := adoptLegacyVersion(ctx, conn); err != nil {
		return classify(fmt.Errorf("facts: migrate: %w", err))
	}
	m, err := migrate.NewMigrator(ctx, conn, versionTable)
	if err != nil {
		return classify(fmt.Errorf("facts: migrate: %w", err))
	}
	for _, f := range files {
		raw, err := fs.ReadFile(Migrations(), f)
		if err != nil {
			return err
		}
		// Files are plain SQL: tern's template processing is not used, so braces need no escaping.
		up, down, _ := strings.Cut(string(raw), "---- create above / drop below ----")
		m.AppendMigration(f, strings.TrimSpace(up), strings.TrimSpace(down))
	}
	if err := m.Migrate(ctx); err != nil {
		return classify(fmt.Errorf("facts: migrate: %w", err))
	}
	return migrateFacts(ctx, conn, c)
}

// adoptLegacyVersion renames the version table of a database migrated before fact tables came from
// the catalog: of its migrations only the first (the engine's) still exists, and the catalog step
// finds the fact tables the others created.
func adoptLegacyVersion(ctx context.Context, conn *pgx.Conn) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", factsLockKey); err != nil {
			return err
		}
		var legacy, current bool
		err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL, to_regclass($2) IS NOT NULL",
			legacyVersionTable, versionTable).Scan(&legacy, &current)
		if err != nil || !legacy || current {
			return err
		}
		if _, err := tx.Exec(ctx, "ALTER TABLE "+quoteIdent(legacyVersionTable)+" RENAME TO "+quoteIdent(versionTable)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE "+quoteIdent(versionTable)+" SET version = LEAST(version, 1)")
		return err
	})
}

// migrateFacts creates or reconciles the catalog's tables and indexes in one transaction.
func migrateFacts(ctx context.Context, conn *pgx.Conn, c *Catalog) error {
	var drift []error
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", factsLockKey); err != nil {
			return err
		}
		existing, err := readTables(ctx, tx, c.names)
		if err != nil {
			return err
		}
		for _, name := range c.names {
			t := c.tables[name]
			db, ok := existing[name]
			if !ok {
				if _, err := tx.Exec(ctx, t.createSQL()); err != nil {
					return fmt.Errorf("create table %s: %w", name, err)
				}
				continue
			}
			d, err := t.reconcile(ctx, tx, db)
			if err != nil {
				return err
			}
			drift = append(drift, d...)
		}
		if len(drift) > 0 {
			return errors.Join(drift...)
		}
		indexes := map[string][][]string{}
		for name, db := range existing {
			indexes[name] = db.indexes
		}
		for _, ix := range c.neededIndexes(indexes) {
			if _, err := tx.Exec(ctx, ix.createSQL()); err != nil {
				return fmt.Errorf("create index %s: %w", ix.name, err)
			}
		}
		return nil
	})
	switch {
	case len(drift) > 0:
		return err
	case err != nil:
		return classify(fmt.Errorf("facts: migrate: %w", err))
	}
	return nil
}

// migrationFiles lists the migrations in order and insists on 1..n without gaps or duplicates: tern
// counts applied migrations, so a number filled in later would shift every one after it.
func migrationFiles(fsys fs.FS) ([]string, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	byNumber := map[int]string{}
	var problems []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			problems = append(problems, fmt.Sprintf("%s: name migrations NNN_<name>.sql", e.Name()))
			continue
		}
		n, _ := strconv.Atoi(m[1])
		if prev, dup := byNumber[n]; dup {
			problems = append(problems, fmt.Sprintf("%s: number %d is already used by %s", e.Name(), n, prev))
			continue
		}
		byNumber[n] = e.Name()
	}
	numbers := make([]int, 0, len(byNumber))
	for n := range byNumber {
		numbers = append(numbers, n)
	}
	sort.Ints(numbers)
	files := make([]string, 0, len(numbers))
	for i, n := range numbers {
		if n != i+1 {
			problems = append(problems, fmt.Sprintf("migration %03d is missing (found %s)", i+1, byNumber[n]))
			break
		}
		files = append(files, byNumber[n])
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("facts: migrations: %s", strings.Join(problems, "; "))
	}
	return files, nil
}
