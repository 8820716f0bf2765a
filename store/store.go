package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Lookup asks one provider for the rows whose By columns equal Key; the answer is Facts[Name].
type Lookup struct {
	Name     string
	Provider string
	Key      map[string]any // column -> value
	Field    string         // the request field the key came from (input.account_id), for errors; may be empty
}

// Facts are lookup answers by lookup name: a row (map[string]any) for a one provider, []any of rows otherwise.
// The values are shared with the store and must not be modified.
type Facts map[string]any

// Store loads facts and runs commits; Memory and Postgres answer identically for the same rows.
type Store interface {
	// Load answers every lookup; a one provider without a row fails with a *NotFoundError.
	Load(ctx context.Context, lookups []Lookup) (Facts, error)
	// Commit runs fn under the locks (taken in sorted order); fn's error undoes everything it wrote.
	Commit(ctx context.Context, locks []string, fn func(ctx context.Context, tx Tx) error) error
	Ping(ctx context.Context) error
	Close()
}

// Tx is a commit's view of the store, inside its locks: loads see every earlier commit.
type Tx interface {
	Load(ctx context.Context, lookups []Lookup) (Facts, error)
	// FindCommit returns the commit stored under the decision and idempotency key, or nil, nil.
	FindCommit(ctx context.Context, decision, idempotencyKey string) (*CommitRecord, error)
	// SaveCommit stores the answer, appends entries to ledger_entries (created_at is the store's now)
	// and, when rec.Log is set, the decision's log record: all of them are stored, or none.
	SaveCommit(ctx context.Context, rec CommitRecord, entries []LedgerEntry) error
}

// CommitRecord is a committed answer, unique by decision and idempotency key.
type CommitRecord struct {
	Decision, IdempotencyKey, RequestHash, DecisionID string
	Caller                                            string // who asked: "key:<id>", "jwt:<subject>", …
	Answer                                            json.RawMessage
	CreatedAt                                         time.Time
	// Log is the decision's record in the decision log, written by SaveCommit in the commit's
	// transaction so that a commit is logged exactly when it is stored; FindCommit leaves it nil.
	Log *LogRecord
}

// LogRecord is one decision in the decision log: its envelope, and the input and facts it was made on.
type LogRecord struct {
	ID, Decision, Version, Outcome string
	Caller                         string    // who asked: "key:<id>", "jwt:<subject>", "anonymous"; empty before callers were recorded
	AsOf, RecordedAt               time.Time // a zero RecordedAt is the store's now
	Envelope, Input, Facts         json.RawMessage
}

// LedgerEntry is an amount consumed (positive) or released (negative) against a limit key.
type LedgerEntry struct {
	Key    string
	Amount decimal.Decimal
}

var (
	// ErrNotFound is matched by every *NotFoundError.
	ErrNotFound = errors.New("fact not found")
	// ErrUnavailable is matched when the store cannot be reached (server down, connection refused or
	// lost, pool closed, no connection in time); the request may succeed later.
	ErrUnavailable = errors.New("fact store unavailable")
)

// NotFoundError is a one provider's lookup without a row.
type NotFoundError struct {
	Provider string
	Field    string // the request field the key came from; may be empty
	Key      map[string]any
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("fact_not_found: no %s row for %s", e.Provider, formatKey(e.Key))
	if e.Field != "" {
		msg += " (from " + e.Field + ")"
	}
	return msg
}

// Is matches ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Code is the problem code of a missing fact.
func (e *NotFoundError) Code() string { return "fact_not_found" }

func formatKey(key map[string]any) string {
	cols := make([]string, 0, len(key))
	for c := range key {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = fmt.Sprintf("%s=%v", c, key[c])
	}
	return strings.Join(parts, ", ")
}

// unavailableError marks a connection-level failure while keeping the cause reachable.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string        { return "fact store unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() error        { return e.err }
func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

// resolve finds the lookup's provider and checks that the key gives exactly its by columns.
func (c *Catalog) resolve(l Lookup) (*provider, error) {
	p, found := c.providers[l.Provider]
	if !found {
		return nil, fmt.Errorf("facts: %s: unknown provider %q", l.Name, l.Provider)
	}
	if len(l.Key) != len(p.by) {
		return nil, fmt.Errorf("facts: %s: provider %s is looked up by %v, got key {%s}", l.Name, p.Name, p.By, formatKey(l.Key))
	}
	for _, cl := range p.by {
		if _, ok := l.Key[cl.name]; !ok {
			return nil, fmt.Errorf("facts: %s: provider %s is looked up by %v, got key {%s}", l.Name, p.Name, p.By, formatKey(l.Key))
		}
	}
	return p, nil
}

// keyValue converts one lookup key value to the canonical value of cl; ok is false when it cannot
// equal any stored value (NULL, or a value of another type): the lookup then matches nothing.
func keyValue(cl *column, v any) (any, bool) {
	if s, isString := v.(string); isString && cl.typ == typeText {
		return s, checkText(s) == nil // no stored text holds NUL or invalid UTF-8
	}
	cv, err := cl.typ.coerce(v)
	if err != nil || cv == nil {
		return nil, false
	}
	return cv, true
}

// indexKey appends the index key of a lookup to buf.
func (p *provider) indexKey(key map[string]any, buf []byte) ([]byte, bool) {
	for i, cl := range p.by {
		v, ok := keyValue(cl, key[cl.name])
		if !ok {
			return buf, false
		}
		if i > 0 {
			buf = append(buf, 0)
		}
		buf = appendKey(buf, v)
	}
	return buf, true
}

// rowKey is the index key of a stored row for p; ok is false when a by column is NULL.
func (p *provider) rowKey(row map[string]any) (string, bool) {
	if len(p.by) == 1 {
		if s, ok := row[p.by[0].name].(string); ok {
			return s, true
		}
	}
	var buf []byte
	for i, cl := range p.by {
		v := row[cl.name]
		if v == nil {
			return "", false
		}
		if i > 0 {
			buf = append(buf, 0)
		}
		buf = appendKey(buf, v)
	}
	return string(buf), true
}
