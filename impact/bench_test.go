package impact_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"arbiter"
	"arbiter/engine"
	"arbiter/engine/value"
	"arbiter/impact"
	"arbiter/internal/testing/pgtest"
	"arbiter/store"
	"arbiter/store/decisionlog"
)

// sampleRecords decides every sample request of fixtures/requests over the fixtures and returns them
// as the decision log holds them.
func sampleRecords(t testing.TB, set *engine.PolicySet) []decisionlog.Record {
	t.Helper()
	rows, err := store.LoadRowsDir(set.Catalog(), arbiter.Fixtures())
	if err != nil {
		t.Fatal(err)
	}
	mem, err := store.NewMemory(set.Catalog(), rows)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mem.Close)
	e := engine.New(set, mem)
	files, _ := fs.Glob(arbiter.Fixtures(), "requests/*.json")
	sort.Strings(files)
	var out []decisionlog.Record
	for _, f := range files {
		raw, _ := fs.ReadFile(arbiter.Fixtures(), f)
		var req struct {
			Input json.RawMessage `json:"input"`
			AsOf  time.Time       `json:"as_of"`
		}
		if err := json.Unmarshal(raw, &req); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		in, err := value.Decode(req.Input, "input")
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(path.Base(f), ".json")
		if i := strings.IndexByte(name, '-'); i > 0 {
			name = name[:i]
		}
		d, err := e.Decide(context.Background(), engine.Request{Decision: name, Input: in, AsOf: req.AsOf, Explain: true, DryRun: true})
		if err != nil {
			continue // a sample of a decision that needs more facts than the fixtures hold
		}
		facts := d.Explain.Facts
		d.Explain = nil
		env, _ := json.Marshal(d)
		fr, _ := json.Marshal(facts)
		out = append(out, decisionlog.Record{ID: d.DecisionID, Decision: d.Decision, Version: d.Policy.Version, Outcome: d.Outcome,
			AsOf: d.AsOf, Envelope: env, Input: req.Input, Facts: fr})
	}
	if len(out) == 0 {
		t.Fatal("no sample decision")
	}
	return out
}

// GenerateLog COPYs n logged decisions into url's decision_log, cycling through samples, with ids
// bench-NNNNNNN logged one millisecond apart from 2025-01-01, as the writer stores them: the month's
// partition, each distinct fact snapshot once (decision_log_facts) and the records pointing at it;
// earlier bench rows are deleted first. With distinct, the i-th row's as_of is also moved i microseconds
// back, so that no two rows are the same logged decision (give it samples from distinctSamples for
// different amounts as well).
func GenerateLog(ctx context.Context, url string, samples []decisionlog.Record, n int, distinct bool) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DELETE FROM decision_log WHERE id LIKE 'bench-%'`); err != nil {
		return err
	}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	last := base.Add(time.Duration(n) * time.Millisecond)
	for m := decisionlog.Month(base); !m.After(last); m = m.AddDate(0, 1, 0) {
		if _, err := conn.Exec(ctx, "SELECT arbiter_decision_log_partition($1)", m); err != nil {
			return err
		}
	}
	digests := make([][]byte, len(samples))
	for i, s := range samples {
		sum := sha256.Sum256(s.Facts)
		digests[i] = sum[:]
		for m := decisionlog.Month(base); !m.After(last); m = m.AddDate(0, 1, 0) {
			if _, err := conn.Exec(ctx, `INSERT INTO decision_log_facts (month, digest, facts) VALUES ($1, $2, $3::text::jsonb) ON CONFLICT DO NOTHING`,
				m, digests[i], string(s.Facts)); err != nil {
				return err
			}
		}
	}
	i := 0
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"decision_log"},
		[]string{"id", "decision", "version", "as_of", "outcome", "envelope", "input", "facts_digest", "recorded_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			s := logRow(samples, i, distinct)
			row := []any{s.ID, s.Decision, s.Version, s.AsOf, s.Outcome, string(s.Envelope), string(s.Input), digests[i%len(samples)],
				base.Add(time.Duration(i) * time.Millisecond)}
			i++
			return row, nil
		}))
	return err
}

// logRow is the i-th generated record: the samples in turn, with as_of moved i µs back when distinct.
func logRow(samples []decisionlog.Record, i int, distinct bool) decisionlog.Record {
	s := samples[i%len(samples)]
	s.ID = fmt.Sprintf("bench-%07d", i)
	if distinct {
		s.AsOf = s.AsOf.Add(-time.Duration(i) * time.Microsecond)
	}
	return s
}

var decimalAmount = regexp.MustCompile(`^-?[0-9]+\.[0-9]+$`)

// distinctSamples makes k variants of every sample whose facts hold decimal amounts: variant j adds
// j hundredths to each amount, and the decision is made again on those facts, so the logged outcome
// and outputs are what the shipped tree decides on them.
func distinctSamples(t testing.TB, set *engine.PolicySet, samples []decisionlog.Record, k int) []decisionlog.Record {
	t.Helper()
	var out []decisionlog.Record
	for j := 0; j < k; j++ {
		for _, s := range samples {
			f, err := value.Decode(s.Facts, "facts")
			if err != nil {
				t.Fatal(err)
			}
			facts, _ := f.(map[string]any)
			addCents(facts, int64(j))
			in, err := value.Decode(s.Input, "input")
			if err != nil {
				t.Fatal(err)
			}
			d, err := impact.Replay(context.Background(), set, engine.Request{Decision: s.Decision, Input: in, AsOf: s.AsOf}, facts)
			if err != nil {
				continue
			}
			v := s
			v.Envelope, _ = json.Marshal(d)
			v.Facts, _ = json.Marshal(facts)
			v.Outcome = d.Outcome
			out = append(out, v)
		}
	}
	return out
}

// addCents adds n hundredths to every decimal string in v, in place.
func addCents(v any, n int64) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if s, ok := c.(string); ok && decimalAmount.MatchString(s) {
				d := decimal.RequireFromString(s)
				x[k] = d.Add(decimal.New(n, -2)).StringFixed(max(-d.Exponent(), 2))
				continue
			}
			addCents(c, n)
		}
	case []any:
		for i, c := range x {
			if s, ok := c.(string); ok && decimalAmount.MatchString(s) {
				d := decimal.RequireFromString(s)
				x[i] = d.Add(decimal.New(n, -2)).StringFixed(max(-d.Exponent(), 2))
				continue
			}
			addCents(c, n)
		}
	}
}

// benchSamples is the sample decisions the benchmarks log: those of ARBITER_IMPACT_DECISIONS (all
// when unset), and with distinct, ARBITER_IMPACT_VARIANTS (default 100) amount variants of each.
func benchSamples(t testing.TB, set *engine.PolicySet, distinct bool) []decisionlog.Record {
	samples := sampleRecords(t, set)
	if only := os.Getenv("ARBITER_IMPACT_DECISIONS"); only != "" {
		samples = onlyDecisions(samples, only)
	}
	if distinct {
		k, _ := strconv.Atoi(os.Getenv("ARBITER_IMPACT_VARIANTS"))
		if k <= 0 {
			k = 100
		}
		samples = distinctSamples(t, set, samples, k)
	}
	return samples
}

// TestReplayGeneratedLog generates ARBITER_IMPACT_BENCH logged decisions (e.g. 1000000) from the
// sample requests and replays them all against the shipped tree; it is skipped without the variable.
// ARBITER_IMPACT_BENCH_URL keeps the log in that (migrated) database for `arbiter impact` runs and
// only generates it.
// ARBITER_IMPACT_DISTINCT=1 makes every logged decision different from every other (amount variants
// of the samples, each row at its own as_of), so that no replay result can be reused.
func TestReplayGeneratedLog(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("ARBITER_IMPACT_BENCH"))
	if n <= 0 {
		t.Skip("set ARBITER_IMPACT_BENCH=1000000 to generate and replay that many logged decisions")
	}
	distinct := os.Getenv("ARBITER_IMPACT_DISTINCT") != ""
	ctx := context.Background()
	set, err := engine.Load(ctx, arbiter.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	samples := benchSamples(t, set, distinct)
	url := os.Getenv("ARBITER_IMPACT_BENCH_URL")
	if url == "" {
		url = pgtest.New(t)
	}
	start := time.Now()
	if err := GenerateLog(ctx, url, samples, n, distinct); err != nil {
		t.Fatal(err)
	}
	kinds := fmt.Sprintf("%d distinct: the %d samples repeat", min(n, len(samples)), len(samples))
	if distinct {
		kinds = fmt.Sprintf("all %d distinct: %d samples, each row at its own as_of", n, len(samples))
	}
	t.Logf("generated %d logged decisions (%s) in %s", n, kinds, time.Since(start).Round(time.Millisecond))
	if os.Getenv("ARBITER_IMPACT_BENCH_URL") != "" {
		return // kept for `arbiter impact`, which is what is measured
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	runtime.GC()
	start = time.Now()
	rep, err := impact.Run(ctx, set, func(ctx context.Context, fn func(decisionlog.Record) error) error {
		return decisionlog.Stream(ctx, pool, decisionlog.Filter{}, fn)
	}, impact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("replayed %d of %d (%d evaluated) in %s (%.0f/s), %d changed, %d skipped %v; heap sys %d MiB",
		rep.Replayed, rep.Read, rep.Evaluated, time.Since(start).Round(time.Millisecond), rep.PerSecond, rep.Changed, rep.Skipped, rep.SkippedBy, ms.HeapSys>>20)
	if rep.Read < n {
		t.Fatalf("read %d of %d", rep.Read, n)
	}
	if rep.Changed != 0 {
		t.Fatalf("the shipped tree changed %d of its own decisions: %s", rep.Changed, rep.Summary())
	}
}

// BenchmarkReplay replays sample decisions from memory (no database): the replay's own cost per
// logged decision. "repeats" cycles through the samples as they are (identical decisions are evaluated
// once); "distinct" logs amount variants each at its own as_of (every decision is evaluated);
// "distinct-plain" is the same log with the reuse of results turned off.
func BenchmarkReplay(b *testing.B) {
	ctx := context.Background()
	set, err := engine.Load(ctx, arbiter.Bundle())
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name     string
		distinct bool
		opts     impact.Options
	}{
		{name: "repeats"},
		{name: "distinct", distinct: true},
		{name: "distinct-plain", distinct: true, opts: impact.Options{NoDedup: true}},
	} {
		samples := benchSamples(b, set, bc.distinct)
		b.Run(bc.name, func(b *testing.B) {
			recs := make([]decisionlog.Record, 0, b.N)
			for i := 0; i < b.N; i++ {
				recs = append(recs, logRow(samples, i, bc.distinct))
			}
			b.ReportAllocs()
			runtime.GC()
			b.ResetTimer()
			cpu := cpuTime()
			rep, err := impact.Run(ctx, set, impact.Records(recs), bc.opts)
			cpu = cpuTime() - cpu
			if err != nil || rep.Changed != 0 {
				b.Fatalf("%v %s", err, rep.Summary())
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(rep.Evaluated)/float64(b.N), "evaluated/op")
		})
	}
}

// onlyDecisions keeps the samples of the comma-separated decisions.
func onlyDecisions(samples []decisionlog.Record, only string) []decisionlog.Record {
	var out []decisionlog.Record
	for _, s := range samples {
		for _, d := range strings.Split(only, ",") {
			if s.Decision == d {
				out = append(out, s)
			}
		}
	}
	return out
}

// TestScanGeneratedLog generates ARBITER_LOG_SCAN logged decisions (e.g. 1000000) from the sample
// requests and times one full read of them in the order impact replays them (decisionlog.Stream:
// keyset pages of (recorded_at, id), facts joined), without evaluating them; it is skipped without
// the variable. ARBITER_IMPACT_BENCH_URL keeps the log in that (migrated) database.
func TestScanGeneratedLog(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("ARBITER_LOG_SCAN"))
	if n <= 0 {
		t.Skip("set ARBITER_LOG_SCAN=1000000 to time an ordered scan of that many logged decisions")
	}
	ctx := context.Background()
	set, err := engine.Load(ctx, arbiter.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	samples := sampleRecords(t, set)
	url := os.Getenv("ARBITER_IMPACT_BENCH_URL")
	if url == "" {
		url = pgtest.New(t)
	}
	start := time.Now()
	if err := GenerateLog(ctx, url, samples, n, false); err != nil {
		t.Fatal(err)
	}
	t.Logf("generated %d logged decisions in %s", n, time.Since(start).Round(time.Millisecond))
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE decision_log"); err != nil {
		t.Fatal(err)
	}
	for _, cold := range []string{"first", "second"} {
		runtime.GC()
		start = time.Now()
		read, bytes := 0, 0
		var last time.Time
		err := decisionlog.Stream(ctx, pool, decisionlog.Filter{}, func(r decisionlog.Record) error {
			if r.RecordedAt.Before(last) {
				return fmt.Errorf("%s out of order", r.ID)
			}
			last = r.RecordedAt
			read++
			bytes += len(r.Envelope) + len(r.Input) + len(r.Facts)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		t.Logf("%s scan: %d records (%d MiB of JSON) in %s: %.0f records/s; heap in use %d MiB", cold, read, bytes>>20, took.Round(time.Millisecond),
			float64(read)/took.Seconds(), ms.HeapInuse>>20)
		if read < n {
			t.Fatalf("read %d of %d", read, n)
		}
	}
}

// TestLogSize COPYs ARBITER_LOG_SIZE logged decisions (e.g. 20000) from the sample requests into a
// scratch database and reports the decision log's bytes per decision (tables, TOAST and indexes of
// every partition, and of the shared fact snapshots); it is skipped without the variable.
func TestLogSize(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("ARBITER_LOG_SIZE"))
	if n <= 0 {
		t.Skip("set ARBITER_LOG_SIZE=20000 to measure the decision log's bytes per decision")
	}
	ctx := context.Background()
	set, err := engine.Load(ctx, arbiter.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	samples := sampleRecords(t, set)
	url := pgtest.New(t)
	if err := GenerateLog(ctx, url, samples, n, false); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE decision_log"); err != nil {
		t.Fatal(err)
	}
	var total, heap, raw int64
	if err := conn.QueryRow(ctx, `SELECT sum(pg_total_relation_size(c.oid)), sum(pg_relation_size(c.oid)) FROM pg_class c
		WHERE c.oid = 'decision_log'::regclass OR c.oid IN (SELECT relid FROM pg_partition_tree('decision_log'))
			OR c.oid = to_regclass('decision_log_facts') OR c.oid IN (SELECT relid FROM pg_partition_tree(to_regclass('decision_log_facts')))`).Scan(&total, &heap); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT sum(octet_length(envelope::text) + octet_length(input::text) + octet_length(facts::text)) FROM decision_log_with_facts`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d decisions (%d distinct samples): %d bytes in all (%.0f per decision; heap %.0f), JSON text %.0f per decision",
		n, len(samples), total, float64(total)/float64(n), float64(heap)/float64(n), float64(raw)/float64(n))
}
