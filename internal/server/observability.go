package server

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"arbiter/internal/buildinfo"
)

// registerBuildInfo exports arbiter_build_info{version,commit,go_version} = 1.
func registerBuildInfo(reg prometheus.Registerer) {
	info := buildinfo.Get()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "arbiter_build_info", Help: "Always 1; the labels name the running build.",
	}, []string{"version", "commit", "go_version"})
	g.WithLabelValues(info.Version, info.Commit, info.GoVersion).Set(1)
	reg.MustRegister(g)
}

// poolCollector exports the PostgreSQL connection pool's statistics at scrape time.
type poolCollector struct {
	pool                                          *pgxpool.Pool
	total, idle, acquired, constructing, max      *prometheus.Desc
	acquires, emptyAcquires, canceled, acquireDur *prometheus.Desc
}

func newPoolCollector(pool *pgxpool.Pool) *poolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("arbiter_db_pool_"+name, help, nil, nil)
	}
	return &poolCollector{pool: pool,
		total:         d("connections", "Connections in the pool (idle, acquired and being opened)."),
		idle:          d("idle_connections", "Idle connections in the pool."),
		acquired:      d("acquired_connections", "Connections in use."),
		constructing:  d("constructing_connections", "Connections being opened."),
		max:           d("max_connections", "Most connections the pool opens."),
		acquires:      d("acquires_total", "Successful connection acquisitions."),
		emptyAcquires: d("empty_acquires_total", "Acquisitions that waited because the pool had no idle connection."),
		canceled:      d("canceled_acquires_total", "Acquisitions given up by their context."),
		acquireDur:    d("acquire_seconds_total", "Time spent acquiring connections."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.total, c.idle, c.acquired, c.constructing, c.max, c.acquires, c.emptyAcquires, c.canceled, c.acquireDur} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.total, float64(s.TotalConns()))
	gauge(c.idle, float64(s.IdleConns()))
	gauge(c.acquired, float64(s.AcquiredConns()))
	gauge(c.constructing, float64(s.ConstructingConns()))
	gauge(c.max, float64(s.MaxConns()))
	counter(c.acquires, float64(s.AcquireCount()))
	counter(c.emptyAcquires, float64(s.EmptyAcquireCount()))
	counter(c.canceled, float64(s.CanceledAcquireCount()))
	counter(c.acquireDur, s.AcquireDuration().Seconds())
}
