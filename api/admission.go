package api

import (
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"arbiter/engine"
)

// codeOverloaded answers a request refused because the service is at capacity (admission control or
// an exhausted connection pool); the client may retry after Retry-After seconds.
const codeOverloaded = string(engine.CodeOverloaded)

// retryAfterSeconds is the Retry-After of an overloaded answer: evaluations take milliseconds, so a
// second is enough for the backlog to clear without inviting a stampede.
const retryAfterSeconds = 1

// admissionWait is how long a request may wait for a slot before it is refused: long enough to ride
// out a burst of a few requests, too short to build a queue.
const admissionWait = 2 * time.Millisecond

// DefaultMaxInFlight is the number of evaluations admitted at once when Config.MaxInFlight is 0:
// four per core keeps the cores busy while requests wait on the database.
func DefaultMaxInFlight() int { return 4 * runtime.GOMAXPROCS(0) }

// admission bounds the evaluations in flight; excess requests are refused at once with 503
// overloaded instead of queueing behind the ones being evaluated.
type admission struct {
	slots    chan struct{}
	rejected func()
	log      *slog.Logger
	logged   atomic.Int64 // unix nanoseconds of the last refusal logged: at most one a second
}

func newAdmission(limit int, rejected func(), log *slog.Logger) *admission {
	if limit <= 0 {
		limit = DefaultMaxInFlight()
	}
	return &admission{slots: make(chan struct{}, limit), rejected: rejected, log: log}
}

// refused counts a refusal and logs its cause, once a second at most: under overload a line per
// refusal would add to the load.
func (a *admission) refused() {
	a.rejected()
	now, last := time.Now().UnixNano(), a.logged.Load()
	if now-last >= int64(time.Second) && a.logged.CompareAndSwap(last, now) {
		a.log.Warn("at capacity: refusing decision requests with 503 overloaded", "max_inflight", cap(a.slots))
	}
}

// middleware admits a request when a slot is free, or frees within admissionWait; otherwise it answers 503.
func (a *admission) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case a.slots <- struct{}{}:
		default:
			t := time.NewTimer(admissionWait)
			select {
			case a.slots <- struct{}{}:
				t.Stop()
			case <-t.C:
				a.refused()
				writeProblem(w, r, problem(http.StatusServiceUnavailable, codeOverloaded,
					"the service is at capacity ("+strconv.Itoa(cap(a.slots))+" evaluations in flight); retry shortly"))
				return
			case <-r.Context().Done():
				return
			}
		}
		defer func() { <-a.slots }()
		next.ServeHTTP(w, r)
	})
}
