package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"syscall"
	"time"

	pgxdecimal "github.com/jackc/pgx-shopspring-decimal"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"
	"github.com/shopspring/decimal"
)

// Postgres is the PostgreSQL store: one pool, one prepared-once statement per provider, every lookup of
// one Load in a single batch round trip, commits in one transaction under advisory locks.
type Postgres struct {
	pool  *pgxpool.Pool
	cat   *Catalog
	stmts map[string]*pgProvider
}

type pgProvider struct {
	*provider
	sql string
}

// OpenPostgres connects a pool to url (lazily: an unreachable server shows up as ErrUnavailable on use)
// with NUMERIC read as shopspring decimals, in pgx's exec query mode unless url sets default_query_exec_mode.
func OpenPostgres(ctx context.Context, url string, c *Catalog) (*Postgres, error) {
	return openPostgres(ctx, url, c, nil)
}

// PoolConfig parses url for a pool that works behind a transaction pooler: pgx's exec query mode
// unless url sets default_query_exec_mode. Every pool the service or its commands open uses it.
func PoolConfig(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("facts: database url: %w", err)
	}
	if !strings.Contains(url, "default_query_exec_mode") {
		// pgx's default caches named prepared statements per connection, which a pooler in transaction
		// mode (PgBouncer's usual setup) breaks by handing each transaction another server connection.
		// Exec mode needs no server-side state between round trips at the price of a parse per query.
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	return cfg, nil
}

// NewPool opens a plain pool on url configured by PoolConfig.
func NewPool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := PoolConfig(url)
	if err != nil {
		return nil, err
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}

func openPostgres(ctx context.Context, url string, c *Catalog, configure func(*pgxpool.Config)) (*Postgres, error) {
	cfg, err := PoolConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.Tracer = otelTracer{}
	if configure != nil {
		configure(cfg)
	}
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		pgxdecimal.Register(conn.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("facts: open pool: %w", err)
	}
	p := &Postgres{pool: pool, cat: c, stmts: make(map[string]*pgProvider, len(c.providers))}
	for name, pr := range c.providers {
		p.stmts[name] = &pgProvider{provider: pr, sql: selectSQL(pr)}
	}
	return p, nil
}

func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

// selectSQL reads a provider's rows: every column listed, equality on by (parameters cast to the
// catalog types), ordered like Memory (text byte-wise, NULLs last).
func selectSQL(p *provider) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, cl := range p.table.columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(cl.name))
	}
	b.WriteString(" FROM ")
	b.WriteString(quoteIdent(p.table.name))
	for i, cl := range p.by {
		if i == 0 {
			b.WriteString(" WHERE ")
		} else {
			b.WriteString(" AND ")
		}
		// The parameter has the catalog's type whatever the column's: an integer column compared with
		// a bigint key beyond its range matches nothing instead of failing to encode the key.
		fmt.Fprintf(&b, "%s = $%d::%s", quoteIdent(cl.name), i+1, cl.typ.sqlType())
	}
	b.WriteString(" ORDER BY ")
	for i, cl := range p.orderBy {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(cl.name))
		if cl.typ == typeText {
			b.WriteString(` COLLATE "C"`)
		}
		b.WriteString(" ASC NULLS LAST")
	}
	if p.One {
		b.WriteString(" LIMIT 1")
	}
	return b.String()
}

// Pool is the underlying connection pool (shared with the decision log).
func (p *Postgres) Pool() *pgxpool.Pool { return p.pool }

// Ping checks that the server answers; failure is ErrUnavailable.
func (p *Postgres) Ping(ctx context.Context) error {
	if err := p.pool.Ping(ctx); err != nil {
		return unavailable(err)
	}
	return nil
}

// Close closes the pool.
func (p *Postgres) Close() { p.pool.Close() }

type batcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Load sends every lookup in one batch (one round trip).
func (p *Postgres) Load(ctx context.Context, lookups []Lookup) (Facts, error) {
	if len(lookups) == 0 {
		return Facts{}, nil
	}
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return nil, acquireError(ctx, p, err)
	}
	defer conn.Release()
	return p.load(ctx, conn, lookups)
}

func (p *Postgres) load(ctx context.Context, q batcher, lookups []Lookup) (Facts, error) {
	out := make(Facts, len(lookups))
	batch := &pgx.Batch{}
	queued := make([]*pgProvider, len(lookups)) // nil: the key matches nothing, no query
	lists := make([][]any, len(lookups))
	for i := range lookups {
		l := &lookups[i]
		pp, ok := p.stmts[l.Provider]
		if !ok {
			return nil, fmt.Errorf("facts: %s: unknown provider %q", l.Name, l.Provider)
		}
		if _, err := p.cat.resolve(*l); err != nil {
			return nil, err
		}
		args, ok := pp.args(l.Key)
		if !ok {
			continue
		}
		queued[i] = pp
		batch.Queue(pp.sql, args...)
	}
	if batch.Len() > 0 {
		res := q.SendBatch(ctx, batch)
		for i, pp := range queued {
			if pp == nil {
				continue
			}
			rows, err := res.Query()
			if err != nil {
				res.Close()
				return nil, classify(fmt.Errorf("facts: %s (%s): %w", lookups[i].Name, pp.Name, err))
			}
			list, err := pp.scan(rows)
			if err != nil {
				res.Close()
				return nil, classify(fmt.Errorf("facts: %s (%s): %w", lookups[i].Name, pp.Name, err))
			}
			lists[i] = list
		}
		if err := res.Close(); err != nil {
			return nil, classify(fmt.Errorf("facts: load: %w", err))
		}
	}
	for i := range lookups {
		l := &lookups[i]
		rows := lists[i]
		switch {
		case p.stmts[l.Provider].One:
			if len(rows) == 0 {
				return nil, &NotFoundError{Provider: l.Provider, Field: l.Field, Key: l.Key}
			}
			out[l.Name] = rows[0]
		case rows == nil:
			out[l.Name] = emptyRows
		default:
			out[l.Name] = rows
		}
	}
	return out, nil
}

// args converts a lookup key to query arguments; ok is false when it can match no row.
func (pp *pgProvider) args(key map[string]any) ([]any, bool) {
	args := make([]any, len(pp.by))
	for i, cl := range pp.by {
		v, ok := keyValue(cl, key[cl.name])
		if !ok {
			return nil, false
		}
		args[i] = dbValue(cl.typ, v)
	}
	return args, true
}

// dbValue converts a canonical value to the Go value pgx encodes for the column type.
func dbValue(t colType, v any) any {
	if v == nil {
		return nil
	}
	switch t {
	case typeDecimal:
		d, _ := decimal.NewFromString(v.(string))
		return d
	case typeDate:
		d, _ := time.Parse(dateLayout, v.(string))
		return d
	case typeTimestamp:
		ts, _ := time.Parse(time.RFC3339Nano, v.(string))
		return ts
	case typeTextArray:
		list := v.([]any)
		out := make([]string, len(list))
		for i, e := range list {
			out[i] = e.(string)
		}
		return out
	case typeJSON:
		raw, err := encodeJSON(v)
		if err != nil {
			return nil
		}
		return raw
	}
	return v
}

// scan reads every row as a canonical map with all of the table's columns.
func (pp *pgProvider) scan(rows pgx.Rows) ([]any, error) {
	defer rows.Close()
	cols := pp.table.columns
	var out []any
	var dest []any // scan targets, reused row after row: canonicalScanned copies the values out
	for rows.Next() {
		if dest == nil {
			dest = make([]any, len(cols))
			for i, cl := range cols {
				dest[i] = newScanTarget(cl.typ)
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		row := make(map[string]any, len(cols))
		for i, cl := range cols {
			v, err := canonicalScanned(cl.typ, dest[i])
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", pp.table.name, cl.name, err)
			}
			row[cl.name] = v
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func newScanTarget(t colType) any {
	switch t {
	case typeText:
		return new(pgtype.Text)
	case typeInt:
		return new(pgtype.Int8)
	case typeBool:
		return new(pgtype.Bool)
	case typeDecimal:
		return new(pgtype.Numeric) // read as digits and exponent: no detour through text
	case typeDate:
		return new(pgtype.Date)
	case typeTimestamp:
		return new(pgtype.Timestamptz)
	case typeTextArray:
		return new(pgtype.Array[pgtype.Text])
	case typeJSON:
		return new([]byte)
	}
	return new(any)
}

func canonicalScanned(t colType, dest any) (any, error) {
	switch x := dest.(type) {
	case *pgtype.Text:
		if !x.Valid {
			return nil, nil
		}
		return x.String, nil
	case *pgtype.Int8:
		if !x.Valid {
			return nil, nil
		}
		return x.Int64, nil
	case *pgtype.Bool:
		if !x.Valid {
			return nil, nil
		}
		return x.Bool, nil
	case *pgtype.Numeric:
		switch {
		case !x.Valid:
			return nil, nil
		case x.NaN || x.InfinityModifier != pgtype.Finite || x.Int == nil:
			return nil, errors.New("NaN and infinite numerics are not supported")
		}
		return decimal.NewFromBigInt(x.Int, x.Exp).String(), nil
	case *pgtype.Date:
		if !x.Valid {
			return nil, nil
		}
		if x.InfinityModifier != pgtype.Finite {
			return nil, errors.New("infinite dates are not supported")
		}
		return x.Time.Format(dateLayout), nil
	case *pgtype.Timestamptz:
		if !x.Valid {
			return nil, nil
		}
		if x.InfinityModifier != pgtype.Finite {
			return nil, errors.New("infinite timestamps are not supported")
		}
		return formatTimestamp(x.Time), nil
	case *pgtype.Array[pgtype.Text]:
		if !x.Valid {
			return nil, nil
		}
		out := make([]any, len(x.Elements))
		for i, e := range x.Elements {
			if !e.Valid {
				return nil, errors.New("NULL inside a text[] is not supported")
			}
			out[i] = e.String
		}
		return out, nil
	case *[]byte:
		if *x == nil {
			return nil, nil
		}
		return decodeJSON(*x)
	}
	return nil, fmt.Errorf("unsupported column type %s", t)
}

// Commit runs fn in one transaction after taking pg_advisory_xact_lock on every lock key, in sorted
// order so that two commits never deadlock. Any error rolls everything back.
func (p *Postgres) Commit(ctx context.Context, locks []string, fn func(ctx context.Context, tx Tx) error) (err error) {
	keys := sortedUnique(locks)
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return acquireError(ctx, p, err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return classify(fmt.Errorf("facts: begin: %w", err))
	}
	defer func() {
		if err != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = tx.Rollback(rctx)
		}
	}()
	now, err := lockAndNow(ctx, tx, keys)
	if err != nil {
		return err
	}
	if err := fn(ctx, &pgTx{p: p, tx: tx, now: now}); err != nil {
		return err
	}
	// Once fn has decided, the answer depends on COMMIT alone: the caller's deadline must not cut it
	// short and leave a commit that happened answered as a failure.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	if err := tx.Commit(cctx); err != nil {
		return classify(commitExists(fmt.Errorf("facts: commit: %w", err)))
	}
	return nil
}

// commitTimeout bounds COMMIT after the caller's deadline no longer does.
const commitTimeout = 10 * time.Second

// lockAndNow takes the advisory locks and then reads the clock, in one round trip. The commit's
// created_at is that reading, not now() (when the transaction began, before it waited for the
// locks), so that on one key created_at follows the order in which commits happen, as in Memory.
func lockAndNow(ctx context.Context, tx pgx.Tx, keys []string) (time.Time, error) {
	b := &pgx.Batch{}
	for _, k := range keys {
		b.Queue("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", k)
	}
	b.Queue("SELECT clock_timestamp()")
	res := tx.SendBatch(ctx, b)
	for range keys {
		if _, err := res.Exec(); err != nil {
			res.Close()
			return time.Time{}, classify(fmt.Errorf("facts: take locks %v: %w", keys, err))
		}
	}
	var now time.Time
	if err := res.QueryRow().Scan(&now); err != nil {
		res.Close()
		return time.Time{}, classify(fmt.Errorf("facts: read the clock: %w", err))
	}
	if err := res.Close(); err != nil {
		return time.Time{}, classify(fmt.Errorf("facts: take locks %v: %w", keys, err))
	}
	return now, nil
}

func sortedUnique(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	n := 0
	for i, s := range out {
		if i == 0 || s != out[n-1] {
			out[n] = s
			n++
		}
	}
	return out[:n]
}

type pgTx struct {
	p   *Postgres
	tx  pgx.Tx
	now time.Time // the commit's created_at, read once its locks were held
}

func (t *pgTx) Load(ctx context.Context, lookups []Lookup) (Facts, error) {
	if len(lookups) == 0 {
		return Facts{}, nil
	}
	return t.p.load(ctx, t.tx, lookups)
}

func (t *pgTx) FindCommit(ctx context.Context, decision, idempotencyKey string) (*CommitRecord, error) {
	return findCommit(ctx, t.tx, decision, idempotencyKey)
}

func (t *pgTx) SaveCommit(ctx context.Context, rec CommitRecord, entries []LedgerEntry) error {
	b := &pgx.Batch{}
	var answer any
	if rec.Answer != nil {
		answer = rec.Answer
	}
	var caller any
	if rec.Caller != "" {
		caller = rec.Caller
	}
	b.Queue(`INSERT INTO commits (decision, idempotency_key, request_hash, decision_id, answer, created_at, caller)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, rec.Decision, rec.IdempotencyKey, rec.RequestHash, rec.DecisionID, answer, t.now, caller)
	for _, e := range entries {
		b.Queue(`INSERT INTO ledger_entries (decision_id, key, amount, decision, idempotency_key, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, rec.DecisionID, e.Key, e.Amount, rec.Decision, rec.IdempotencyKey, t.now)
	}
	if l := rec.Log; l != nil {
		recorded := l.RecordedAt
		if recorded.IsZero() {
			recorded = t.now
		}
		b.Queue(`INSERT INTO decision_log (id, decision, version, as_of, outcome, envelope, input, facts, recorded_at, caller)
			VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7::text::jsonb, $8::text::jsonb, $9, NULLIF($10, ''))`,
			l.ID, l.Decision, l.Version, l.AsOf, l.Outcome, jsonText(l.Envelope), jsonText(l.Input), jsonText(l.Facts), recorded, l.Caller)
	}
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return classify(commitExists(fmt.Errorf("facts: save commit %s/%s: %w", rec.Decision, rec.IdempotencyKey, err)))
	}
	return nil
}

// jsonText passes encoded JSON as text (NULL when empty), for a ::jsonb cast in SQL.
func jsonText(raw json.RawMessage) *string {
	if len(raw) == 0 {
		return nil
	}
	s := string(raw)
	return &s
}

// acquireError: failing to get a connection is the store being unavailable, unless the caller itself
// gave up, or its deadline passed while every connection of the pool was busy: then the service is
// overloaded (ErrOverloaded) and the database may be perfectly healthy.
func acquireError(ctx context.Context, p *Postgres, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("facts: acquire connection: %w", err)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if st := p.pool.Stat(); st.AcquiredConns() >= st.MaxConns() {
			return fmt.Errorf("facts: acquire connection: all %d connections busy: %w: %w", st.MaxConns(), ErrOverloaded, err)
		}
	}
	return unavailable(fmt.Errorf("facts: acquire connection: %w", err))
}

func unavailable(err error) error {
	if errors.Is(err, ErrUnavailable) {
		return err
	}
	return &unavailableError{err: err}
}

// classify marks connection-level failures as ErrUnavailable; errors the server reports about a
// statement (bad SQL, constraint violations) stay as they are.
func classify(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", // shutdown, cannot connect now
			pgErr.Code == "53300": // too many connections
			return unavailable(err)
		}
		return err
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr),
		errors.Is(err, puddle.ErrClosedPool),
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.As(err, &netErr) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled):
		return unavailable(err)
	}
	if strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "closed pool") {
		return unavailable(err)
	}
	return err
}

// Seed replaces, in one transaction, every row of each table present in rows with the given rows.
func (p *Postgres) Seed(ctx context.Context, rows Rows) error {
	canon, err := canonicalRows(p.cat, rows)
	if err != nil {
		return err
	}
	return p.write(ctx, canon, func(ctx context.Context, tx pgx.Tx) error {
		for _, name := range sortedTables(canon) {
			if _, err := tx.Exec(ctx, "DELETE FROM "+quoteIdent(name)); err != nil {
				return fmt.Errorf("facts: seed: clear %s: %w", name, err)
			}
		}
		return nil
	})
}

// ReplaceAll empties every catalog table, ledger_entries and commits, then inserts rows, in one
// transaction: a clean database for one test case.
func (p *Postgres) ReplaceAll(ctx context.Context, rows Rows) error {
	canon, err := canonicalRows(p.cat, rows)
	if err != nil {
		return err
	}
	tables := append(p.cat.Tables(), ledgerTable, "commits")
	sort.Strings(tables)
	tables = sortedUnique(tables)
	quoted := make([]string, len(tables))
	for i, t := range tables {
		quoted[i] = quoteIdent(t)
	}
	return p.write(ctx, canon, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(quoted, ", ")); err != nil {
			return fmt.Errorf("facts: truncate: %w", err)
		}
		return nil
	})
}

// write runs clear and then copies canonical rows in, all in one transaction.
func (p *Postgres) write(ctx context.Context, canon Rows, clear func(context.Context, pgx.Tx) error) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return classify(fmt.Errorf("facts: begin: %w", err))
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := clear(ctx, tx); err != nil {
		return classify(err)
	}
	for _, name := range sortedTables(canon) {
		if err := copyRows(ctx, tx, p.cat.tables[name], canon[name]); err != nil {
			return classify(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return classify(fmt.Errorf("facts: commit: %w", err))
	}
	return nil
}

// copyRows inserts rows with COPY. A column without a catalog default that is NULL in every row is
// left out, so the migration's default (such as created_at's now()) applies; a column with one is
// NULL only where a row says so, and must stay NULL.
func copyRows(ctx context.Context, tx pgx.Tx, t *table, rows []map[string]any) error {
	if len(rows) == 0 {
		return nil
	}
	var cols []*column
	for _, cl := range t.columns {
		for _, r := range rows {
			if r[cl.name] != nil || cl.hasDefault {
				cols = append(cols, cl)
				break
			}
		}
	}
	names := make([]string, len(cols))
	for i, cl := range cols {
		names[i] = cl.name
	}
	values := make([][]any, len(rows))
	for i, r := range rows {
		vs := make([]any, len(cols))
		for j, cl := range cols {
			vs[j] = dbValue(cl.typ, r[cl.name])
		}
		values[i] = vs
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, names, pgx.CopyFromRows(values)); err != nil {
		return fmt.Errorf("facts: insert %d rows into %s: %w", len(rows), t.name, err)
	}
	return nil
}
