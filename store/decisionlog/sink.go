package decisionlog

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"arbiter/engine"
)

// Why an event was not shipped: the reason label of arbiter_decision_log_sink_dropped_total.
const (
	SinkDropBufferFull   = "buffer_full"   // the buffer was full (the endpoint is down or slow)
	SinkDropRejected     = "rejected"      // the endpoint refused the batch with a 4xx other than 408 or 429
	SinkDropEncodeFailed = "encode_failed" // the event could not be encoded as JSON
	SinkDropClosed       = "closed"        // still buffered when the service stopped, or recorded after
)

// SinkDropReasons lists every reason an event is not shipped.
var SinkDropReasons = []string{SinkDropBufferFull, SinkDropRejected, SinkDropEncodeFailed, SinkDropClosed}

// SinkOptions configure an HTTPSink; zero values take the defaults.
type SinkOptions struct {
	URL        string        // the endpoint batches are POSTed to, such as https://logs.example/logs
	Token      string        // sent as "Authorization: Bearer <token>" when set
	BatchSize  int           // events per POST; default 100
	Buffer     int           // events waiting to be shipped besides the batch being sent; default 10000
	Interval   time.Duration // longest wait before a partial batch is sent; default 1s
	MinBackoff time.Duration // first wait after a failed POST, doubled each time; default 100ms
	MaxBackoff time.Duration // longest wait between attempts; default 30s
	Timeout    time.Duration // bound of one POST; default 10s
	Labels     map[string]string
	Client     *http.Client // default: a client with no timeout of its own (Timeout bounds each POST)

	OnShipped func(n int)                // n events delivered
	OnDrop    func(reason string, n int) // n events given up, with one of SinkDropReasons
	OnRetry   func(err error)            // a POST failed and will be tried again
}

func (o SinkOptions) withDefaults() SinkOptions {
	if o.BatchSize <= 0 {
		o.BatchSize = 100
	}
	if o.Buffer <= 0 {
		o.Buffer = 10000
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	return o
}

// Event is one decision as OPA's decision_logs plugin reports it, so that consumers of OPA's
// decision-log service API read arbiter's too: path is the decision with "/" for ".", result the
// answer (the decision envelope), bundles names the policy revision, requested_by the caller. The
// arbiter field carries what OPA has no field for; facts are not shipped.
type Event struct {
	Labels      map[string]string    `json:"labels"`
	DecisionID  string               `json:"decision_id"`
	Bundles     map[string]BundleRef `json:"bundles,omitempty"`
	Path        string               `json:"path"`
	Input       json.RawMessage      `json:"input,omitempty"`
	Result      json.RawMessage      `json:"result,omitempty"`
	RequestedBy string               `json:"requested_by,omitempty"`
	Timestamp   time.Time            `json:"timestamp"`
	Metrics     map[string]any       `json:"metrics,omitempty"`
	Arbiter     EventDetail          `json:"arbiter"`
}

// BundleRef is the revision of a bundle an event was decided with.
type BundleRef struct {
	Revision string `json:"revision"`
}

// EventDetail is arbiter's part of an event.
type EventDetail struct {
	Decision string    `json:"decision"`
	Version  string    `json:"version"`
	Outcome  string    `json:"outcome"`
	AsOf     time.Time `json:"as_of"`
}

// HTTPSink ships decision events in batches to an HTTP endpoint in the format of OPA's decision-log
// service: each POST carries a gzip-compressed JSON array of events. A batch that fails (no answer,
// 408, 429 or 5xx) is sent again with exponential backoff until it is delivered; meanwhile new events
// wait in a bounded buffer, and an event that finds it full is dropped and counted. Delivery is at
// least once: a batch whose answer is lost is sent again.
type HTTPSink struct {
	opts    SinkOptions
	queue   chan Record
	done    chan struct{}
	stop    chan struct{} // closed by Close: stop waiting between attempts
	once    sync.Once
	mu      sync.RWMutex
	closed  bool
	shipped atomic.Uint64
	dropped atomic.Uint64
}

// NewHTTPSink starts a sink shipping to opts.URL.
func NewHTTPSink(opts SinkOptions) *HTTPSink {
	opts = opts.withDefaults()
	s := &HTTPSink{opts: opts, queue: make(chan Record, opts.Buffer), done: make(chan struct{}), stop: make(chan struct{})}
	go s.run()
	return s
}

// Record implements engine.Recorder: it encodes d as a record and buffers it, never blocking.
func (s *HTTPSink) Record(d *engine.Decision, input any, facts map[string]any, caller string) {
	e := entry{d: d, input: input, caller: caller, rec: Record{RecordedAt: time.Now()}}
	rec, err := e.encode()
	if err != nil {
		s.drop(SinkDropEncodeFailed, 1)
		return
	}
	s.Enqueue(rec)
}

// Enqueue buffers rec (its facts are not shipped) and never blocks; it returns false when the buffer
// is full or the sink closed, and counts the drop.
func (s *HTTPSink) Enqueue(rec Record) bool {
	rec.Facts = nil
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		s.drop(SinkDropClosed, 1)
		return false
	}
	select {
	case s.queue <- rec:
		return true
	default:
		s.drop(SinkDropBufferFull, 1)
		return false
	}
}

// Shipped counts events delivered; Dropped counts events given up, whatever the reason.
func (s *HTTPSink) Shipped() uint64 { return s.shipped.Load() }
func (s *HTTPSink) Dropped() uint64 { return s.dropped.Load() }

// Buffered is how many events wait in the buffer (not counting the batch being sent).
func (s *HTTPSink) Buffered() int { return len(s.queue) }

func (s *HTTPSink) drop(reason string, n int) {
	if n <= 0 {
		return
	}
	s.dropped.Add(uint64(n))
	if s.opts.OnDrop != nil {
		s.opts.OnDrop(reason, n)
	}
}

func (s *HTTPSink) run() {
	defer close(s.done)
	ticker := time.NewTicker(s.opts.Interval)
	defer ticker.Stop()
	batch := make([]Record, 0, s.opts.BatchSize)
	for {
		select {
		case rec, ok := <-s.queue:
			if !ok {
				s.ship(batch)
				return
			}
			batch = append(batch, rec)
			if len(batch) < s.opts.BatchSize {
				continue
			}
		case <-ticker.C:
			if len(batch) == 0 {
				continue
			}
		}
		if !s.ship(batch) {
			// Stopped while the endpoint was failing: the rest is given up.
			n := 0 // the batch itself was counted by ship
			for range s.queue {
				n++
			}
			s.drop(SinkDropClosed, n)
			return
		}
		batch = batch[:0]
	}
}

// ship delivers batch, retrying with backoff; it returns false when Close interrupted it (the
// batch is then not counted: the caller counts it with what is left).
func (s *HTTPSink) ship(batch []Record) bool {
	if len(batch) == 0 {
		return true
	}
	body, n, err := s.encode(batch)
	if err != nil {
		s.drop(SinkDropEncodeFailed, len(batch))
		return true
	}
	if n < len(batch) {
		s.drop(SinkDropEncodeFailed, len(batch)-n)
	}
	if n == 0 {
		return true
	}
	wait := s.opts.MinBackoff
	for {
		retry, err := s.post(body)
		switch {
		case err == nil:
			s.shipped.Add(uint64(n))
			if s.opts.OnShipped != nil {
				s.opts.OnShipped(n)
			}
			return true
		case !retry:
			s.drop(SinkDropRejected, n)
			return true
		}
		if s.opts.OnRetry != nil {
			s.opts.OnRetry(err)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.stop:
			t.Stop()
			// One last attempt, then what is left is given up.
			if _, err := s.post(body); err == nil {
				s.shipped.Add(uint64(n))
				if s.opts.OnShipped != nil {
					s.opts.OnShipped(n)
				}
				return true
			}
			s.drop(SinkDropClosed, n)
			return false
		}
		wait = min(wait*2, s.opts.MaxBackoff)
	}
}

// encode writes batch as a gzip-compressed JSON array of events, leaving out an event that cannot
// be encoded; n is how many it holds.
func (s *HTTPSink) encode(batch []Record) (body []byte, n int, err error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte{'['}); err != nil {
		return nil, 0, err
	}
	for _, rec := range batch {
		raw, err := json.Marshal(s.event(rec))
		if err != nil {
			continue
		}
		if n > 0 {
			zw.Write([]byte{','})
		}
		zw.Write(raw)
		n++
	}
	zw.Write([]byte{']'})
	if err := zw.Close(); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), n, nil
}

// event is rec as OPA reports a decision.
func (s *HTTPSink) event(rec Record) Event {
	var env struct {
		Revision string `json:"revision"`
	}
	_ = json.Unmarshal(rec.Envelope, &env)
	ev := Event{
		Labels: s.opts.Labels, DecisionID: rec.ID, Path: strings.ReplaceAll(rec.Decision, ".", "/"),
		Input: valid(rec.Input), Result: valid(rec.Envelope), RequestedBy: rec.Caller, Timestamp: rec.RecordedAt.UTC(),
		Arbiter: EventDetail{Decision: rec.Decision, Version: rec.Version, Outcome: rec.Outcome, AsOf: rec.AsOf},
	}
	if ev.Labels == nil {
		ev.Labels = map[string]string{}
	}
	if env.Revision != "" {
		ev.Bundles = map[string]BundleRef{"arbiter": {Revision: env.Revision}}
	}
	return ev
}

// valid keeps raw when it is JSON (a broken value must not break the whole batch).
func valid(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || !json.Valid(raw) {
		return nil
	}
	return raw
}

// post sends one batch; retry says whether a failure is worth another attempt.
func (s *HTTPSink) post(body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	if s.opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.opts.Token)
	}
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return true, fmt.Errorf("decisionlog: sink: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return true, fmt.Errorf("decisionlog: sink: %s answered %s", s.opts.URL, resp.Status)
	default:
		return false, fmt.Errorf("decisionlog: sink: %s refused a batch: %s", s.opts.URL, resp.Status)
	}
}

// Close stops accepting events and ships what is buffered until ctx ends; what is left then is
// counted as dropped (closed).
func (s *HTTPSink) Close(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.mu.Unlock()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		s.once.Do(func() { close(s.stop) })
		<-s.done
		return errors.New("decisionlog: sink: closed before everything buffered was shipped")
	}
}
