// Package store declares the facts policies decide on and serves them from memory or PostgreSQL.
//
// # Catalog
//
// facts/<domain>.yaml declares tables (typed columns with defaults, a primary key) and providers
// (a lookup of one table by equality on some of its columns):
//
//	tables:
//	  market_accounts:
//	    primary_key: [id]
//	    columns:
//	      id: {type: text}
//	      balance: {type: decimal, default: "0"}
//	      owner_id: {type: text, required: true}
//	providers:
//	  market.account: {table: market_accounts, by: [id], one: true}
//
// Column types are text, int, bool, decimal, date, timestamp, text[] and json. [LoadCatalog] reads
// every *.yaml of a folder and reports every problem at once, each as file:line.
//
// # Schema
//
// The catalog is the PostgreSQL schema of the fact tables: [Migrate] applies the engine's own
// migrations (migrations/NNN_<name>.sql: ledger, commits, decision log), then creates each missing
// catalog table ([Catalog.DDL]: NOT NULL for primary key, defaulted and required columns, the
// defaults, the primary key) and an index for every provider whose by columns no index leads with. A
// table that exists gets the missing columns that need no value for its rows; any other difference is
// a [*DriftError] naming the table and column.
//
// # Values
//
// Both stores give the same canonical values, so a policy cannot tell them apart: decimal as its
// shortest decimal string ("500.00" reads back as "500"), int as int64, bool, text as string, date as
// "YYYY-MM-DD", timestamp as RFC 3339 in UTC ("2025-06-07T04:00:00Z"), text[] as []any of strings,
// json decoded (whole numbers int64, other numbers decimal strings), NULL as nil. A row is a
// map[string]any holding every declared column, defaults applied. A one provider answers with the row
// (none is a [*NotFoundError], naming the request field the key came from); a many provider answers
// with []any of rows ordered by order_by, then the primary key (text byte-wise, NULLs last).
//
// # Rows
//
// Fixtures and a test case's given are YAML rows by table, checked by [ParseRows] and
// [ParseRowsNode] (file:line errors; decimals must be quoted strings or integers, never bare
// floats). Anchors and merge keys (<<: *base) work for rows, json values and the tables of a given;
// a key or a primary key given twice is an error. Catalog and fixture files are read within the YAML
// budget of every file the service reads (size, nesting, nodes, alias expansion; see
// internal/strictyaml): a breach is "file:line: over budget: ...". Only values PostgreSQL can store are accepted
// (no NUL in text, years 1 to 9999, numeric's digits). [LoadRowsDir] merges a folder of them and
// refuses a primary key given twice across files.
//
// # Stores
//
// [Store] is what the engine uses. [NewMemory] indexes rows once per provider; its Load allocates
// little more than the answer map. [OpenPostgres] sends all lookups of one Load in one batch. A commit
// ([Store.Commit]) runs under locks on its keys (PostgreSQL advisory transaction locks, taken in sorted
// order; one process lock in memory): inside, [Tx.Load] sees every earlier commit, and
// [Tx.SaveCommit] records the answer and appends ledger entries that later ledger.usage lookups
// return, stamped with a time read once the locks are held (so created_at follows commit order), and
// the decision's log record ([CommitRecord].Log: the decision_log table, or [Memory.LogTo]), so that a
// commit is logged exactly when it is stored. If the function fails, nothing it wrote remains. A
// store that cannot be reached fails with an error matching [ErrUnavailable].
package store
