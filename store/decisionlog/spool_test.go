package decisionlog_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"arbiter/internal/testing/pgtest"
	"arbiter/internal/testing/tcpproxy"
	"arbiter/store/decisionlog"
)

// drops counts OnDrop calls by reason.
type drops struct {
	mu sync.Mutex
	by map[string]int
}

func (d *drops) add(reason string, n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.by == nil {
		d.by = map[string]int{}
	}
	d.by[reason] += n
}

func (d *drops) get(reason string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.by[reason]
}

func (d *drops) total() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, v := range d.by {
		n += v
	}
	return n
}

// proxied is a fresh database, a pool reaching it through a proxy the test controls, and a direct pool.
func proxied(t *testing.T) (*tcpproxy.Proxy, *pgxpool.Pool, *pgxpool.Pool) {
	t.Helper()
	direct := pgtest.New(t)
	proxy, via := tcpproxy.ForURL(t, direct)
	cfg, err := pgxpool.ParseConfig(via + "&connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	through, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(through.Close)
	d, err := pgxpool.New(context.Background(), direct)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return proxy, through, d
}

func count(t *testing.T, p *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := p.QueryRow(context.Background(), "SELECT count(*) FROM decision_log").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSpoolKeepsRecordsWhileTheDatabaseIsAway: with the database cut, records go to the spool on
// disk and are readable from it; they survive a restart of the log and are drained once the database
// answers; nothing is dropped.
func TestSpoolKeepsRecordsWhileTheDatabaseIsAway(t *testing.T) {
	ctx := context.Background()
	proxy, through, direct := proxied(t)
	dir := t.TempDir()
	var d drops
	opts := decisionlog.Options{Interval: 5 * time.Millisecond, BatchSize: 7, SpoolDir: dir, OnDrop: d.add}
	log, err := decisionlog.OpenPostgres(through, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		log.Enqueue(record(i, "demo.a"))
	}
	eventually(t, "the first records are written", func() bool { return log.Written() == 5 })
	proxy.Kill()
	for i := 5; i < 55; i++ {
		log.Enqueue(record(i, "demo.a"))
	}
	eventually(t, "records are spooled", func() bool { return log.Spooled() > 0 })
	closeCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := log.Close(closeCtx); err != nil { // the rest of the queue goes to the spool too
		t.Fatal(err)
	}
	for i := 5; i < 55; i++ {
		if _, err := log.Get(ctx, fmt.Sprintf("d%04d", i)); err != nil {
			t.Fatalf("d%04d is not in the spool: %v", i, err)
		}
	}
	got, err := log.Get(ctx, "d0042")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "spooled envelope", got.Envelope, record(42, "demo.a").Envelope)
	sameJSON(t, "spooled facts", got.Facts, record(42, "demo.a").Facts)
	if got.Decision != "demo.a" || !got.AsOf.Equal(record(42, "").AsOf) {
		t.Errorf("spooled record %+v", got)
	}
	if n := count(t, direct); n != 5 {
		t.Fatalf("%d records in the database while it was cut off, want 5", n)
	}
	// A new log on the same folder (a restart) drains what the first one left, as soon as it starts.
	proxy.Restore()
	again, err := decisionlog.OpenPostgres(through, opts)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the spool is drained after the restart", func() bool { return count(t, direct) == 55 && again.Spooled() == 0 })
	if err := again.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if d.total() != 0 {
		t.Fatalf("dropped %v, want nothing", d.by)
	}
}

// TestSpoolFullIsCountedExactly: a spool too small for what the outage brings keeps what fits; every
// other record is counted as spool_full, /readyz's Health says so, and after the outage the database
// holds exactly the records not counted as dropped.
func TestSpoolFullIsCountedExactly(t *testing.T) {
	ctx := context.Background()
	proxy, through, direct := proxied(t)
	proxy.Kill()
	dir := t.TempDir()
	var d drops
	opts := decisionlog.Options{Interval: 5 * time.Millisecond, BatchSize: 10, SpoolDir: dir, SpoolMax: 4000, DropThreshold: 5, OnDrop: d.add}
	log, err := decisionlog.OpenPostgres(through, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := log.Health(); err != nil {
		t.Fatalf("Health before anything happened: %v", err)
	}
	const n = 100
	for i := range n {
		log.Enqueue(record(i, "demo.a"))
	}
	closeCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := log.Close(closeCtx); err != nil { // everything queued is now spooled or dropped
		t.Fatal(err)
	}
	kept := 0
	for i := range n {
		if _, err := log.Get(ctx, fmt.Sprintf("d%04d", i)); err == nil {
			kept++
		}
	}
	dropped := d.get(decisionlog.DropSpoolFull)
	if dropped == 0 || dropped != d.total() || log.Dropped() != uint64(dropped) || kept+dropped != n {
		t.Fatalf("%d spooled, drops %v, Dropped() %d: want spool_full to count exactly the other %d", kept, d.by, log.Dropped(), n-kept)
	}
	if log.Spooled() > 4000 {
		t.Fatalf("the spool holds %d bytes, over its bound of 4000", log.Spooled())
	}
	if err := log.Health(); err == nil || !strings.Contains(err.Error(), "spool") {
		t.Fatalf("Health with the spool full: %v", err)
	}
	proxy.Restore()
	again, err := decisionlog.OpenPostgres(through, opts)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the spool is drained", func() bool { return again.Spooled() == 0 })
	if err := again.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if stored := count(t, direct); stored+dropped != n {
		t.Fatalf("stored %d + dropped %d != %d recorded", stored, dropped, n)
	}
}

// TestOneBadRowDoesNotTakeTheBatchDown: a record PostgreSQL refuses (a NUL in jsonb text) costs only
// itself: the other 20 of its batch are stored and it is counted as write_failed.
func TestOneBadRowDoesNotTakeTheBatchDown(t *testing.T) {
	ctx := context.Background()
	p := pool(t)
	var d drops
	var reported []error
	var mu sync.Mutex
	log, err := decisionlog.OpenPostgres(p, decisionlog.Options{BatchSize: 21, Interval: time.Hour, SpoolDir: t.TempDir(), OnDrop: d.add,
		OnError: func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 21 {
		r := record(i, "demo.a")
		if i == 13 {
			r.Input = json.RawMessage(`{"note": "a\u0000b"}`)
		}
		log.Enqueue(r)
	}
	if err := log.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, p); n != 20 || log.Written() != 20 {
		t.Fatalf("stored %d, Written() %d, want the 20 good records", n, log.Written())
	}
	if d.get(decisionlog.DropWriteFailed) != 1 || d.total() != 1 {
		t.Fatalf("drops %v, want one write_failed", d.by)
	}
	if _, err := log.Get(ctx, "d0013"); !errors.Is(err, decisionlog.ErrNotFound) {
		t.Fatalf("the bad record: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 1 || !strings.Contains(reported[0].Error(), "d0013") {
		t.Fatalf("reported %v, want the bad record's error", reported)
	}
}

// TestSpoolSlots: two logs on one spool folder take different slots; a slot is free again once its
// log is closed.
func TestSpoolSlots(t *testing.T) {
	ctx := context.Background()
	p := pool(t)
	dir := t.TempDir()
	a, err := decisionlog.OpenPostgres(p, decisionlog.Options{SpoolDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	b, err := decisionlog.OpenPostgres(p, decisionlog.Options{SpoolDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if a.SpoolDir() == b.SpoolDir() {
		t.Fatalf("two logs share the spool slot %s", a.SpoolDir())
	}
	first := a.SpoolDir()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := decisionlog.OpenPostgres(p, decisionlog.Options{SpoolDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if c.SpoolDir() != first {
		t.Fatalf("after closing %s the next log took %s", first, c.SpoolDir())
	}
	_ = b.Close(ctx)
	_ = c.Close(ctx)
}

// TestSpoolRefusesOnlyTheBadRecord: a record whose JSON is invalid cannot be spooled; it is counted
// as encode_failed and the others of its batch are spooled.
func TestSpoolRefusesOnlyTheBadRecord(t *testing.T) {
	ctx := context.Background()
	proxy, through, _ := proxied(t)
	proxy.Kill()
	var d drops
	log, err := decisionlog.OpenPostgres(through, decisionlog.Options{Interval: 5 * time.Millisecond, BatchSize: 3, SpoolDir: t.TempDir(), OnDrop: d.add})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close(ctx)
	for i := range 3 {
		r := record(i, "demo.a")
		if i == 1 {
			r.Envelope = json.RawMessage(`{"not json`)
		}
		log.Enqueue(r)
	}
	eventually(t, "the batch is spooled", func() bool { return d.total() == 1 })
	for _, id := range []string{"d0000", "d0002"} {
		if _, err := log.Get(ctx, id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	if d.get(decisionlog.DropEncodeFailed) != 1 {
		t.Fatalf("drops %v, want one encode_failed", d.by)
	}
}

// TestQueuedRecordsAreFound: a decision is readable by id as soon as it is recorded, before the
// writer stores it.
func TestQueuedRecordsAreFound(t *testing.T) {
	ctx := context.Background()
	logs := []struct {
		name string
		log  decisionlog.Log
	}{
		{"postgres", decisionlog.NewPostgres(pool(t), decisionlog.Options{Interval: time.Hour, BatchSize: 1000})},
		{"memory", decisionlog.NewMemory(10)},
	}
	for _, tc := range logs {
		t.Run(tc.name, func(t *testing.T) {
			tc.log.Record(decision(7), map[string]any{"i": 7}, map[string]any{"f": "1.50"}, "key:test")
			got, err := tc.log.Get(ctx, "r0007")
			if err != nil {
				t.Fatalf("a recorded decision: %v", err)
			}
			if got.Decision != "demo.x" || got.RecordedAt.IsZero() {
				t.Errorf("record %+v", got)
			}
			sameJSON(t, "input", got.Input, json.RawMessage(`{"i": 7}`))
			if err := tc.log.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := tc.log.Get(ctx, "r0007"); err != nil {
				t.Fatalf("after Close: %v", err)
			}
		})
	}
}
