package api

import (
	"net/http"
	"runtime"
	"strconv"
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
}

func newAdmission(limit int, rejected func()) *admission {
	if limit <= 0 {
		limit = DefaultMaxInFlight()
	}
	return &admission{slots: make(chan struct{}, limit), rejected: rejected}
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
				a.rejected()
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
