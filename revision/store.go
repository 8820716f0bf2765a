package revision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Channel is the PostgreSQL NOTIFY channel a publish signals, with the new revision's number as payload.
const Channel = "arbiter_revisions"

// publishLockKey serialises publishes on one database ("arbiter" + 13).
const publishLockKey = int64(0x61726269746572 + 13)

// ErrNotFound means no such revision (or draft).
var ErrNotFound = errors.New("revision: not found")

// ErrNoChange means the tree to publish is the one already served.
var ErrNoChange = errors.New("revision: the tree is identical to the latest revision; nothing to publish")

// Revision is one published policy tree and its place in the history.
type Revision struct {
	Seq          int64     `json:"seq"`
	Tree         string    `json:"tree"`
	Parent       int64     `json:"parent,omitempty"`
	Author       string    `json:"author"`
	Message      string    `json:"message"`
	CreatedAt    time.Time `json:"created_at"`
	RestoredFrom int64     `json:"restored_from,omitempty"`
	Diff         Diff      `json:"diff"`
}

// Name is how people refer to the revision: r<seq>.
func (r Revision) Name() string { return "r" + strconv.FormatInt(r.Seq, 10) }

// Meta describes a publish.
type Meta struct {
	Author, Message string
	RestoredFrom    int64 // set by Rollback
	// Parent, when set, is the revision the tree was made on: the publish fails with ErrConflict when
	// another one became the latest meanwhile.
	Parent int64
}

// Store keeps revisions in PostgreSQL (tables of migration 002).
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns a store over pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Pool returns the store's pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

const revisionColumns = `seq, tree, coalesce(parent, 0), author, message, created_at, coalesce(restored_from, 0), diff`

func scanRevision(row pgx.Row) (Revision, error) {
	var r Revision
	var diff []byte
	if err := row.Scan(&r.Seq, &r.Tree, &r.Parent, &r.Author, &r.Message, &r.CreatedAt, &r.RestoredFrom, &diff); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return r, ErrNotFound
		}
		return r, fmt.Errorf("revision: %w", err)
	}
	if err := json.Unmarshal(diff, &r.Diff); err != nil {
		return r, fmt.Errorf("revision r%d: diff: %w", r.Seq, err)
	}
	return r, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Head returns the latest revision; ErrNotFound when none was published.
func (s *Store) Head(ctx context.Context) (Revision, error) {
	return head(ctx, s.pool)
}

func head(ctx context.Context, q querier) (Revision, error) {
	return scanRevision(q.QueryRow(ctx, `SELECT `+revisionColumns+` FROM policy_revisions ORDER BY seq DESC LIMIT 1`))
}

// Get returns revision seq.
func (s *Store) Get(ctx context.Context, seq int64) (Revision, error) {
	return scanRevision(s.pool.QueryRow(ctx, `SELECT `+revisionColumns+` FROM policy_revisions WHERE seq = $1`, seq))
}

// Resolve finds a revision by reference: "head", a number ("12" or "r12"), or a tree digest prefix
// ("sha256:ab12…", the latest revision of that tree).
func (s *Store) Resolve(ctx context.Context, ref string) (Revision, error) {
	ref = strings.TrimSpace(ref)
	if ref == "head" || ref == "latest" {
		return s.Head(ctx)
	}
	if n, err := strconv.ParseInt(strings.TrimPrefix(ref, "r"), 10, 64); err == nil {
		return s.Get(ctx, n)
	}
	if strings.HasPrefix(ref, "sha256:") && len(ref) >= len("sha256:")+6 {
		return scanRevision(s.pool.QueryRow(ctx, `SELECT `+revisionColumns+` FROM policy_revisions WHERE tree LIKE $1 || '%' ORDER BY seq DESC LIMIT 1`, ref))
	}
	return Revision{}, fmt.Errorf("revision %q: %w (use a number such as r3, head, or a tree digest prefix)", ref, ErrNotFound)
}

// List returns the latest revisions, newest first (limit <= 0: all).
func (s *Store) List(ctx context.Context, limit int) ([]Revision, error) {
	q := `SELECT ` + revisionColumns + ` FROM policy_revisions ORDER BY seq DESC`
	if limit > 0 {
		q += " LIMIT " + strconv.Itoa(limit)
	}
	rows, err := s.pool.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("revision: list: %w", err)
	}
	defer rows.Close()
	var out []Revision
	for rows.Next() {
		r, err := scanRevision(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Tree returns the files of revision seq.
func (s *Store) Tree(ctx context.Context, seq int64) (Tree, error) {
	return loadTree(ctx, s.pool, seq)
}

func loadTree(ctx context.Context, q querier, seq int64) (Tree, error) {
	rows, err := q.Query(ctx, `SELECT f.path, b.content FROM policy_revisions r
		JOIN policy_tree_files f ON f.tree = r.tree JOIN policy_blobs b ON b.digest = f.blob WHERE r.seq = $1`, seq)
	if err != nil {
		return nil, fmt.Errorf("revision r%d: files: %w", seq, err)
	}
	defer rows.Close()
	t := Tree{}
	for rows.Next() {
		var p string
		var c []byte
		if err := rows.Scan(&p, &c); err != nil {
			return nil, fmt.Errorf("revision r%d: files: %w", seq, err)
		}
		t[p] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("revision r%d: files: %w", seq, err)
	}
	if len(t) == 0 {
		return nil, fmt.Errorf("revision r%d: %w", seq, ErrNotFound)
	}
	return t, nil
}

// publishedFiles returns every content each version file has had in some revision.
func publishedFiles(ctx context.Context, q querier) (map[string][][]byte, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT f.path, b.content FROM policy_tree_files f
		JOIN policy_blobs b ON b.digest = f.blob
		WHERE f.tree IN (SELECT tree FROM policy_revisions) AND (f.path LIKE 'policies/%' OR f.path LIKE 'rules/%')`)
	if err != nil {
		return nil, fmt.Errorf("revision: published files: %w", err)
	}
	defer rows.Close()
	out := map[string][][]byte{}
	for rows.Next() {
		var p string
		var c []byte
		if err := rows.Scan(&p, &c); err != nil {
			return nil, fmt.Errorf("revision: published files: %w", err)
		}
		if immutableFile(p) {
			out[p] = append(out[p], c)
		} else if _, ok := VersionOf(p); ok {
			out[p] = append(out[p], nil) // tests.yaml: only its existence matters
		}
	}
	return out, rows.Err()
}

// Publish stores t as the new latest revision and notifies every replica (on commit). It refuses a tree
// that changes a published version (*ImmutabilityError) and one identical to the latest (ErrNoChange).
func (s *Store) Publish(ctx context.Context, t Tree, meta Meta) (Revision, error) {
	if strings.TrimSpace(meta.Message) == "" {
		return Revision{}, errors.New("revision: a publish needs a message")
	}
	if meta.Author == "" {
		meta.Author = "unknown"
	}
	var out Revision
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, publishLockKey); err != nil {
			return err
		}
		var parent Tree
		prev, err := head(ctx, tx)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		default:
			if meta.Parent != 0 && prev.Seq != meta.Parent {
				return fmt.Errorf("r%d was published meanwhile: %w", prev.Seq, ErrConflict)
			}
			if prev.Tree == t.Digest() {
				return ErrNoChange
			}
			if parent, err = loadTree(ctx, tx, prev.Seq); err != nil {
				return err
			}
		}
		published, err := publishedFiles(ctx, tx)
		if err != nil {
			return err
		}
		if err := CheckImmutable(published, t); err != nil {
			return err
		}
		digest := t.Digest()
		if _, err := tx.Exec(ctx, `INSERT INTO policy_trees (digest) VALUES ($1) ON CONFLICT DO NOTHING`, digest); err != nil {
			return err
		}
		batch := &pgx.Batch{}
		for _, p := range t.Paths() {
			b := BlobDigest(t[p])
			batch.Queue(`INSERT INTO policy_blobs (digest, content) VALUES ($1, $2) ON CONFLICT DO NOTHING`, b, t[p])
			batch.Queue(`INSERT INTO policy_tree_files (tree, path, blob) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, digest, p, b)
		}
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return err
		}
		diff, err := json.Marshal(DiffTrees(parent, t))
		if err != nil {
			return err
		}
		var parentSeq, restored *int64
		if prev.Seq != 0 {
			parentSeq = &prev.Seq
		}
		if meta.RestoredFrom != 0 {
			restored = &meta.RestoredFrom
		}
		out, err = scanRevision(tx.QueryRow(ctx, `INSERT INTO policy_revisions (tree, parent, author, message, restored_from, diff)
			VALUES ($1, $2, $3, $4, $5, $6::text::jsonb) RETURNING `+revisionColumns, digest, parentSeq, meta.Author, meta.Message, restored, string(diff)))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, strconv.FormatInt(out.Seq, 10))
		return err
	})
	if err != nil {
		var ie *ImmutabilityError
		if errors.As(err, &ie) || errors.Is(err, ErrNoChange) || errors.Is(err, ErrConflict) {
			return Revision{}, err
		}
		return Revision{}, fmt.Errorf("revision: publish: %w", err)
	}
	return out, nil
}

// Rollback publishes the tree of an earlier revision as the new latest one.
func (s *Store) Rollback(ctx context.Context, seq int64, meta Meta) (Revision, error) {
	t, err := s.Tree(ctx, seq)
	if err != nil {
		return Revision{}, err
	}
	if meta.Message == "" {
		meta.Message = fmt.Sprintf("roll back to r%d", seq)
	}
	meta.RestoredFrom = seq
	return s.Publish(ctx, t, meta)
}
