package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"arbiter/internal/testing/pgtest"
	"arbiter/internal/testing/tcpproxy"
	"arbiter/internal/testing/testserver"
	"arbiter/store/decisionlog"
)

// answered is one decision answered 200.
type answered struct {
	id, decision string
	committed    bool
	server       int
}

// logLoad sends decisions to servers from a few goroutines until stop: a commit (coupon.redeem of
// its own coupon), a decision over facts (coupon.applicability) and one without facts
// (trial.reminders, which answers while the database is away).
type logLoad struct {
	servers []*testserver.Server
	coupons int
	next    atomic.Int64
	mu      sync.Mutex
	ok      []answered
	other   map[int]int // status -> count of non-200 answers
	stop    chan struct{}
	wg      sync.WaitGroup
}

func startLogLoad(servers []*testserver.Server, coupons, workers int) *logLoad {
	l := &logLoad{servers: servers, coupons: coupons, other: map[int]int{}, stop: make(chan struct{})}
	client := &http.Client{Timeout: 20 * time.Second}
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				n := int(l.next.Add(1))
				s := w % len(servers)
				var decision string
				var input map[string]any
				switch {
				case n%3 == 0 && n/3 < coupons:
					decision, input = "coupon.redeem", map[string]any{"coupon_id": fmt.Sprintf("K%04d", n/3), "payment_id": fmt.Sprintf("PAY%04d", n/3)}
				case n%3 == 1:
					decision, input = "coupon.applicability", map[string]any{"coupon_id": fmt.Sprintf("K%04d", n%coupons), "payment_id": fmt.Sprintf("PAY%04d", n%coupons)}
				default:
					decision, input = "trial.reminders", map[string]any{"started_at": "2025-02-20T00:00:00+08:00", "expires_at": "2025-03-20T18:00:00+08:00"}
				}
				l.send(client, s, decision, input)
			}
		}()
	}
	return l
}

func (l *logLoad) send(client *http.Client, s int, decision string, input map[string]any) {
	raw, _ := json.Marshal(map[string]any{"input": input, "as_of": checkoutAt})
	resp, err := client.Post(l.servers[s].URL+"/v1/decisions/"+decision, "application/json", bytes.NewReader(raw))
	if err != nil {
		l.mu.Lock()
		l.other[0]++
		l.mu.Unlock()
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	if resp.StatusCode != http.StatusOK {
		l.other[resp.StatusCode]++
		return
	}
	var d struct {
		DecisionID string `json:"decision_id"`
		Commit     *struct {
			Committed bool `json:"committed"`
		} `json:"commit"`
	}
	_ = json.Unmarshal(body, &d)
	l.ok = append(l.ok, answered{id: d.DecisionID, decision: decision, committed: d.Commit != nil && d.Commit.Committed, server: s})
}

func (l *logLoad) finish() []answered {
	close(l.stop)
	l.wg.Wait()
	return l.ok
}

// TestDecisionLogLosesNothingUnderFaults: two servers on one database, each through its own TCP
// proxy, under load while the proxies are killed and frozen and the database terminates every
// backend. Afterwards every decision answered 200 is in the decision log and readable by id, every
// stored commit has its log record and every logged committed decision its commit, and nothing was
// counted as dropped.
func TestDecisionLogLosesNothingUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("fault injection under load")
	}
	ctx := context.Background()
	const coupons = 400
	var cs, ps []string
	for i := range coupons {
		cs, ps = append(cs, fmt.Sprintf("K%04d", i)), append(ps, fmt.Sprintf("PAY%04d", i))
	}
	rows := couponRows(cs, ps)
	db := pgtest.New(t)
	proxyA, viaA := tcpproxy.ForURL(t, db)
	proxyB, viaB := tcpproxy.ForURL(t, db)
	a := testserver.Start(t, testserver.Options{DatabaseURL: viaA + "&connect_timeout=2", Rows: canonical(t, rows)})
	b := testserver.Start(t, testserver.Options{DatabaseURL: viaB + "&connect_timeout=2"})
	admin, err := pgxpool.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	terminate := func() {
		var n int
		err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n)
		if err != nil {
			t.Errorf("terminate backends: %v", err)
		}
		t.Logf("terminated %d backends", n)
	}

	load := startLogLoad([]*testserver.Server{a, b}, coupons, 6)
	pause := func(d time.Duration) { time.Sleep(d) }
	pause(400 * time.Millisecond)
	proxyA.Kill()
	pause(800 * time.Millisecond)
	proxyA.Restore()
	pause(300 * time.Millisecond)
	proxyB.Freeze()
	pause(1500 * time.Millisecond)
	proxyB.Thaw()
	pause(300 * time.Millisecond)
	terminate()
	pause(200 * time.Millisecond)
	terminate()
	pause(300 * time.Millisecond)
	proxyA.Kill() // longer than a writer's retries: only the spool keeps these
	proxyB.Kill()
	pause(4 * time.Second)
	proxyA.Restore()
	proxyB.Restore()
	pause(500 * time.Millisecond)
	ok := load.finish()
	t.Logf("answered 200: %d; other answers by status (0: no answer): %v", len(ok), load.other)

	byKind := map[string]int{}
	for _, d := range ok {
		byKind[d.decision]++
	}
	if byKind["trial.reminders"] == 0 || byKind["coupon.applicability"] == 0 {
		t.Fatalf("the load did not exercise every kind of decision: %v", byKind)
	}

	// Every answered decision reaches the database once the spools drain.
	ids := make([]string, len(ok))
	for i, d := range ok {
		ids[i] = d.id
	}
	var missing []string
	deadline := time.Now().Add(60 * time.Second)
	for {
		rows, err := admin.Query(ctx, `SELECT i FROM unnest($1::text[]) AS i WHERE NOT EXISTS (SELECT 1 FROM decision_log WHERE id = i)`, ids)
		if err == nil {
			missing = missing[:0]
			for rows.Next() {
				var id string
				_ = rows.Scan(&id)
				missing = append(missing, id)
			}
			rows.Close()
			if len(missing) == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d decisions answered 200 are not in the decision log, e.g. %v", len(missing), len(ids), missing[:min(5, len(missing))])
		}
		time.Sleep(200 * time.Millisecond)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for i, d := range ok {
		srv := []*testserver.Server{a, b}[i%2] // either replica answers for any decision
		r := testserver.Get(t, client, srv.URL, "/v1/decisions/"+d.id)
		if r.Status != http.StatusOK || r.Body["decision_id"] != d.id {
			t.Fatalf("GET /v1/decisions/%s (%s) on server %d: %d %s", d.id, d.decision, i%2, r.Status, r.Raw)
		}
	}

	// Commits and their log records agree one to one.
	var commitsWithoutLog, loggedWithoutCommit, commits int
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM commits c WHERE NOT EXISTS (SELECT 1 FROM decision_log l WHERE l.id = c.decision_id)`).Scan(&commitsWithoutLog); err != nil {
		t.Fatal(err)
	}
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM decision_log l WHERE (l.envelope->'commit'->>'committed')::boolean
		AND NOT EXISTS (SELECT 1 FROM commits c WHERE c.decision_id = l.id)`).Scan(&loggedWithoutCommit); err != nil {
		t.Fatal(err)
	}
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM commits`).Scan(&commits); err != nil {
		t.Fatal(err)
	}
	answeredCommits := 0
	for _, d := range ok {
		if d.committed {
			answeredCommits++
		}
	}
	if commitsWithoutLog != 0 || loggedWithoutCommit != 0 || commits < answeredCommits || answeredCommits == 0 {
		t.Fatalf("%d commits (%d answered 200): %d without a log record, %d logged commits without a commit", commits, answeredCommits, commitsWithoutLog, loggedWithoutCommit)
	}

	for i, srv := range []*testserver.Server{a, b} {
		if n := droppedTotal(t, client, srv.URL); n != 0 {
			t.Errorf("server %d counted %d dropped records", i, n)
		}
	}
}

var droppedLine = regexp.MustCompile(`(?m)^arbiter_decision_log_dropped_total\{reason="([a-z_]+)"\} (\S+)$`)

// dropped reads arbiter_decision_log_dropped_total by reason from /metrics.
func dropped(t *testing.T, client *http.Client, url string) map[string]int {
	t.Helper()
	resp, err := client.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]int{}
	for _, m := range droppedLine.FindAllStringSubmatch(string(raw), -1) {
		f, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatalf("metric line %q", m[0])
		}
		out[m[1]] = int(f)
	}
	if len(out) != len(decisionlog.DropReasons) {
		t.Fatalf("dropped reasons in /metrics: %v, want all of %v", out, decisionlog.DropReasons)
	}
	return out
}

func droppedTotal(t *testing.T, client *http.Client, url string) int {
	n := 0
	for _, v := range dropped(t, client, url) {
		n += v
	}
	return n
}

// TestDecisionLogFullSpoolIsCountedExactly: with the database unreachable and a spool of a few KB,
// decisions that need no facts keep being answered; what the spool cannot hold is counted as
// spool_full, /readyz degrades naming the log, and once the database returns the log holds exactly
// the answered decisions not counted as dropped.
func TestDecisionLogFullSpoolIsCountedExactly(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	proxy, via := tcpproxy.ForURL(t, db)
	srv := testserver.Start(t, testserver.Options{DatabaseURL: via + "&connect_timeout=1", LogSpoolMax: 16 << 10, LogDropThreshold: 1})
	client := &http.Client{Timeout: 10 * time.Second}
	reminders := func() string {
		raw := `{"input":{"started_at":"2025-02-20T00:00:00+08:00","expires_at":"2025-03-20T18:00:00+08:00"},"as_of":"2025-02-20T00:00:00+08:00"}`
		resp, err := client.Post(srv.URL+"/v1/decisions/trial.reminders", "application/json", strings.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var d struct {
			DecisionID string `json:"decision_id"`
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &d) != nil {
			t.Fatalf("trial.reminders: %d %s", resp.StatusCode, body)
		}
		return d.DecisionID
	}
	if r := testserver.Get(t, client, srv.URL, "/readyz"); r.Status != http.StatusOK {
		t.Fatalf("readyz before the outage: %d %s", r.Status, r.Raw)
	}
	proxy.Kill()
	var ids []string
	for range 200 {
		ids = append(ids, reminders())
	}
	if r := testserver.Get(t, client, srv.URL, "/readyz"); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("readyz during the outage: %d %s", r.Status, r.Raw)
	}
	// The spool cannot hold them all: some are dropped, counted as spool_full.
	lost := 0
	for deadline := time.Now().Add(30 * time.Second); lost == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		lost = droppedTotal(t, client, srv.URL)
	}
	if lost == 0 {
		t.Fatalf("200 decisions with a spool of 16 KiB and no database dropped nothing")
	}
	proxy.Restore()
	admin, err := pgxpool.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// Every answered decision ends up stored or counted as dropped, never both: the sum reaches the
	// number answered only when nothing is left in the queue or the spool.
	var stored int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		lost = droppedTotal(t, client, srv.URL)
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM decision_log WHERE id = ANY($1)`, ids).Scan(&stored); err == nil && stored+lost == len(ids) {
			break
		}
	}
	by := dropped(t, client, srv.URL)
	if stored+lost != len(ids) || by[decisionlog.DropSpoolFull] != lost {
		t.Fatalf("%d answered: %d stored, dropped %v; want spool_full to count exactly the rest", len(ids), stored, by)
	}
	rows, err := admin.Query(ctx, `SELECT id FROM decision_log WHERE id = ANY($1)`, ids)
	if err != nil {
		t.Fatal(err)
	}
	storedIDs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range storedIDs {
		if r := testserver.Get(t, client, srv.URL, "/v1/decisions/"+id); r.Status != http.StatusOK {
			t.Fatalf("GET /v1/decisions/%s: %d %s", id, r.Status, r.Raw)
		}
	}
	if r := testserver.Get(t, client, srv.URL, "/readyz"); r.Status != http.StatusServiceUnavailable || r.Body["code"] != "decision_log_degraded" || !strings.Contains(fmt.Sprint(r.Body["detail"]), "dropped") {
		t.Fatalf("readyz within a minute of %d drops (threshold 1): %d %s", lost, r.Status, r.Raw)
	}
}

// TestSpoolSurvivesAProcessCrash: decisions answered by a server process while the database is away
// wait in its spool on disk; the process is killed (no shutdown), and the next process on the same
// spool folder writes them to the database.
func TestSpoolSurvivesAProcessCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	ctx := context.Background()
	db := pgtest.New(t)
	proxy, via := tcpproxy.ForURL(t, db)
	dir := t.TempDir()
	env := []string{"DATABASE_URL=" + via + "&connect_timeout=1", "ARBITER_LOG_SPOOL_DIR=" + dir}
	first := testserver.StartProcessEnv(t, env...)
	client := testserver.Client()
	proxy.Kill()
	var ids []string
	for range 50 {
		r := testserver.PostRaw(t, client, first.URL, "/v1/decisions/trial.reminders",
			[]byte(`{"input":{"started_at":"2025-02-20T00:00:00+08:00","expires_at":"2025-03-20T18:00:00+08:00"},"as_of":"2025-02-20T00:00:00+08:00"}`))
		if r.Status != http.StatusOK {
			t.Fatalf("trial.reminders without the database: %d %s", r.Status, r.Raw)
		}
		ids = append(ids, fmt.Sprint(r.Body["decision_id"]))
	}
	spooled := func() string {
		files, _ := filepath.Glob(filepath.Join(dir, "*", "*.jsonl"))
		var all []byte
		for _, f := range files {
			raw, _ := os.ReadFile(f)
			all = append(all, raw...)
		}
		return string(all)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		missing := 0
		text := spooled()
		for _, id := range ids {
			if !strings.Contains(text, id) {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d decisions did not reach the spool", missing, len(ids))
		}
	}
	if err := first.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	proxy.Restore()
	testserver.StartProcessEnv(t, env...)
	admin, err := pgxpool.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var stored int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM decision_log WHERE id = ANY($1)`, ids).Scan(&stored); err == nil && stored == len(ids) {
			break
		}
	}
	if stored != len(ids) {
		t.Fatalf("after the restart %d of %d spooled decisions reached the database", stored, len(ids))
	}
}
