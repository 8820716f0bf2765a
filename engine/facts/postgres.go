package facts

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"sort"
	"strings"

	pgxdecimal "github.com/jackc/pgx-shopspring-decimal"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Postgres is the PostgreSQL fact store: one batch round trip per Load, advisory-locked commits.
type Postgres struct {
	cat   *Catalog
	pool  *pgxpool.Pool
	stmts map[string]providerSQL
}

type providerSQL struct {
	sql     string
	by      []string
	columns []Column
	one     bool
}

// OpenPostgres connects a pool with NUMERIC read as shopspring decimals.
func OpenPostgres(ctx context.Context, url string, c *Catalog) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("facts: database url: %w", err)
	}
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		pgxdecimal.Register(conn.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("facts: %w", err)
	}
	p := &Postgres{cat: c, pool: pool, stmts: map[string]providerSQL{}}
	for name, prov := range c.providers {
		p.stmts[name] = buildSQL(c.tables[prov.Table], prov)
	}
	return p, nil
}

func quote(id string) string { return pgx.Identifier{id}.Sanitize() }

func buildSQL(t *Table, p Provider) providerSQL {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = quote(c.Name)
	}
	where := make([]string, len(p.By))
	for i, b := range p.By {
		where[i] = fmt.Sprintf("%s = $%d", quote(b), i+1)
	}
	order := append(append([]string{}, p.OrderBy...), t.PrimaryKey...)
	for i, o := range order {
		order[i] = quote(o)
	}
	sql := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY %s",
		strings.Join(cols, ", "), quote(t.Name), strings.Join(where, " AND "), strings.Join(order, ", "))
	return providerSQL{sql: sql, by: p.By, columns: t.Columns, one: p.One}
}

// Pool returns the connection pool.
func (p *Postgres) Pool() *pgxpool.Pool { return p.pool }

// Ping checks the database is reachable.
func (p *Postgres) Ping(ctx context.Context) error {
	if err := p.pool.Ping(ctx); err != nil {
		return classify(err)
	}
	return nil
}

// Close closes the pool.
func (p *Postgres) Close() { p.pool.Close() }

type querier interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Load runs every lookup in one batch: one round trip.
func (p *Postgres) Load(ctx context.Context, lookups []Lookup) (Facts, error) {
	return p.load(ctx, p.pool, lookups)
}

func (p *Postgres) load(ctx context.Context, q querier, lookups []Lookup) (Facts, error) {
	out := make(Facts, len(lookups))
	if len(lookups) == 0 {
		return out, nil
	}
	b := &pgx.Batch{}
	for _, l := range lookups {
		st, ok := p.stmts[l.Provider]
		if !ok {
			return nil, fmt.Errorf("facts: unknown provider %q", l.Provider)
		}
		args := make([]any, len(st.by))
		for i, col := range st.by {
			args[i] = l.Key[col]
		}
		b.Queue(st.sql, args...)
	}
	br := q.SendBatch(ctx, b)
	defer br.Close()
	for _, l := range lookups {
		st := p.stmts[l.Provider]
		rows, err := br.Query()
		if err != nil {
			return nil, classify(err)
		}
		var list []any
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				rows.Close()
				return nil, classify(err)
			}
			row := make(map[string]any, len(vals))
			for i, c := range st.columns {
				v, err := canonical(c.Type, vals[i])
				if err != nil {
					rows.Close()
					return nil, fmt.Errorf("facts: %s.%s: %w", l.Provider, c.Name, err)
				}
				row[c.Name] = v
			}
			list = append(list, row)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, classify(err)
		}
		if st.one {
			if len(list) == 0 {
				return nil, &NotFoundError{Provider: l.Provider, Field: l.Field, Key: l.Key}
			}
			out[l.Name] = list[0]
			continue
		}
		if list == nil {
			list = []any{}
		}
		out[l.Name] = list
	}
	return out, nil
}

// Commit runs fn in one transaction after taking an advisory lock on every key, in sorted order.
func (p *Postgres) Commit(ctx context.Context, locks []string, fn func(ctx context.Context, tx Tx) error) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return classify(err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	keys := append([]string{}, locks...)
	sort.Strings(keys)
	for _, k := range keys {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", k); err != nil {
			return classify(err)
		}
	}
	if err := fn(ctx, &pgTx{p: p, tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return classify(err)
	}
	return nil
}

type pgTx struct {
	p  *Postgres
	tx pgx.Tx
}

func (t *pgTx) Load(ctx context.Context, lookups []Lookup) (Facts, error) {
	return t.p.load(ctx, t.tx, lookups)
}

func (t *pgTx) FindCommit(ctx context.Context, decision, key string) (*CommitRecord, error) {
	var r CommitRecord
	err := t.tx.QueryRow(ctx, `SELECT decision, idempotency_key, request_hash, decision_id, answer, created_at
		FROM commits WHERE decision = $1 AND idempotency_key = $2`, decision, key).
		Scan(&r.Decision, &r.IdempotencyKey, &r.RequestHash, &r.DecisionID, &r.Answer, &r.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, classify(err)
	}
	return &r, nil
}

func (t *pgTx) SaveCommit(ctx context.Context, rec CommitRecord, entries []LedgerEntry) error {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO commits (decision, idempotency_key, request_hash, decision_id, answer) VALUES ($1, $2, $3, $4, $5)`,
		rec.Decision, rec.IdempotencyKey, rec.RequestHash, rec.DecisionID, rec.Answer)
	for _, e := range entries {
		b.Queue(`INSERT INTO ledger_entries (decision_id, key, amount, decision, idempotency_key) VALUES ($1, $2, $3, $4, $5)`,
			rec.DecisionID, e.Key, e.Amount, rec.Decision, rec.IdempotencyKey)
	}
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return classify(err)
	}
	return nil
}

// classify wraps connection-level failures in ErrUnavailable; other errors pass through.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 (connection exception), 57P01-03 (shutdown), 53300 (too many connections).
		if strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") || pgErr.Code == "53300" {
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		return err
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) || errors.As(err, &netErr) || pgconn.SafeToRetry(err) ||
		strings.Contains(err.Error(), "closed pool") || strings.Contains(err.Error(), "conn closed") ||
		strings.Contains(err.Error(), "unexpected EOF") || strings.Contains(err.Error(), "connection reset") ||
		strings.Contains(err.Error(), "broken pipe") || strings.Contains(err.Error(), "failed to connect") {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return err
}

// Migrate applies the embedded migrations; tern serialises concurrent migrators with an advisory lock.
func Migrate(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return classify(err)
	}
	defer conn.Close(ctx)
	m, err := migrate.NewMigrator(ctx, conn, "arbiter_schema_version")
	if err != nil {
		return fmt.Errorf("facts: migrator: %w", err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	if err := m.LoadMigrations(sub); err != nil {
		return fmt.Errorf("facts: load migrations: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("facts: migrate: %w", err)
	}
	return nil
}

// Seed replaces the rows of every table present in rows, in one transaction.
func (p *Postgres) Seed(ctx context.Context, rows Rows) error {
	tables := make([]string, 0, len(rows))
	for t := range rows {
		tables = append(tables, t)
	}
	return p.replace(ctx, tables, rows)
}

// ReplaceAll empties every catalog table, the ledger and the commits, then inserts rows, in one transaction.
func (p *Postgres) ReplaceAll(ctx context.Context, rows Rows) error {
	tables := p.cat.Tables()
	tables = append(tables, "commits")
	return p.replace(ctx, tables, rows)
}

func (p *Postgres) replace(ctx context.Context, tables []string, rows Rows) error {
	if err := checkKeys(p.cat, rows); err != nil {
		return err
	}
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return classify(err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if len(tables) > 0 {
		quoted := make([]string, len(tables))
		sort.Strings(tables)
		for i, t := range tables {
			quoted[i] = quote(t)
		}
		if _, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(quoted, ", ")); err != nil {
			return classify(err)
		}
	}
	for table, rs := range rows {
		t, ok := p.cat.tables[table]
		if !ok {
			return fmt.Errorf("facts: unknown table %q", table)
		}
		cols := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			cols[i] = c.Name
		}
		src := make([][]any, 0, len(rs))
		for _, r := range rs {
			vals := make([]any, len(t.Columns))
			for i, c := range t.Columns {
				vals[i] = dbValue(c, r[c.Name])
			}
			src = append(src, vals)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(src)); err != nil {
			return fmt.Errorf("facts: load %s: %w", table, classify(err))
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return classify(err)
	}
	return nil
}

// dbValue turns a canonical value into what pgx encodes for the column type.
func dbValue(c Column, v any) any {
	if v == nil {
		return nil
	}
	switch c.Type {
	case TypeDecimal:
		s, _ := v.(string)
		d, err := parseDec(s)
		if err != nil {
			return v
		}
		return d
	case TypeDate, TypeTimestamp:
		s, _ := v.(string)
		t, err := parseTime(c.Type, s)
		if err != nil {
			return v
		}
		return t
	case TypeTextArray:
		list, _ := v.([]any)
		out := make([]string, len(list))
		for i, x := range list {
			out[i], _ = x.(string)
		}
		return out
	}
	return v
}
