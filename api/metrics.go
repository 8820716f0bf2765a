package api

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the service's Prometheus instruments.
type Metrics struct {
	Decisions      *prometheus.CounterVec
	DecisionErrors *prometheus.CounterVec
	Latency        *prometheus.HistogramVec
	Reloads        *prometheus.CounterVec
	ReloadOK       prometheus.Gauge
	Revision       *prometheus.GaugeVec
	LogDropped     *prometheus.CounterVec
	Overloaded     prometheus.Counter
	Requests       *prometheus.HistogramVec // every HTTP request, errors included
}

// NewMetrics registers the service's instruments on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arbiter_decisions_total", Help: "Decisions answered, by decision and outcome.",
		}, []string{"decision", "outcome"}),
		DecisionErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arbiter_decision_errors_total", Help: "Decision requests answered with a problem, by decision and code.",
		}, []string{"decision", "code"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "arbiter_decision_duration_seconds", Help: "Time to answer a decision request.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"decision"}),
		Reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arbiter_reloads_total", Help: "Policy set reloads, by result.",
		}, []string{"result"}),
		ReloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "arbiter_reload_last_ok", Help: "1 when the last reload succeeded (or none was tried), 0 when it failed.",
		}),
		Revision: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "arbiter_active_revision", Help: "1 for the revision of the policy set being served.",
		}, []string{"revision"}),
		LogDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arbiter_decision_log_dropped_total",
			Help: "Decisions never logged, by reason: queue_full, closed, encode_failed, write_failed (PostgreSQL refused the row), spool_full.",
		}, []string{"reason"}),
		Overloaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arbiter_overload_rejected_total", Help: "Decision requests refused with 503 overloaded because the evaluations in flight were at the limit.",
		}),
		Requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "arbiter_http_request_duration_seconds", Help: "Time to answer an HTTP request, by route, method, status and decision (POST /v1/decisions only).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1, 5},
		}, []string{"route", "method", "status", "decision"}),
	}
	m.ReloadOK.Set(1)
	reg.MustRegister(m.Decisions, m.DecisionErrors, m.Latency, m.Reloads, m.ReloadOK, m.Revision, m.LogDropped, m.Overloaded, m.Requests)
	return m
}

// SetRevision marks rev as the only active revision.
func (m *Metrics) SetRevision(rev string) {
	m.Revision.Reset()
	m.Revision.WithLabelValues(rev).Set(1)
}
