package server

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"arbiter/engine"
	"arbiter/internal/decisionlog"
)

// NewRecorder returns a recorder feeding log; dropped counts decisions the full queue refused.
func NewRecorder(log decisionlog.Log, dropped prometheus.Counter) *Recorder {
	return &Recorder{log: log, dropped: dropped}
}

// Recorder sends decisions to the decision log without blocking; drops are counted.
type Recorder struct {
	log     decisionlog.Log
	dropped prometheus.Counter
}

// Record implements engine.Recorder.
func (r *Recorder) Record(d *engine.Decision, input any, loaded map[string]any) {
	envelope, err1 := json.Marshal(d)
	in, err2 := json.Marshal(input)
	fs, err3 := json.Marshal(loaded)
	if err := errors.Join(err1, err2, err3); err != nil {
		r.dropped.Inc()
		return
	}
	rec := decisionlog.Record{
		ID: d.DecisionID, Decision: d.Decision, Version: d.Policy.Version, Outcome: d.Outcome,
		AsOf: d.AsOf, RecordedAt: time.Now(), Envelope: envelope, Input: in, Facts: fs,
	}
	if !r.log.Enqueue(rec) {
		r.dropped.Inc()
	}
}
