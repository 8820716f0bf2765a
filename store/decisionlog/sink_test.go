package decisionlog_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"arbiter/store/decisionlog"
)

// receiver is an OPA decision-log service: it decodes each gzip'd JSON array of events, and answers
// with status() (200 when nil).
type receiver struct {
	mu       sync.Mutex
	events   []map[string]any
	ids      map[string]int
	attempts atomic.Int64
	status   atomic.Value // func() int
	bad      []string
}

func newReceiver() *receiver {
	r := &receiver{ids: map[string]int{}}
	r.status.Store(func() int { return http.StatusOK })
	return r
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.attempts.Add(1)
	code := r.status.Load().(func() int)()
	if code != http.StatusOK {
		w.WriteHeader(code)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if req.Method != http.MethodPost || req.Header.Get("Content-Encoding") != "gzip" || req.Header.Get("Content-Type") != "application/json" {
		r.bad = append(r.bad, fmt.Sprintf("%s with %v", req.Method, req.Header))
	}
	zr, err := gzip.NewReader(req.Body)
	if err != nil {
		r.bad = append(r.bad, err.Error())
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var events []map[string]any
	if err := json.NewDecoder(zr).Decode(&events); err != nil {
		r.bad = append(r.bad, err.Error())
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	for _, e := range events {
		r.events = append(r.events, e)
		r.ids[fmt.Sprint(e["decision_id"])]++
	}
}

func (r *receiver) received() (n int, dup int, bad []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.ids {
		if c > 1 {
			dup += c - 1
		}
	}
	return len(r.events), dup, append([]string(nil), r.bad...)
}

type sinkCounts struct {
	mu      sync.Mutex
	shipped int
	dropped map[string]int
	retries int
}

func (c *sinkCounts) options(url string) decisionlog.SinkOptions {
	c.dropped = map[string]int{}
	return decisionlog.SinkOptions{
		URL: url, BatchSize: 10, Buffer: 50, Interval: 10 * time.Millisecond, MinBackoff: 5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond,
		Labels:    map[string]string{"app": "arbiter", "id": "test"},
		OnShipped: func(n int) { c.mu.Lock(); c.shipped += n; c.mu.Unlock() },
		OnDrop:    func(reason string, n int) { c.mu.Lock(); c.dropped[reason] += n; c.mu.Unlock() },
		OnRetry:   func(error) { c.mu.Lock(); c.retries++; c.mu.Unlock() },
	}
}

func (c *sinkCounts) get() (shipped int, dropped map[string]int, retries int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := map[string]int{}
	for k, v := range c.dropped {
		d[k] = v
	}
	return c.shipped, d, c.retries
}

func sinkRecord(i int) decisionlog.Record {
	r := record(i, "demo.checkout")
	r.Caller = "key:k1"
	r.Envelope = json.RawMessage(fmt.Sprintf(`{"decision_id": "d%04d", "outcome": "allow", "revision": "sha256:abc"}`, i))
	return r
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSinkShipsOPAEvents: batches reach the receiver as OPA's decision_logs plugin sends them, with
// the fields OPA's consumers read.
func TestSinkShipsOPAEvents(t *testing.T) {
	rcv := newReceiver()
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	var c sinkCounts
	sink := decisionlog.NewHTTPSink(c.options(srv.URL + "/logs"))
	for i := range 25 {
		if !sink.Enqueue(sinkRecord(i)) {
			t.Fatalf("record %d refused", i)
		}
	}
	if err := sink.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	n, dup, bad := rcv.received()
	if n != 25 || dup != 0 || len(bad) > 0 {
		t.Fatalf("received %d events (%d duplicates), want 25; bad requests: %v", n, dup, bad)
	}
	if shipped, dropped, _ := c.get(); shipped != 25 || len(dropped) != 0 || sink.Shipped() != 25 {
		t.Fatalf("shipped %d (%d), dropped %v", shipped, sink.Shipped(), dropped)
	}
	if got := rcv.attempts.Load(); got < 3 {
		t.Fatalf("%d POSTs for 25 events in batches of 10, want at least 3", got)
	}
	e := rcv.events[3]
	want := map[string]any{
		"decision_id": "d0003", "path": "demo/checkout", "requested_by": "key:k1",
		"input":   map[string]any{"account_id": "A1", "amount": "129.90"},
		"result":  map[string]any{"decision_id": "d0003", "outcome": "allow", "revision": "sha256:abc"},
		"labels":  map[string]any{"app": "arbiter", "id": "test"},
		"bundles": map[string]any{"arbiter": map[string]any{"revision": "sha256:abc"}},
		"arbiter": map[string]any{"decision": "demo.checkout", "version": "2025.1", "outcome": "allow", "as_of": "2025-06-01T03:00:00Z"},
	}
	for k, v := range want {
		got, _ := json.Marshal(e[k])
		exp, _ := json.Marshal(v)
		if string(got) != string(exp) {
			t.Errorf("event %s = %s, want %s", k, got, exp)
		}
	}
	if ts, err := time.Parse(time.RFC3339Nano, fmt.Sprint(e["timestamp"])); err != nil || !ts.Equal(sinkRecord(3).RecordedAt) {
		t.Errorf("timestamp %v (%v), want %v", e["timestamp"], err, sinkRecord(3).RecordedAt)
	}
	if _, ok := e["facts"]; ok {
		t.Error("facts were shipped")
	}
}

// TestSinkRetriesWhileTheReceiverIsDown: nothing listens at first, then the receiver answers 503 a
// few times: the batches are sent again with backoff and every event arrives once, none dropped.
func TestSinkRetriesWhileTheReceiverIsDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there for now: connection refused
	var c sinkCounts
	sink := decisionlog.NewHTTPSink(c.options("http://" + addr + "/logs"))
	for i := range 40 {
		sink.Enqueue(sinkRecord(i))
	}
	waitFor(t, "retries while nothing listens", func() bool { _, _, r := c.get(); return r >= 3 })

	rcv := newReceiver()
	var refusals atomic.Int64
	rcv.status.Store(func() int {
		if refusals.Add(1) <= 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	srv := httptest.NewUnstartedServer(rcv)
	srv.Listener = l
	srv.Start()
	defer srv.Close()
	for i := 40; i < 45; i++ {
		sink.Enqueue(sinkRecord(i))
	}
	waitFor(t, "every event delivered", func() bool { n, _, _ := rcv.received(); return n >= 45 })
	if err := sink.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	n, dup, bad := rcv.received()
	shipped, dropped, retries := c.get()
	if n != 45 || dup != 0 || len(bad) > 0 || shipped != 45 || len(dropped) != 0 {
		t.Fatalf("received %d (%d duplicates, bad %v), shipped %d, dropped %v; want 45 once, none dropped", n, dup, bad, shipped, dropped)
	}
	if retries < 3+3 {
		t.Fatalf("%d retries, want at least 6 (3 refused connections, 3 answers 503)", retries)
	}
}

// TestSinkBufferOverflowIsCountedExactly: while the receiver is down, one batch is being retried and
// the buffer holds 50 events: of 60 more, exactly 10 are refused and counted (buffer_full); once the
// receiver is back, the other 51 arrive.
func TestSinkBufferOverflowIsCountedExactly(t *testing.T) {
	rcv := newReceiver()
	var down atomic.Bool
	down.Store(true)
	rcv.status.Store(func() int {
		if down.Load() {
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	var c sinkCounts
	sink := decisionlog.NewHTTPSink(c.options(srv.URL + "/logs"))
	sink.Enqueue(sinkRecord(0))
	waitFor(t, "the first batch to be tried", func() bool { return rcv.attempts.Load() > 0 })
	refused := 0
	for i := 1; i <= 60; i++ {
		if !sink.Enqueue(sinkRecord(i)) {
			refused++
		}
	}
	if refused != 10 {
		t.Fatalf("%d events refused, want 10 (one in flight, 50 buffered)", refused)
	}
	down.Store(false)
	waitFor(t, "the buffered events delivered", func() bool { n, _, _ := rcv.received(); return n >= 51 })
	if err := sink.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	n, dup, _ := rcv.received()
	shipped, dropped, retries := c.get()
	if n != 51 || dup != 0 || shipped != 51 || dropped[decisionlog.SinkDropBufferFull] != 10 || len(dropped) != 1 || sink.Dropped() != 10 || retries == 0 {
		t.Fatalf("received %d (%d duplicates), shipped %d, dropped %v (%d), retries %d; want 51, 51, buffer_full 10", n, dup, shipped, dropped, sink.Dropped(), retries)
	}
}

// TestSinkDrops: a batch the receiver refuses (400) is not retried, and what is left when Close
// gives up on a receiver that stays down is counted as closed.
func TestSinkDrops(t *testing.T) {
	tests := []struct {
		name   string
		status int
		reason string
	}{
		{"refused", http.StatusBadRequest, decisionlog.SinkDropRejected},
		{"down at close", http.StatusServiceUnavailable, decisionlog.SinkDropClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := newReceiver()
			rcv.status.Store(func() int { return tt.status })
			srv := httptest.NewServer(rcv)
			defer srv.Close()
			var c sinkCounts
			sink := decisionlog.NewHTTPSink(c.options(srv.URL + "/logs"))
			for i := range 15 {
				sink.Enqueue(sinkRecord(i))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_ = sink.Close(ctx)
			shipped, dropped, _ := c.get()
			if shipped != 0 || dropped[tt.reason] != 15 || len(dropped) != 1 {
				t.Fatalf("shipped %d, dropped %v; want %s 15", shipped, dropped, tt.reason)
			}
			if sink.Enqueue(sinkRecord(99)) {
				t.Fatal("accepted an event after Close")
			}
		})
	}
}
