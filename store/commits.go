package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrCommitExists is returned by SaveCommit when a commit under the same decision and idempotency key
// was stored since the transaction looked for one: looking again finds it.
var ErrCommitExists = errors.New("a commit with this idempotency key already exists")

// ErrOverloaded is matched when no database connection freed up in time while the database itself
// answers: the service is at capacity, not the store unavailable.
var ErrOverloaded = errors.New("no database connection free in time")

// CommitFinder reads stored commits outside a commit transaction.
type CommitFinder interface {
	// FindCommit returns the commit stored under the decision and idempotency key, or nil, nil.
	FindCommit(ctx context.Context, decision, idempotencyKey string) (*CommitRecord, error)
}

// FindCommit returns the commit stored under the decision and idempotency key, or nil, nil.
func (m *Memory) FindCommit(_ context.Context, decision, idempotencyKey string) (*CommitRecord, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	rec, ok := m.commits[commitKey{decision, idempotencyKey}]
	if !ok {
		return nil, nil
	}
	return &rec, nil
}

// FindCommit returns the commit stored under the decision and idempotency key, or nil, nil.
func (p *Postgres) FindCommit(ctx context.Context, decision, idempotencyKey string) (*CommitRecord, error) {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return nil, acquireError(ctx, p, err)
	}
	defer conn.Release()
	return findCommit(ctx, conn, decision, idempotencyKey)
}

type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func findCommit(ctx context.Context, q queryRower, decision, idempotencyKey string) (*CommitRecord, error) {
	var rec CommitRecord
	var answer []byte
	err := q.QueryRow(ctx, `SELECT decision, idempotency_key, request_hash, decision_id, answer, created_at
		FROM commits WHERE decision = $1 AND idempotency_key = $2`, decision, idempotencyKey).
		Scan(&rec.Decision, &rec.IdempotencyKey, &rec.RequestHash, &rec.DecisionID, &answer, &rec.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, classify(fmt.Errorf("facts: find commit: %w", err))
	}
	rec.Answer = answer
	return &rec, nil
}

// commitExists marks the unique violation of a second commit under one key as ErrCommitExists.
func commitExists(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.TableName == "commits" {
		return fmt.Errorf("%w: %w", ErrCommitExists, err)
	}
	return err
}
