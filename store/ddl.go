package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"gopkg.in/yaml.v3"
)

// parseRequired reads a column's required flag, which must be true or false.
func parseRequired(file, where string, n *yaml.Node, ps *problems) bool {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		ps.add(file, n.Line, "%s: required must be true or false", where)
		return false
	}
	return n.Value == "true"
}

// notNull reports whether PostgreSQL refuses NULL in cl: primary key columns, columns with a
// default (a row never lacks the value) and required columns.
func (t *table) notNull(cl *column) bool {
	return cl.hasDefault || cl.required || slices.Contains(t.pk, cl.name)
}

// columnSQL is cl's definition in CREATE TABLE or ALTER TABLE ADD COLUMN.
func (t *table) columnSQL(cl *column) string {
	s := quoteIdent(cl.name) + " " + cl.typ.sqlType()
	if t.notNull(cl) {
		s += " NOT NULL"
	}
	if cl.hasDefault {
		s += " DEFAULT " + sqlLiteral(cl.typ, cl.def)
	}
	return s
}

// createSQL creates t unless a table of that name exists.
func (t *table) createSQL() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (\n", quoteIdent(t.name))
	for _, cl := range t.columns {
		fmt.Fprintf(&b, "    %s,\n", t.columnSQL(cl))
	}
	pk := make([]string, len(t.pk))
	for i, name := range t.pk {
		pk[i] = quoteIdent(name)
	}
	fmt.Fprintf(&b, "    PRIMARY KEY (%s)\n)", strings.Join(pk, ", "))
	return b.String()
}

// sqlLiteral renders a canonical value of type t as a constant of the column's SQL type.
func sqlLiteral(t colType, v any) string {
	var s string
	switch t {
	case typeInt:
		return strconv.FormatInt(v.(int64), 10)
	case typeBool:
		return strconv.FormatBool(v.(bool))
	case typeTextArray:
		list := v.([]any)
		if len(list) == 0 {
			return "'{}'::text[]"
		}
		elems := make([]string, len(list))
		for i, e := range list {
			elems[i] = quoteLiteral(e.(string))
		}
		return "ARRAY[" + strings.Join(elems, ", ") + "]::text[]"
	case typeDecimal:
		return v.(string) // canonical: digits, an optional sign and point, no exponent
	case typeJSON:
		raw, _ := encodeJSON(v) // a canonical value always encodes
		s = string(raw)
	default: // text, date and timestamp are canonical strings
		s = v.(string)
	}
	return quoteLiteral(s) + "::" + t.sqlType()
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// index is an index a provider's lookups need.
type index struct {
	name, table string
	columns     []string
}

func (ix index) createSQL() string {
	cols := make([]string, len(ix.columns))
	for i, c := range ix.columns {
		cols[i] = quoteIdent(c)
	}
	return fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)", quoteIdent(ix.name), quoteIdent(ix.table), strings.Join(cols, ", "))
}

// neededIndexes returns, for every provider whose by columns no existing index leads with, an index on
// the by columns followed by the provider's order (so that the lookup reads rows in order). A lookup
// that gives the whole primary key reads one row through it and needs nothing more. existing holds
// each table's indexes as column lists, the primary key included; indexes planned here count as
// existing for the providers after them, widest first.
func (c *Catalog) neededIndexes(existing map[string][][]string) []index {
	names := make([]string, 0, len(c.providers))
	for name := range c.providers {
		names = append(names, name)
	}
	cols := func(p *provider) []string {
		out := slices.Clone(p.By)
		for _, cl := range p.orderBy {
			if !slices.Contains(out, cl.name) {
				out = append(out, cl.name)
			}
		}
		return out
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := c.providers[names[i]], c.providers[names[j]]
		if la, lb := len(cols(a)), len(cols(b)); la != lb {
			return la > lb
		}
		return names[i] < names[j]
	})
	have := map[string][][]string{}
	for table, list := range existing {
		have[table] = slices.Clone(list)
	}
	for _, t := range c.tables {
		have[t.name] = append(have[t.name], t.pk)
	}
	var out []index
	for _, name := range names {
		p := c.providers[name]
		if !slices.ContainsFunc(p.table.pk, func(col string) bool { return !slices.Contains(p.By, col) }) {
			continue
		}
		if slices.ContainsFunc(have[p.Table], func(ix []string) bool { return leadsWith(ix, p.By) }) {
			continue
		}
		ix := index{name: indexName(p.Table, p.By), table: p.Table, columns: cols(p)}
		have[p.Table] = append(have[p.Table], ix.columns)
		out = append(out, ix)
	}
	return out
}

// leadsWith reports whether the first len(by) columns of ix are the columns of by, in any order:
// equality on all of them can use the index either way.
func leadsWith(ix, by []string) bool {
	if len(by) == 0 || len(ix) < len(by) {
		return false
	}
	for _, col := range ix[:len(by)] {
		if !slices.Contains(by, col) {
			return false
		}
	}
	return true
}

// indexName is <table>_<by columns>_idx, shortened with a digest to PostgreSQL's 63 bytes.
func indexName(table string, by []string) string {
	name := table + "_" + strings.Join(by, "_") + "_idx"
	if len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return name[:50] + "_" + hex.EncodeToString(sum[:4]) + "_idx"
}

// DDL returns the statements that create the catalog's tables and the indexes its providers need,
// for an empty database ([Migrate] creates only what is missing).
func (c *Catalog) DDL() []string {
	var out []string
	for _, name := range c.names {
		out = append(out, c.tables[name].createSQL())
	}
	for _, ix := range c.neededIndexes(nil) {
		out = append(out, ix.createSQL())
	}
	return out
}

// DriftError is a difference between a table in the database and the catalog that Migrate does not
// repair by itself.
type DriftError struct {
	Table, Column string // Column is empty for a difference of the whole table (its primary key)
	Detail        string
}

func (e *DriftError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("facts: migrate: table %s: %s", e.Table, e.Detail)
	}
	return fmt.Sprintf("facts: migrate: table %s column %s: %s", e.Table, e.Column, e.Detail)
}

// dbColumn is a column as information_schema describes it.
type dbColumn struct {
	udt      string
	nullable bool
	def      *string
}

// dbTable is what the database holds for a catalog table.
type dbTable struct {
	columns map[string]dbColumn
	pk      []string
	indexes [][]string // column lists, the primary key included
}

// readTables describes the tables of names that exist in the current schema.
func readTables(ctx context.Context, tx pgx.Tx, names []string) (map[string]*dbTable, error) {
	out := map[string]*dbTable{}
	rows, err := tx.Query(ctx, `SELECT table_name, column_name, udt_name, is_nullable = 'YES', column_default
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ANY($1)`, names)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var table, name string
		var col dbColumn
		if err := rows.Scan(&table, &name, &col.udt, &col.nullable, &col.def); err != nil {
			rows.Close()
			return nil, err
		}
		if out[table] == nil {
			out[table] = &dbTable{columns: map[string]dbColumn{}}
		}
		out[table].columns[name] = col
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Plain column indexes only: an expression or partial index serves other queries.
	rows, err = tx.Query(ctx, `SELECT c.relname, i.indisprimary,
			array(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
				JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord)
		FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1)
			AND i.indexprs IS NULL AND i.indpred IS NULL`, names)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var table string
		var primary bool
		var cols []string
		if err := rows.Scan(&table, &primary, &cols); err != nil {
			rows.Close()
			return nil, err
		}
		if t := out[table]; t != nil {
			t.indexes = append(t.indexes, cols)
			if primary {
				t.pk = cols
			}
		}
	}
	return out, rows.Err()
}

// udtNames are the information_schema udt_name values a column of each type may have; an int column
// may be narrower than bigint, since every integer scans as int64.
var udtNames = map[colType][]string{
	typeText: {"text"}, typeInt: {"int8", "int4", "int2"}, typeBool: {"bool"}, typeDecimal: {"numeric"},
	typeDate: {"date"}, typeTimestamp: {"timestamptz"}, typeTextArray: {"_text"}, typeJSON: {"jsonb"},
}

// reconcile compares an existing table with t: it adds the declared columns the table lacks when
// that needs no value for existing rows (nullable or with a default), and returns every other
// difference.
func (t *table) reconcile(ctx context.Context, tx pgx.Tx, db *dbTable) ([]error, error) {
	var drift []error
	report := func(col, format string, args ...any) {
		drift = append(drift, &DriftError{Table: t.name, Column: col, Detail: fmt.Sprintf(format, args...)})
	}
	for _, cl := range t.columns {
		got, ok := db.columns[cl.name]
		if !ok {
			if t.notNull(cl) && !cl.hasDefault {
				report(cl.name, "missing, and it cannot be added without a value for the existing rows (%s NOT NULL without a default)", cl.typ)
				continue
			}
			if _, err := tx.Exec(ctx, "ALTER TABLE "+quoteIdent(t.name)+" ADD COLUMN "+t.columnSQL(cl)); err != nil {
				return nil, fmt.Errorf("facts: migrate: table %s: add column %s: %w", t.name, cl.name, err)
			}
			continue
		}
		if !slices.Contains(udtNames[cl.typ], got.udt) {
			report(cl.name, "the catalog says %s (%s) but the database has %s", cl.typ, cl.typ.sqlType(), got.udt)
			continue
		}
		switch want := t.notNull(cl); {
		case want && got.nullable:
			report(cl.name, "the catalog never gives NULL (primary key, default or required) but the database column allows it")
		case !want && !got.nullable && got.def == nil:
			report(cl.name, "the database column is NOT NULL but the catalog allows NULL and declares no default (mark it required)")
		}
		if cl.hasDefault {
			if got.def == nil {
				report(cl.name, "the catalog default is %s but the database column has none", sqlLiteral(cl.typ, cl.def))
				continue
			}
			if v, err := evalDefault(ctx, tx, cl.typ, *got.def); err != nil || !reflect.DeepEqual(v, cl.def) {
				report(cl.name, "the catalog default is %s but the database's is %s", sqlLiteral(cl.typ, cl.def), *got.def)
			}
		}
	}
	extra := make([]string, 0, len(db.columns))
	for name := range db.columns {
		extra = append(extra, name)
	}
	sort.Strings(extra)
	for _, name := range extra {
		if col := db.columns[name]; t.byName[name] == nil && !col.nullable && col.def == nil {
			report(name, "not in the catalog, and NOT NULL without a default: rows from the catalog cannot be inserted")
		}
	}
	if !slices.Equal(db.pk, t.pk) {
		report("", "the catalog primary key is (%s) but the database's is (%s)", strings.Join(t.pk, ", "), strings.Join(db.pk, ", "))
	}
	return drift, nil
}

// evalDefault evaluates a column default expression of the database as a canonical value of type t.
func evalDefault(ctx context.Context, tx pgx.Tx, t colType, expr string) (any, error) {
	dest := newScanTarget(t)
	// A savepoint keeps an expression that fails from aborting the migration's transaction.
	sub, err := tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer sub.Rollback(ctx) //nolint:errcheck // nothing was written
	if err := sub.QueryRow(ctx, fmt.Sprintf("SELECT (%s)::%s", expr, t.sqlType())).Scan(dest); err != nil {
		return nil, err
	}
	return canonicalScanned(t, dest)
}
