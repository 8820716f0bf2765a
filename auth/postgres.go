package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresKeys keeps keys in the api_keys table (migration 002_auth.sql). Lookups read the table on every
// request, so a revocation is refused at once by every replica sharing the database.
type PostgresKeys struct {
	pool *pgxpool.Pool
	// seen holds each key as last read from the database, by id: while the database cannot be
	// reached, a key read within OutageGrace keeps answering, so decisions that need no facts go on.
	mu   sync.Mutex
	seen map[string]seenKey
}

type seenKey struct {
	key Key
	at  time.Time
}

// OutageGrace is how long a key read from the database keeps being accepted while the database
// cannot be reached. Revocation needs the database, so it is immediate whenever the database answers.
const OutageGrace = time.Minute

// NewPostgresKeys reads and writes keys through pool.
func NewPostgresKeys(pool *pgxpool.Pool) *PostgresKeys {
	return &PostgresKeys{pool: pool, seen: map[string]seenKey{}}
}

const keyColumns = `id, name, key_sha256, scopes, created_at, revoked_at`

// Lookup implements KeyStore.
func (p *PostgresKeys) Lookup(ctx context.Context, id string) (Key, error) {
	k, err := p.lookup(ctx, id)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case err == nil:
		p.seen[id] = seenKey{key: k, at: time.Now()}
		return k, nil
	case errors.Is(err, ErrUnknownKey):
		delete(p.seen, id)
		return Key{}, err
	}
	if s, ok := p.seen[id]; ok && time.Since(s.at) < OutageGrace {
		return s.key, nil
	}
	return Key{}, err
}

func (p *PostgresKeys) lookup(ctx context.Context, id string) (Key, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id)
	if err != nil {
		return Key{}, storeError("look up key", err)
	}
	keys, err := scanKeys(rows)
	if err != nil {
		return Key{}, storeError("look up key", err)
	}
	if len(keys) == 0 {
		return Key{}, ErrUnknownKey
	}
	return keys[0], nil
}

// Create stores a new key and returns it with the secret, which is not kept.
func (p *PostgresKeys) Create(ctx context.Context, name string, scopes []string) (string, Key, error) {
	secret, k, err := NewKey(name, scopes, time.Now())
	if err != nil {
		return "", Key{}, err
	}
	_, err = p.pool.Exec(ctx, `INSERT INTO api_keys (id, name, key_sha256, scopes, created_at) VALUES ($1, $2, $3, $4, $5)`,
		k.ID, k.Name, k.SHA256, k.Scopes, k.CreatedAt)
	if err != nil {
		return "", Key{}, storeError("create key", err)
	}
	return secret, k, nil
}

// List returns every key, revoked ones included, oldest first.
func (p *PostgresKeys) List(ctx context.Context) ([]Key, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, storeError("list keys", err)
	}
	keys, err := scanKeys(rows)
	if err != nil {
		return nil, storeError("list keys", err)
	}
	return keys, nil
}

// Revoke marks a key revoked; ErrUnknownKey when there is no such key. Revoking twice keeps the
// first time.
func (p *PostgresKeys) Revoke(ctx context.Context, id string) error {
	tag, err := p.pool.Exec(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1`, id)
	if err != nil {
		return storeError("revoke key", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrUnknownKey
	}
	return nil
}

func scanKeys(rows pgx.Rows) ([]Key, error) {
	defer rows.Close()
	var out []Key
	for rows.Next() {
		var k Key
		if err := rows.Scan(&k.ID, &k.Name, &k.SHA256, &k.Scopes, &k.CreatedAt, &k.RevokedAt); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// storeError marks failures to reach the database as ErrUnavailable; a missing table says which
// command creates it.
func storeError(what string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if pgErr.Code == "42P01" { // undefined_table
			return fmt.Errorf("auth: %s: the api_keys table does not exist (run arbiter migrate): %w", what, err)
		}
		return fmt.Errorf("auth: %s: %w", what, err)
	}
	return fmt.Errorf("auth: %s: %w: %w", what, ErrUnavailable, err)
}
