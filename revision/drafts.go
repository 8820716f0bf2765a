package revision

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"arbiter/engine"
)

// Draft is a set of file changes on top of a base revision.
type Draft struct {
	ID        string    `json:"id"`
	Base      int64     `json:"base"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Published int64     `json:"published,omitempty"` // the revision it became
	// Changes maps a path to its new content; nil removes the path.
	Changes map[string][]byte `json:"-"`
}

// ErrConflict means a draft cannot be applied: it was published already, or the latest revision
// changed a file the draft changes too.
var ErrConflict = errors.New("revision: conflict")

// CheckPath refuses a draft path outside the served tree (policies/, rules/, facts/), not clean, or an
// example (never served).
func CheckPath(p string) error {
	if p == "" || path.Clean(p) != p || strings.HasPrefix(p, "/") || strings.Contains(p, "..") {
		return fmt.Errorf("path %q is not a clean relative path", p)
	}
	root, _, _ := strings.Cut(p, "/")
	ok := false
	for _, r := range Roots {
		ok = ok || root == r
	}
	if !ok || !strings.Contains(p, "/") {
		return fmt.Errorf("path %q is outside policies/, rules/ and facts/", p)
	}
	if engine.IsExample(p) {
		return fmt.Errorf("path %q names an example or draft file, which is never served", p)
	}
	return nil
}

// CreateDraft starts a draft on revision base (0: the latest).
func (s *Store) CreateDraft(ctx context.Context, base int64, author string) (Draft, error) {
	if base == 0 {
		h, err := s.Head(ctx)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return Draft{}, fmt.Errorf("no revision is published yet (arbiter publish DIR -m MSG publishes the first): %w", ErrNotFound)
			}
			return Draft{}, err
		}
		base = h.Seq
	} else if _, err := s.Get(ctx, base); err != nil {
		return Draft{}, err
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	d := Draft{ID: "d-" + hex.EncodeToString(b[:]), Base: base, Author: author, Changes: map[string][]byte{}}
	err := s.pool.QueryRow(ctx, `INSERT INTO policy_drafts (id, base, author) VALUES ($1, $2, $3) RETURNING created_at, updated_at`,
		d.ID, base, author).Scan(&d.CreatedAt, &d.UpdatedAt)
	if err != nil {
		return Draft{}, fmt.Errorf("revision: create draft: %w", err)
	}
	return d, nil
}

// GetDraft returns a draft with its changes.
func (s *Store) GetDraft(ctx context.Context, id string) (Draft, error) {
	d := Draft{ID: id, Changes: map[string][]byte{}}
	var published *int64
	err := s.pool.QueryRow(ctx, `SELECT base, author, created_at, updated_at, published FROM policy_drafts WHERE id = $1`, id).
		Scan(&d.Base, &d.Author, &d.CreatedAt, &d.UpdatedAt, &published)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, fmt.Errorf("draft %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("revision: draft %s: %w", id, err)
	}
	if published != nil {
		d.Published = *published
	}
	rows, err := s.pool.Query(ctx, `SELECT path, content FROM policy_draft_files WHERE draft = $1`, id)
	if err != nil {
		return d, fmt.Errorf("revision: draft %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		var c []byte
		if err := rows.Scan(&p, &c); err != nil {
			return d, err
		}
		d.Changes[p] = c
	}
	return d, rows.Err()
}

// PutDraftFile sets a file of the draft; content nil removes the path from the draft's tree.
func (s *Store) PutDraftFile(ctx context.Context, id, p string, content []byte) error {
	if err := CheckPath(p); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var published *int64
		err := tx.QueryRow(ctx, `SELECT published FROM policy_drafts WHERE id = $1 FOR UPDATE`, id).Scan(&published)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("draft %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if published != nil {
			return fmt.Errorf("draft %s was published as r%d: %w", id, *published, ErrConflict)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO policy_draft_files (draft, path, content) VALUES ($1, $2, $3)
			ON CONFLICT (draft, path) DO UPDATE SET content = excluded.content`, id, p, content); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE policy_drafts SET updated_at = now() WHERE id = $1`, id)
		return err
	})
}

// DraftTree returns the draft's tree (its base revision with its changes) and the base tree.
func (s *Store) DraftTree(ctx context.Context, d Draft) (tree, base Tree, err error) {
	base, err = s.Tree(ctx, d.Base)
	if err != nil {
		return nil, nil, err
	}
	return apply(base, d.Changes), base, nil
}

func apply(base Tree, changes map[string][]byte) Tree {
	t := base.Clone()
	for p, c := range changes {
		if c == nil {
			delete(t, p)
		} else {
			t[p] = c
		}
	}
	return t
}

// ChangedPaths lists the paths a draft changes, in order.
func (d Draft) ChangedPaths() []string {
	out := make([]string, 0, len(d.Changes))
	for p := range d.Changes {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// PublishDraft applies the draft's changes to the latest revision and publishes the result. It fails
// with ErrConflict when the latest revision changed a path the draft changes since the draft's base,
// and with *ImmutabilityError like Publish.
func (s *Store) PublishDraft(ctx context.Context, id string, meta Meta) (Revision, error) {
	d, err := s.GetDraft(ctx, id)
	if err != nil {
		return Revision{}, err
	}
	if d.Published != 0 {
		return Revision{}, fmt.Errorf("draft %s was published as r%d: %w", id, d.Published, ErrConflict)
	}
	h, err := s.Head(ctx)
	if err != nil {
		return Revision{}, err
	}
	base, err := s.Tree(ctx, d.Base)
	if err != nil {
		return Revision{}, err
	}
	latest := base
	if h.Seq != d.Base {
		if latest, err = s.Tree(ctx, h.Seq); err != nil {
			return Revision{}, err
		}
		var clash []string
		for _, p := range d.ChangedPaths() {
			if string(base[p]) != string(latest[p]) {
				clash = append(clash, p)
			}
		}
		if len(clash) > 0 {
			return Revision{}, fmt.Errorf("r%d changed %s since the draft's base r%d: %w", h.Seq, strings.Join(clash, ", "), d.Base, ErrConflict)
		}
	}
	if meta.Author == "" {
		meta.Author = d.Author
	}
	meta.Parent = h.Seq
	rev, err := s.Publish(ctx, apply(latest, d.Changes), meta)
	if err != nil {
		return Revision{}, err
	}
	if _, err := s.pool.Exec(ctx, `UPDATE policy_drafts SET published = $2, updated_at = now() WHERE id = $1`, id, rev.Seq); err != nil {
		return rev, fmt.Errorf("revision: draft %s published as r%d, but marking it failed: %w", id, rev.Seq, err)
	}
	return rev, nil
}

// PublishBlockers lists why publishing t would be refused for changing published versions (nil: none).
func (s *Store) PublishBlockers(ctx context.Context, t Tree) ([]string, error) {
	published, err := publishedFiles(ctx, s.pool)
	if err != nil {
		return nil, err
	}
	var ie *ImmutabilityError
	if err := CheckImmutable(published, t); errors.As(err, &ie) {
		return ie.Files, nil
	}
	return nil, nil
}

// DraftSummary is a draft in a list: its paths changed, not their content.
type DraftSummary struct {
	ID        string    `json:"id"`
	Base      int64     `json:"base"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Published int64     `json:"published,omitempty"`
	Paths     []string  `json:"paths"`
}

// ListDrafts returns the latest drafts, most recently edited first (limit <= 0: 100).
func (s *Store) ListDrafts(ctx context.Context, limit int) ([]DraftSummary, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT d.id, coalesce(d.base, 0), d.author, d.created_at, d.updated_at, coalesce(d.published, 0),
			coalesce(array_agg(f.path ORDER BY f.path) FILTER (WHERE f.path IS NOT NULL), '{}')
		FROM policy_drafts d LEFT JOIN policy_draft_files f ON f.draft = d.id
		GROUP BY d.id ORDER BY d.updated_at DESC, d.id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("revision: list drafts: %w", err)
	}
	defer rows.Close()
	out := []DraftSummary{}
	for rows.Next() {
		var d DraftSummary
		if err := rows.Scan(&d.ID, &d.Base, &d.Author, &d.CreatedAt, &d.UpdatedAt, &d.Published, &d.Paths); err != nil {
			return nil, fmt.Errorf("revision: list drafts: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
