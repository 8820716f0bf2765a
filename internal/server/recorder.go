package server

import (
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"arbiter/engine"
	"arbiter/store/decisionlog"
)

// Recorder hands decisions to the decision log without blocking: encoding happens on its own
// goroutine, and a full queue drops (and counts) rather than slowing a decision down.
type Recorder struct {
	log     decisionlog.Log
	dropped prometheus.Counter
	queue   chan pending
	done    chan struct{}
	once    sync.Once
	mu      sync.RWMutex
	closed  bool
}

type pending struct {
	d     *engine.Decision
	input any
	facts map[string]any
	at    time.Time
}

// NewRecorder starts a recorder feeding log; dropped counts decisions that could not be queued.
func NewRecorder(log decisionlog.Log, dropped prometheus.Counter) *Recorder {
	r := &Recorder{log: log, dropped: dropped, queue: make(chan pending, 4096), done: make(chan struct{})}
	go r.run()
	return r
}

// Record implements engine.Recorder; the decision and its facts must not be modified afterwards.
func (r *Recorder) Record(d *engine.Decision, input any, loaded map[string]any) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		r.dropped.Inc()
		return
	}
	select {
	case r.queue <- pending{d: d, input: input, facts: loaded, at: time.Now()}:
	default:
		r.dropped.Inc()
	}
}

func (r *Recorder) run() {
	defer close(r.done)
	for p := range r.queue {
		envelope, err1 := json.Marshal(p.d)
		in, err2 := json.Marshal(p.input)
		fs, err3 := json.Marshal(p.facts)
		if errors.Join(err1, err2, err3) != nil {
			r.dropped.Inc()
			continue
		}
		rec := decisionlog.Record{
			ID: p.d.DecisionID, Decision: p.d.Decision, Version: p.d.Policy.Version, Outcome: p.d.Outcome,
			AsOf: p.d.AsOf, RecordedAt: p.at, Envelope: envelope, Input: in, Facts: fs,
		}
		if !r.log.Enqueue(rec) {
			r.dropped.Inc()
		}
	}
}

// Close stops accepting decisions and hands every queued one to the log.
func (r *Recorder) Close() {
	r.once.Do(func() {
		r.mu.Lock()
		r.closed = true
		close(r.queue)
		r.mu.Unlock()
	})
	<-r.done
}
