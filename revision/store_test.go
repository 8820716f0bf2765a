package revision

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"arbiter/internal/testing/demotree"
	"arbiter/internal/testing/pgtest"
)

// demoTree is the demo policy tree as a revision would hold it.
func demoTree(t *testing.T) Tree {
	t.Helper()
	tree, err := Snapshot(demotree.FS(t))
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func newStore(t *testing.T) *Store {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return NewStore(pool)
}

func TestPublishRefusesAChangedPublishedVersion(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	first := demoTree(t)
	r1, err := s.Publish(ctx, first, Meta{Author: "ana", Message: "first"})
	if err != nil {
		t.Fatal(err)
	}
	if r1.Seq == 0 || r1.Tree != first.Digest() || len(r1.Diff.Added) != len(first) {
		t.Fatalf("r1 = %+v", r1)
	}
	changed := first.Clone()
	changed["rules/demo/rates/2025.yaml"] = []byte(strings.Replace(string(first["rules/demo/rates/2025.yaml"]), `rate: "0.2"`, `rate: "0.25"`, 1))
	_, err = s.Publish(ctx, changed, Meta{Author: "ana", Message: "edit 2025 in place"})
	var ie *ImmutabilityError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "rules/demo/rates/2025.yaml") {
		t.Fatalf("err = %v, want a refusal naming rules/demo/rates/2025.yaml", err)
	}
	if _, err := s.Publish(ctx, first.Clone(), Meta{Author: "ana", Message: "again"}); !errors.Is(err, ErrNoChange) {
		t.Fatalf("republishing the head: err = %v, want ErrNoChange", err)
	}
	next := first.Clone()
	if _, err := NewVersion(next, "rules/demo/rates", "2026", time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))); err != nil {
		t.Fatal(err)
	}
	r2, err := s.Publish(ctx, next, Meta{Author: "ben", Message: "2026 rates"})
	if err != nil {
		t.Fatalf("a new version with the previous window closed was refused: %v", err)
	}
	if r2.Parent != r1.Seq || strings.Join(r2.Diff.Added, ",") != "rules/demo/rates/2026.yaml" || strings.Join(r2.Diff.Changed, ",") != "rules/demo/rates/2025.yaml" {
		t.Fatalf("r2 = %+v", r2)
	}
	r3, err := s.Rollback(ctx, r1.Seq, Meta{Author: "ben"})
	if err != nil {
		t.Fatal(err)
	}
	if r3.Tree != r1.Tree || r3.RestoredFrom != r1.Seq || r3.Parent != r2.Seq {
		t.Fatalf("r3 = %+v", r3)
	}
	back, err := s.Tree(ctx, r3.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if back.Digest() != first.Digest() {
		t.Fatal("the rolled-back tree differs from r1's")
	}
	var blobs int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM policy_blobs").Scan(&blobs); err != nil {
		t.Fatal(err)
	}
	if blobs != len(first)+2 { // r2 adds the 2026 file and the closed 2025 file
		t.Fatalf("%d blobs stored, want %d (contents shared across revisions)", blobs, len(first)+2)
	}
	list, err := s.List(ctx, 0)
	if err != nil || len(list) != 3 || list[0].Seq != r3.Seq {
		t.Fatalf("list = %+v, %v", list, err)
	}
	for ref, want := range map[string]int64{"head": r3.Seq, "r2": r2.Seq, "1": r1.Seq, r2.Tree[:20]: r2.Seq} {
		got, err := s.Resolve(ctx, ref)
		if err != nil || got.Seq != want {
			t.Errorf("Resolve(%q) = %d, %v; want %d", ref, got.Seq, err, want)
		}
	}
}

// TestPollingCatchesAPublishWithoutNotify: a replica that missed the NOTIFY (it was restarting, or its
// LISTEN connection was down) still switches on the next poll.
func TestPollingCatchesAPublishWithoutNotify(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newStore(t)
	applied := make(chan int64, 4)
	f := NewFollower(s, func(_ context.Context, rev Revision, _ Tree) (bool, string) {
		applied <- rev.Seq
		return true, ""
	}, 200*time.Millisecond, nil, nil)
	f.noListen = true
	go f.Run(ctx)
	time.Sleep(300 * time.Millisecond)
	if st := f.Status(); st.Mode != "unpublished" || st.Listening {
		t.Fatalf("status before any publish = %+v", st)
	}
	r1, err := s.Publish(ctx, demoTree(t), Meta{Author: "ana", Message: "first"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-applied:
		if got != r1.Seq {
			t.Fatalf("applied r%d, want r%d", got, r1.Seq)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the publish was not picked up by polling")
	}
	if st := f.Status(); st.Mode != "published" || st.Serving == nil || st.Serving.Seq != r1.Seq {
		t.Fatalf("status = %+v", st)
	}
}

// TestNotifyWakesTheFollower: with a LISTEN connection, a publish is applied long before the next poll.
func TestNotifyWakesTheFollower(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newStore(t)
	applied := make(chan int64, 4)
	f := NewFollower(s, func(_ context.Context, rev Revision, _ Tree) (bool, string) {
		applied <- rev.Seq
		return true, ""
	}, time.Hour, nil, nil)
	go f.Run(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for !f.Status().Listening {
		if time.Now().After(deadline) {
			t.Fatal("never listening")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := s.Publish(ctx, demoTree(t), Meta{Author: "ana", Message: "first"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-applied:
	case <-time.After(5 * time.Second):
		t.Fatal("the NOTIFY did not wake the follower")
	}
}
