package server

import (
	"log/slog"
	"net/url"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"arbiter/internal/buildinfo"
	"arbiter/store/decisionlog"
)

// newSink starts the HTTP sink of cfg, with its metrics in reg.
func newSink(cfg Config, reg *prometheus.Registry, log *slog.Logger) *decisionlog.HTTPSink {
	shipped := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "arbiter_decision_log_sink_shipped_total", Help: "Decision events delivered to ARBITER_LOG_SINK_URL.",
	})
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "arbiter_decision_log_sink_dropped_total", Help: "Decision events given up without being delivered, by reason.",
	}, []string{"reason"})
	retries := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "arbiter_decision_log_sink_retries_total", Help: "POSTs of a batch of decision events that failed and were tried again.",
	})
	for _, r := range decisionlog.SinkDropReasons {
		dropped.WithLabelValues(r)
	}
	reg.MustRegister(shipped, dropped, retries)
	host, _ := os.Hostname()
	sink := decisionlog.NewHTTPSink(decisionlog.SinkOptions{
		URL: cfg.LogSinkURL, Token: cfg.LogSinkToken, BatchSize: cfg.LogSinkBatch, Buffer: cfg.LogSinkBuffer,
		Interval: cfg.LogSinkInterval, MaxBackoff: cfg.LogSinkMaxBackoff,
		Labels:    map[string]string{"app": "arbiter", "id": host, "version": buildinfo.Get().Version},
		OnShipped: func(n int) { shipped.Add(float64(n)) },
		OnDrop:    func(reason string, n int) { dropped.WithLabelValues(reason).Add(float64(n)) },
		OnRetry: func(err error) {
			retries.Inc()
			log.Warn("decision log sink", "err", err)
		},
	})
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "arbiter_decision_log_sink_buffered", Help: "Decision events waiting to be shipped.",
	}, func() float64 { return float64(sink.Buffered()) }))
	return sink
}

// redactURL drops credentials from u for the log.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable)"
	}
	return p.Redacted()
}
