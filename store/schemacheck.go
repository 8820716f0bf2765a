package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrSchemaBehind is matched when the database has not applied every embedded migration.
var ErrSchemaBehind = errors.New("the database schema is behind this build")

// CheckSchema reports, as ErrSchemaBehind with the versions, a database on which `arbiter migrate`
// has not run, has not applied every embedded migration or lacks a fact table of the catalog; one
// further ahead (migrated by a newer build during a rolling deploy) passes, as migrations only add.
func (p *Postgres) CheckSchema(ctx context.Context) error {
	files, err := migrationFiles(Migrations())
	if err != nil {
		return err
	}
	var applied int64
	err = p.pool.QueryRow(ctx, "SELECT version FROM "+quoteIdent(versionTable)).Scan(&applied)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "42P01": // undefined_table
		return fmt.Errorf("%w: no migration has been applied (no %s table); run arbiter migrate", ErrSchemaBehind, versionTable)
	case err != nil:
		return classify(fmt.Errorf("facts: read the schema version: %w", err))
	case applied < int64(len(files)):
		return fmt.Errorf("%w: %d of %d migrations applied; run arbiter migrate", ErrSchemaBehind, applied, len(files))
	}
	// The fact tables come from the catalog, not from the numbered migrations: each must exist too.
	var missing []string
	rows, err := p.pool.Query(ctx, "SELECT t FROM unnest($1::text[]) AS t WHERE to_regclass(quote_ident(t)) IS NULL ORDER BY t", p.cat.Tables())
	if err != nil {
		return classify(fmt.Errorf("facts: look up the catalog's tables: %w", err))
	}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return classify(fmt.Errorf("facts: look up the catalog's tables: %w", err))
		}
		missing = append(missing, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return classify(fmt.Errorf("facts: look up the catalog's tables: %w", err))
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: fact tables %v of the catalog do not exist; run arbiter migrate", ErrSchemaBehind, missing)
	}
	return nil
}

// Ready checks that the database answers and has applied every migration this build embeds.
func (p *Postgres) Ready(ctx context.Context) error {
	if err := p.Ping(ctx); err != nil {
		return err
	}
	return p.CheckSchema(ctx)
}
