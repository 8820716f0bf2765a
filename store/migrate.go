package store

import (
	"context"
	"embed"
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

// versionTable records how many migrations a database has applied.
const versionTable = "arbiter_schema_version"

var migrationName = regexp.MustCompile(`^(\d+)_[A-Za-z0-9_]+\.sql$`)

// Migrations returns the embedded migrations (NNN_<domain>.sql at the root).
func Migrations() fs.FS {
	sub, err := fs.Sub(embeddedMigrations, "migrations")
	if err != nil {
		panic(err) // the embed directive guarantees the folder exists
	}
	return sub
}

// Migrate applies the embedded migrations that url's database has not applied yet. Concurrent calls
// against one database are safe: the migrator holds an advisory lock.
func Migrate(ctx context.Context, url string) error {
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
			problems = append(problems, fmt.Sprintf("%s: name migrations NNN_<domain>.sql", e.Name()))
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
