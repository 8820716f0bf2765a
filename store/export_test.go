package store

import (
	"context"
	"sort"

	"github.com/jackc/pgx/v5/pgxpool"
)

// OpenPostgresWith opens the store with a test's changes to the pool configuration (tracers).
func OpenPostgresWith(ctx context.Context, url string, c *Catalog, configure func(*pgxpool.Config)) (*Postgres, error) {
	return openPostgres(ctx, url, c, configure)
}

// ColumnInfo describes a declared column for the schema conformance test.
type ColumnInfo struct {
	Name, Type, SQLType string
	Default             any
	HasDefault          bool
	NotNull             bool // primary key, default or required
}

// TableInfo returns a declared table's primary key and columns in declaration order.
func TableInfo(c *Catalog, name string) (pk []string, cols []ColumnInfo) {
	t := c.tables[name]
	for _, cl := range t.columns {
		cols = append(cols, ColumnInfo{Name: cl.name, Type: cl.typ.String(), SQLType: cl.typ.sqlType(), Default: cl.def, HasDefault: cl.hasDefault, NotNull: t.notNull(cl)})
	}
	return t.pk, cols
}

// CanonicalFromDB converts a value read as the column type's SQL type to its canonical form.
func CanonicalFromDB(typ string, scan func(dest any) error) (any, error) {
	t := typeNames[typ]
	dest := newScanTarget(t)
	if err := scan(dest); err != nil {
		return nil, err
	}
	return canonicalScanned(t, dest)
}

// ProviderSQL is the statement the PostgreSQL store runs for a provider.
func ProviderSQL(c *Catalog, name string) string { return selectSQL(c.providers[name]) }

// ProviderNames lists every provider, sorted.
func ProviderNames(c *Catalog) []string {
	out := make([]string, 0, len(c.providers))
	for name := range c.providers {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
