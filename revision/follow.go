package revision

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Applier builds a revision's tree aside, runs its cases and swaps it in; it returns false (with a
// reason) when the revision must not serve.
type Applier func(ctx context.Context, rev Revision, t Tree) (ok bool, reason string)

// FollowerStatus is what a replica reports about published revisions in /v1/status.
type FollowerStatus struct {
	// Mode is "published" when a published revision serves, "unpublished" when the database holds
	// none yet (the compiled-in or ARBITER_POLICY_DIR tree serves).
	Mode    string    `json:"mode"`
	Serving *Revision `json:"serving,omitempty"`
	Latest  int64     `json:"latest_seen,omitempty"`
	// Rejected is the newest revision that failed on this replica, and why; nil when none did since the
	// one serving.
	Rejected *Rejection `json:"rejected,omitempty"`
	// Listening is false while the LISTEN connection is down (polling still catches up).
	Listening bool      `json:"listening"`
	CheckedAt time.Time `json:"checked_at"`
}

// Rejection is a published revision this replica refused to serve.
type Rejection struct {
	Seq    int64     `json:"seq"`
	Tree   string    `json:"tree"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// Follower keeps one replica on the latest published revision: it listens on Channel and polls every
// Interval as a fallback (a NOTIFY sent while the replica was down or its connection broken is lost).
type Follower struct {
	store    *Store
	apply    Applier
	log      *slog.Logger
	interval time.Duration

	mu     sync.Mutex
	status FollowerStatus
	tried  int64 // the newest revision applied or rejected
	// noListen leaves polling as the only way to learn of a publish (tests of the fallback).
	noListen bool

	serving  *prometheus.GaugeVec
	rejected prometheus.Gauge
	rejects  prometheus.Counter
}

// NewFollower returns a follower that applies new revisions of store with apply; it registers its
// metrics on reg (nil: none).
func NewFollower(store *Store, apply Applier, interval time.Duration, log *slog.Logger, reg prometheus.Registerer) *Follower {
	if interval <= 0 {
		interval = 10 * time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	f := &Follower{store: store, apply: apply, log: log, interval: interval, status: FollowerStatus{Mode: "unpublished"},
		serving: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "arbiter_published_revision", Help: "1 for the published revision this replica serves (seq and tree digest).",
		}, []string{"seq", "tree"}),
		rejected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "arbiter_published_revision_rejected", Help: "Number of the newest published revision this replica refused to serve (0: none).",
		}),
		rejects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arbiter_published_revision_rejections_total", Help: "Published revisions that failed to load or pass their cases on this replica.",
		}),
	}
	if reg != nil {
		reg.MustRegister(f.serving, f.rejected, f.rejects)
	}
	return f
}

// Status returns what the replica serves and what it refused.
func (f *Follower) Status() FollowerStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.status
	return s
}

// Sync applies the latest revision when this replica has not tried it yet, and reports whether it
// serves it.
func (f *Follower) Sync(ctx context.Context) error {
	h, err := f.store.Head(ctx)
	f.mu.Lock()
	f.status.CheckedAt = time.Now()
	f.mu.Unlock()
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.status.Latest = h.Seq
	done := h.Seq == f.tried
	f.mu.Unlock()
	if done {
		return nil
	}
	t, err := f.store.Tree(ctx, h.Seq)
	if err != nil {
		return err
	}
	ok, reason := f.apply(ctx, h, t)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tried = h.Seq
	if !ok {
		f.status.Rejected = &Rejection{Seq: h.Seq, Tree: h.Tree, Reason: reason, At: time.Now()}
		f.rejected.Set(float64(h.Seq))
		f.rejects.Inc()
		f.log.Error("published revision refused; the previous policy set keeps serving", "revision", h.Name(), "tree", h.Tree, "reason", reason)
		return nil
	}
	rev := h
	f.status.Mode, f.status.Serving, f.status.Rejected = "published", &rev, nil
	f.rejected.Set(0)
	f.serving.Reset()
	f.serving.WithLabelValues(strconv.FormatInt(h.Seq, 10), h.Tree).Set(1)
	f.log.Info("serving published revision", "revision", h.Name(), "tree", h.Tree, "message", h.Message)
	return nil
}

// Run follows the store until ctx ends: a NOTIFY on Channel or every interval, it syncs.
func (f *Follower) Run(ctx context.Context) {
	notified := make(chan struct{}, 1)
	if !f.noListen {
		go f.listen(ctx, notified)
	}
	tick := time.NewTicker(f.interval)
	defer tick.Stop()
	for {
		if err := f.Sync(ctx); err != nil && ctx.Err() == nil {
			f.log.Warn("checking published revisions failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-notified:
		case <-tick.C:
		}
	}
}

// listen holds a LISTEN connection, reconnecting after failures, and signals every notification.
func (f *Follower) listen(ctx context.Context, notified chan<- struct{}) {
	for ctx.Err() == nil {
		err := f.listenOnce(ctx, notified)
		f.setListening(false)
		if ctx.Err() != nil {
			return
		}
		f.log.Warn("revision notifications interrupted; polling until reconnected", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (f *Follower) listenOnce(ctx context.Context, notified chan<- struct{}) error {
	pc, err := f.store.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection holds LISTEN state: it must not return to the pool.
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	f.setListening(true)
	// A publish between the last poll and LISTEN would be missed without this nudge.
	select {
	case notified <- struct{}{}:
	default:
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		select {
		case notified <- struct{}{}:
		default:
		}
	}
}

func (f *Follower) setListening(v bool) {
	f.mu.Lock()
	f.status.Listening = v
	f.mu.Unlock()
}
