package facts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// Lookup asks one provider for the rows matching Key; the result is facts[Name].
type Lookup struct {
	Name     string
	Provider string
	Key      map[string]any
	Field    string // the request field the key came from, for errors
}

// Facts are lookup results by name.
type Facts map[string]any

// Store loads facts and runs commits.
type Store interface {
	Load(ctx context.Context, lookups []Lookup) (Facts, error)
	Commit(ctx context.Context, locks []string, fn func(ctx context.Context, tx Tx) error) error
	Ping(ctx context.Context) error
	Close()
}

// Tx is a commit's view of the store, inside its transaction and locks.
type Tx interface {
	Load(ctx context.Context, lookups []Lookup) (Facts, error)
	FindCommit(ctx context.Context, decision, idempotencyKey string) (*CommitRecord, error)
	SaveCommit(ctx context.Context, rec CommitRecord, entries []LedgerEntry) error
}

// CommitRecord is a recorded commit answer, keyed by decision and idempotency key.
type CommitRecord struct {
	Decision, IdempotencyKey, RequestHash, DecisionID string
	Answer                                            json.RawMessage
	CreatedAt                                         time.Time
}

// LedgerEntry is one unit of consumption against a limit key.
type LedgerEntry struct {
	Key    string
	Amount decimal.Decimal
}

var (
	// ErrNotFound is matched by every *NotFoundError.
	ErrNotFound = errors.New("facts: not found")
	// ErrUnavailable wraps connection-level failures of the store.
	ErrUnavailable = errors.New("facts: store unavailable")
)

// NotFoundError is a required fact that does not exist.
type NotFoundError struct {
	Provider string
	Field    string
	Key      map[string]any
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("facts: no %s matches %v", e.Provider, e.Key)
}

// Is matches ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Code is the machine code of a missing fact.
func (e *NotFoundError) Code() string { return "fact_not_found" }
