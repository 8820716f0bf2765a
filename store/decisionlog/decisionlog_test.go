package decisionlog_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"arbiter/engine"
	"arbiter/internal/testing/pgtest"
	"arbiter/store/decisionlog"
)

func pool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

var base = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

func record(i int, decision string) decisionlog.Record {
	return decisionlog.Record{
		ID: fmt.Sprintf("d%04d", i), Decision: decision, Version: "2025.1", Outcome: "allow",
		AsOf: base.Add(time.Duration(i) * time.Hour), RecordedAt: base.Add(time.Duration(i)*time.Hour + time.Second),
		Envelope: json.RawMessage(fmt.Sprintf(`{"decision_id": "d%04d", "outcome": "allow"}`, i)),
		Input:    json.RawMessage(`{"account_id": "A1", "amount": "129.90"}`),
		Facts:    json.RawMessage(`{"account": {"id": "A1", "balance": "500"}}`),
	}
}

func sameJSON(t *testing.T, what string, got, want json.RawMessage) {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("%s: %v (%s)", what, err, got)
	}
	_ = json.Unmarshal(want, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

func TestPostgresWriteAndReadBack(t *testing.T) {
	ctx := context.Background()
	log := decisionlog.NewPostgres(pool(t), decisionlog.Options{Interval: 10 * time.Millisecond})
	for i := range 5 {
		if !log.Enqueue(record(i, "demo.a")) {
			t.Fatal("the queue refused a record")
		}
	}
	log.Enqueue(record(5, "demo.b"))
	noFacts := record(6, "demo.a")
	noFacts.Facts, noFacts.Input = nil, nil
	log.Enqueue(noFacts)
	log.Enqueue(record(0, "demo.a")) // the same id again is ignored, not an error
	if err := log.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if log.Written() != 8 || log.Dropped() != 0 {
		t.Fatalf("written %d, dropped %d", log.Written(), log.Dropped())
	}
	got, err := log.Get(ctx, "d0003")
	if err != nil {
		t.Fatal(err)
	}
	want := record(3, "demo.a")
	if got.ID != want.ID || got.Decision != want.Decision || got.Version != want.Version || got.Outcome != want.Outcome ||
		!got.AsOf.Equal(want.AsOf) || !got.RecordedAt.Equal(want.RecordedAt) {
		t.Fatalf("Get = %+v, want %+v", got, want)
	}
	sameJSON(t, "envelope", got.Envelope, want.Envelope)
	sameJSON(t, "input", got.Input, want.Input)
	sameJSON(t, "facts", got.Facts, want.Facts)
	if got, err := log.Get(ctx, "d0006"); err != nil || got.Facts != nil || got.Input != nil {
		t.Fatalf("a record without facts reads back as %+v, %v", got, err)
	}
	if _, err := log.Get(ctx, "nope"); !errors.Is(err, decisionlog.ErrNotFound) {
		t.Fatalf("Get(nope) = %v, want ErrNotFound", err)
	}
	listCases(t, log)
}

// listCases checks List on a log holding records 0..4 and 6 of demo.a and 5 of demo.b.
func listCases(t *testing.T, log decisionlog.Log) {
	t.Helper()
	ctx := context.Background()
	tests := []struct {
		name     string
		decision string
		from, to time.Time
		limit    int
		want     []string
	}{
		{"all of one decision, oldest first", "demo.a", time.Time{}, time.Time{}, 0, []string{"d0000", "d0001", "d0002", "d0003", "d0004", "d0006"}},
		{"half-open window", "demo.a", base.Add(time.Hour), base.Add(3 * time.Hour), 0, []string{"d0001", "d0002"}},
		{"limit", "demo.a", base, base.Add(100 * time.Hour), 2, []string{"d0000", "d0001"}},
		{"every decision", "", base.Add(4 * time.Hour), time.Time{}, 0, []string{"d0004", "d0005", "d0006"}},
		{"another decision", "demo.b", time.Time{}, time.Time{}, 0, []string{"d0005"}},
		{"nothing", "demo.c", time.Time{}, time.Time{}, 0, nil},
	}
	for _, tc := range tests {
		recs, err := log.List(ctx, tc.decision, tc.from, tc.to, tc.limit)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var ids []string
		for _, r := range recs {
			ids = append(ids, r.ID)
		}
		if !reflect.DeepEqual(ids, tc.want) {
			t.Errorf("%s: List = %v, want %v", tc.name, ids, tc.want)
		}
	}
}

func TestFullQueueRefusesWithoutBlocking(t *testing.T) {
	ctx := context.Background()
	p := pool(t)
	// Hold a lock on the table so that the writer's first batch waits and the queue fills up.
	tx, err := p.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE decision_log IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	log := decisionlog.NewPostgres(p, decisionlog.Options{QueueSize: 10, BatchSize: 1, Interval: time.Millisecond})
	accepted, refused := 0, 0
	start := time.Now()
	for i := range 100 {
		if log.Enqueue(record(i, "demo.a")) {
			accepted++
		} else {
			refused++
		}
		if i == 0 {
			time.Sleep(50 * time.Millisecond) // let the writer take the first record and block on the lock
		}
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Fatalf("Enqueue blocked: 100 calls took %v", elapsed)
	}
	if refused == 0 || accepted > 12 || log.Dropped() != uint64(refused) {
		t.Fatalf("accepted %d, refused %d, Dropped() %d: want the queue of 10 to refuse the rest and count them", accepted, refused, log.Dropped())
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := log.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := p.QueryRow(ctx, "SELECT count(*) FROM decision_log").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != accepted || log.Written() != uint64(accepted) {
		t.Fatalf("stored %d, Written() %d, want every accepted record (%d)", n, log.Written(), accepted)
	}
	if log.Enqueue(record(999, "demo.a")) {
		t.Fatal("a closed log accepted a record")
	}
}

func TestCloseFlushesEverything(t *testing.T) {
	ctx := context.Background()
	p := pool(t)
	log := decisionlog.NewPostgres(p, decisionlog.Options{QueueSize: 5000, BatchSize: 300, Interval: time.Hour})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				if !log.Enqueue(record(g*1000+i, "demo.a")) {
					t.Error("refused")
				}
			}
		}()
	}
	wg.Wait()
	closeCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := log.Close(closeCtx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := p.QueryRow(ctx, "SELECT count(*) FROM decision_log").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2000 || log.Written() != 2000 {
		t.Fatalf("after Close %d stored, Written() %d, want 2000", n, log.Written())
	}
	if err := log.Close(ctx); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}

func TestWriteErrorsAreReportedNotFatal(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	p, err := pgxpool.New(context.Background(), "postgres://postgres@"+addr+"/test?sslmode=disable&connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var mu sync.Mutex
	var reported []error
	log := decisionlog.NewPostgres(p, decisionlog.Options{Interval: time.Millisecond, OnError: func(err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}})
	log.Enqueue(record(1, "demo.a"))
	log.Enqueue(record(2, "demo.a"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := log.Close(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) == 0 || log.Dropped() != 2 || log.Written() != 0 {
		t.Fatalf("reported %v, dropped %d, written %d", reported, log.Dropped(), log.Written())
	}
}

func TestMemory(t *testing.T) {
	ctx := context.Background()
	m := decisionlog.NewMemory(7)
	for _, i := range []int{6, 5, 4, 3, 2, 1, 0} { // out of order: List sorts by as_of
		rec := record(i, "demo.a")
		if i == 5 {
			rec.Decision = "demo.b"
		}
		if !m.Enqueue(rec) {
			t.Fatal("the memory log refused a record")
		}
	}
	listCases(t, m)
	got, err := m.Get(ctx, "d0002")
	if err != nil || got.Outcome != "allow" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	// A full ring evicts the oldest record it holds.
	m.Enqueue(record(7, "demo.a"))
	if _, err := m.Get(ctx, "d0006"); !errors.Is(err, decisionlog.ErrNotFound) {
		t.Fatalf("the first record should be evicted, Get = %v", err)
	}
	if _, err := m.Get(ctx, "d0007"); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

var _ decisionlog.Log = (*decisionlog.Postgres)(nil)
var _ decisionlog.Log = (*decisionlog.Memory)(nil)

// TestListOrdersTiesLikeMemory: records with one as_of are ordered by id byte-wise in both logs,
// even where the column sorts by a language's rules.
func TestListOrdersTiesLikeMemory(t *testing.T) {
	ctx := context.Background()
	p := pool(t)
	if _, err := p.Exec(ctx, `ALTER TABLE decision_log ALTER COLUMN id TYPE text COLLATE "en-US-x-icu"`); err != nil {
		t.Skipf("no ICU collation to sort by: %v", err)
	}
	pg := decisionlog.NewPostgres(p, decisionlog.Options{Interval: time.Millisecond})
	mem := decisionlog.NewMemory(10)
	for _, id := range []string{"b", "C", "a", "B"} {
		rec := record(0, "demo.a")
		rec.ID = id
		pg.Enqueue(rec)
		mem.Enqueue(rec)
	}
	if err := pg.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for name, log := range map[string]decisionlog.Log{"postgres": pg, "memory": mem} {
		recs, err := log.List(ctx, "demo.a", time.Time{}, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range recs {
			ids = append(ids, r.ID)
		}
		if want := []string{"B", "C", "a", "b"}; !reflect.DeepEqual(ids, want) {
			t.Errorf("%s: List = %v, want %v", name, ids, want)
		}
	}
}

func decision(i int) *engine.Decision {
	return &engine.Decision{DecisionID: fmt.Sprintf("r%04d", i), Decision: "demo.x", Outcome: "allow",
		Policy: engine.PolicyRef{Version: "v2"}, AsOf: base.Add(time.Duration(i) * time.Minute)}
}

// TestRecordNeverBlocksAndCountsAFullQueue: Record is the engine's recorder; with the writer stuck on
// a locked table the queue fills, the rest are counted as dropped (Dropped and OnDrop), and Close
// stores every decision that was queued, encoded.
func TestRecordNeverBlocksAndCountsAFullQueue(t *testing.T) {
	ctx := context.Background()
	p := pool(t)
	tx, err := p.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE decision_log IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	var onDrop atomic.Int64
	log := decisionlog.NewPostgres(p, decisionlog.Options{QueueSize: 10, BatchSize: 1, Interval: time.Millisecond,
		OnDrop: func(_ string, n int) { onDrop.Add(int64(n)) }})
	var rec engine.Recorder = log
	start := time.Now()
	for i := range 100 {
		rec.Record(decision(i), map[string]any{"i": i}, map[string]any{"f": "1.50"}, "key:k1")
		if i == 0 {
			time.Sleep(50 * time.Millisecond) // let the writer take the first decision and block on the lock
		}
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Fatalf("Record blocked: 100 calls took %v", elapsed)
	}
	dropped := log.Dropped()
	if dropped < 88 || uint64(onDrop.Load()) != dropped {
		t.Fatalf("Dropped() %d, OnDrop %d: want the queue of 10 (and the one being written) to keep at most 12 and count the rest", dropped, onDrop.Load())
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := log.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := p.QueryRow(ctx, "SELECT count(*) FROM decision_log").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if uint64(n) != 100-dropped || log.Written() != uint64(n) {
		t.Fatalf("stored %d, Written() %d, want every queued decision (%d)", n, log.Written(), 100-dropped)
	}
	got, err := log.Get(ctx, "r0000")
	if err != nil {
		t.Fatal(err)
	}
	if got.Decision != "demo.x" || got.Version != "v2" || got.Outcome != "allow" || !got.AsOf.Equal(base) || got.RecordedAt.Before(start) {
		t.Errorf("record %+v", got)
	}
	sameJSON(t, "facts", got.Facts, json.RawMessage(`{"f": "1.50"}`))
	sameJSON(t, "input", got.Input, json.RawMessage(`{"i": 0}`))
	var env map[string]any
	if err := json.Unmarshal(got.Envelope, &env); err != nil || env["decision_id"] != "r0000" {
		t.Errorf("envelope %s (%v)", got.Envelope, err)
	}
	rec.Record(decision(1000), nil, nil, "")
	if log.Dropped() != dropped+1 || uint64(onDrop.Load()) != dropped+1 {
		t.Fatalf("a decision recorded after Close must be counted as dropped: %d", log.Dropped())
	}
}

// TestMemoryRecord: the memory log encodes recorded decisions on its writer; Close keeps every queued
// one, and one that cannot be encoded is reported and counted.
func TestMemoryRecord(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var reported []error
	dropped := 0
	m := decisionlog.NewMemoryWith(100, decisionlog.Options{
		OnError: func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() },
		OnDrop:  func(_ string, n int) { mu.Lock(); dropped += n; mu.Unlock() },
	})
	for i := range 20 {
		m.Record(decision(i), map[string]any{"i": i}, map[string]any{"f": "1.50"}, "key:k1")
	}
	m.Record(decision(99), map[string]any{"bad": make(chan int)}, nil, "")
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	recs, err := m.List(ctx, "demo.x", time.Time{}, time.Time{}, 0)
	if err != nil || len(recs) != 20 {
		t.Fatalf("List after Close: %d records, %v", len(recs), err)
	}
	sameJSON(t, "facts", recs[3].Facts, json.RawMessage(`{"f": "1.50"}`))
	if recs[3].ID != "r0003" || recs[3].Version != "v2" || recs[3].RecordedAt.IsZero() || recs[3].Caller != "key:k1" {
		t.Errorf("record %+v", recs[3])
	}
	m.Record(decision(100), nil, nil, "")
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 1 || !strings.Contains(reported[0].Error(), "r0099") || dropped != 2 || m.Dropped() != 2 {
		t.Fatalf("reported %v, OnDrop %d, Dropped() %d: want the unencodable and the late decision counted", reported, dropped, m.Dropped())
	}
}
