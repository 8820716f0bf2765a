package impact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"arbiter/engine"
	"arbiter/store/decisionlog"
)

// Source streams logged decisions to fn, in order, until fn or the source fails or ctx ends.
type Source func(ctx context.Context, fn func(decisionlog.Record) error) error

// Records is a Source over records already in memory (tests, small logs).
func Records(recs []decisionlog.Record) Source {
	return func(ctx context.Context, fn func(decisionlog.Record) error) error {
		for _, r := range recs {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// Options tune a Run; zero values take the defaults.
type Options struct {
	Shift    Shift // evaluate each decision at its logged as_of shifted by this
	Workers  int   // replays in parallel; default GOMAXPROCS
	Examples int   // changed (and skipped) decisions listed in full; default 20
	// Progress is called about every Every with the counts so far, and once at the end.
	Progress func(Progress)
	Every    time.Duration // default 1s
	Expected int64         // records the source will yield, if known (for Progress)
	// NoDedup evaluates every logged decision even when an identical one was evaluated already.
	NoDedup bool
	// CacheEntries bounds the results kept for identical decisions; default 65536.
	CacheEntries int
}

// resultCache maps the hash of everything a replay reads of a logged decision to its result; it is
// bounded, emptied when full, and shared by the workers.
type resultCache struct {
	mu  sync.Mutex
	max int
	m   map[[sha256.Size]byte]result
}

func newResultCache(max int) *resultCache {
	if max <= 0 {
		max = 1 << 16
	}
	return &resultCache{max: max, m: map[[sha256.Size]byte]result{}}
}

func (c *resultCache) get(k [sha256.Size]byte) (result, bool) {
	c.mu.Lock()
	r, ok := c.m[k]
	c.mu.Unlock()
	return r, ok
}

func (c *resultCache) put(k [sha256.Size]byte, r result) {
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[k] = r
	c.mu.Unlock()
}

// Progress is a running count of a Run.
type Progress struct {
	Read     int64 `json:"read"`
	Done     int64 `json:"done"`
	Changed  int64 `json:"changed"`
	Expected int64 `json:"expected,omitempty"`
}

// OutputSummary is how one output moved across every changed decision.
type OutputSummary struct {
	Changed int `json:"changed"`
	// TotalDelta is the sum of after - before over the decisions where both are decimals (money moved).
	TotalDelta string `json:"total_delta,omitempty"`
	// NonNumeric counts changes without a decimal delta (text, lists, a number appearing as text).
	NonNumeric int `json:"non_numeric,omitempty"`
	total      decimal.Decimal
	numeric    int
}

// Flip is one logged decision the candidate decides differently, or could not replay.
type Flip struct {
	DecisionID string    `json:"decision_id"`
	Decision   string    `json:"decision"`
	AsOf       time.Time `json:"as_of"`
	ReplayAsOf time.Time `json:"replay_as_of"`
	Change     *Change   `json:"change,omitempty"`
	Error      string    `json:"error,omitempty"`   // the candidate failed to decide (counted as a change)
	Skipped    string    `json:"skipped,omitempty"` // why it was not replayed
	seq        int64
}

// Report summarises a replay of logged decisions against a candidate policy set.
type Report struct {
	Candidate string `json:"candidate_revision"`
	Shift     string `json:"as_of_shift,omitempty"`
	Read      int    `json:"read"`
	Replayed  int    `json:"replayed"`
	Unchanged int    `json:"unchanged"`
	// Evaluated counts candidate evaluations: a logged decision identical to one already evaluated
	// (same decision, as_of, input, facts and logged result) reuses that result and is counted as usual.
	Evaluated int `json:"evaluated"`
	Changed   int `json:"changed"`
	Skipped   int `json:"skipped"`
	// SkippedBy counts decisions not replayed by reason (unreadable log entry, a fact the candidate reads
	// that was not logged, a decision the candidate does not have).
	SkippedBy map[string]int `json:"skipped_by_reason"`
	// NonDeterministic counts replayed decisions whose as_of came from the server clock: the logged
	// instant is used, but the caller did not choose it.
	NonDeterministic int `json:"nondeterministic"`
	// ByOutcome counts changed decisions by "before -> after" outcome; a candidate that fails to decide
	// shows as "error:<code>".
	ByOutcome      map[string]int            `json:"by_outcome"`
	ReasonsAdded   map[string]int            `json:"reasons_added"`
	ReasonsRemoved map[string]int            `json:"reasons_removed"`
	Outputs        map[string]*OutputSummary `json:"outputs"`
	Examples       []Flip                    `json:"examples"`
	Warnings       []string                  `json:"warnings,omitempty"`
	Elapsed        string                    `json:"elapsed"`
	PerSecond      float64                   `json:"decisions_per_second"`
	Cancelled      bool                      `json:"cancelled,omitempty"`
}

func newReport() *Report {
	return &Report{SkippedBy: map[string]int{}, ByOutcome: map[string]int{}, ReasonsAdded: map[string]int{},
		ReasonsRemoved: map[string]int{}, Outputs: map[string]*OutputSummary{}, Examples: []Flip{}}
}

// batch is how many records travel to a worker at once: fewer channel hand-offs per record.
const batch = 64

type job struct {
	recs []decisionlog.Record
	seq  int64 // sequence number of recs[0]; the log order of the others follows
}

// Run replays every record src yields against set on all workers and aggregates the differences; memory
// holds a bounded queue of records, never the log. When ctx ends it returns the partial report
// (Cancelled) and ctx's error.
//
// Logged decisions that repeat one another exactly (the same decision, as_of, input, facts and logged
// outcome, reasons and outputs) are evaluated once and counted every time (Options.NoDedup turns that
// off); the report is the same either way, and Evaluated says how many evaluations it took.
func Run(ctx context.Context, set *engine.PolicySet, src Source, opts Options) (*Report, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Examples <= 0 {
		opts.Examples = 20
	}
	if opts.Every <= 0 {
		opts.Every = time.Second
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var read, done, changed atomic.Int64
	jobs := make(chan job, opts.Workers*4)
	free := make(chan []decisionlog.Record, opts.Workers*4+2)
	parts := make([]*Report, opts.Workers)
	var cache *resultCache
	if !opts.NoDedup {
		cache = newResultCache(opts.CacheEntries)
	}
	var wg sync.WaitGroup
	for i := range parts {
		parts[i] = newReport()
		wg.Add(1)
		go func(rep *Report) {
			defer wg.Done()
			w := newWorker(set, opts, rep, cache)
			for j := range jobs {
				for k := range j.recs {
					if w.replay(ctx, j.recs[k], j.seq+int64(k)) {
						changed.Add(1)
					}
					j.recs[k] = decisionlog.Record{}
				}
				done.Add(int64(len(j.recs)))
				select {
				case free <- j.recs[:0]:
				default:
				}
			}
		}(parts[i])
	}
	progress := func() {
		if opts.Progress != nil {
			opts.Progress(Progress{Read: read.Load(), Done: done.Load(), Changed: changed.Load(), Expected: opts.Expected})
		}
	}
	stopTicker := make(chan struct{})
	tickerDone := make(chan struct{})
	go func() {
		defer close(tickerDone)
		t := time.NewTicker(opts.Every)
		defer t.Stop()
		for {
			select {
			case <-stopTicker:
				return
			case <-t.C:
				progress()
			}
		}
	}()
	var pending []decisionlog.Record
	var pendingSeq int64
	send := func() error {
		if len(pending) == 0 {
			return nil
		}
		select {
		case jobs <- job{recs: pending, seq: pendingSeq}:
			pending = nil
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	srcErr := src(ctx, func(rec decisionlog.Record) error {
		n := read.Add(1)
		if pending == nil {
			select {
			case pending = <-free:
			default:
				pending = make([]decisionlog.Record, 0, batch)
			}
			pendingSeq = n
		}
		pending = append(pending, rec)
		if len(pending) < batch {
			return ctx.Err()
		}
		return send()
	})
	if srcErr == nil {
		srcErr = send()
	}
	close(jobs)
	wg.Wait()
	close(stopTicker)
	<-tickerDone
	progress()

	rep := merge(parts, opts.Examples)
	rep.Candidate, rep.Shift = set.Revision(), opts.Shift.String()
	rep.Read = int(read.Load())
	elapsed := time.Since(start)
	rep.Elapsed = elapsed.Round(time.Millisecond).String()
	if s := elapsed.Seconds(); s > 0 {
		rep.PerSecond = float64(rep.Read) / s
	}
	if rep.Read == 0 {
		rep.Warnings = append(rep.Warnings, "no logged decision matched: nothing was replayed, so this is not an all-clear")
	}
	if rep.Skipped > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d decision(s) could not be replayed (see skipped_by_reason)", rep.Skipped))
	}
	if rep.NonDeterministic > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d decision(s) took as_of from the server clock; they were replayed at the logged instant", rep.NonDeterministic))
	}
	if srcErr != nil {
		if ctx.Err() != nil {
			rep.Cancelled = true
		}
		return rep, srcErr
	}
	return rep, nil
}

type worker struct {
	set      *engine.PolicySet
	engine   *engine.Engine
	st       *replayStore
	shift    Shift
	examples int
	rep      *Report
	cache    *resultCache
	keys     map[string]string // interned names, see scanner
	hash     hash.Hash
	sum      [sha256.Size]byte
}

func newWorker(set *engine.PolicySet, opts Options, rep *Report, cache *resultCache) *worker {
	w := &worker{set: set, shift: opts.Shift, examples: opts.Examples, rep: rep, st: &replayStore{}, cache: cache,
		keys: map[string]string{}, hash: sha256.New()}
	w.engine = engine.New(set, w.st, engine.WithTimeout(10*time.Second))
	return w
}

// result is what replaying one logged decision came to. Logged decisions that are the same in every
// respect a replay reads come to the same result, so one result can stand for all of them.
type result struct {
	skipped, detail string // not replayed: why
	nondet          bool   // as_of came from the server clock
	cancelled       bool   // the replay ended before this decision was decided
	errLabel        string // the candidate failed: "before -> error:<code>"
	err             string
	transient       bool    // the failure may not repeat (a timeout): never stands for another record
	change          *Change // nil: unchanged
	deltas          []outputDelta
}

// outputDelta is one changed output's money moved, parsed once per result.
type outputDelta struct {
	name    string
	delta   decimal.Decimal
	numeric bool
}

// replay replays one record (or finds the result of an identical one) and folds it into the worker's
// report; it returns whether the decision changed.
func (w *worker) replay(ctx context.Context, rec decisionlog.Record, seq int64) bool {
	flip := Flip{DecisionID: rec.ID, Decision: rec.Decision, AsOf: rec.AsOf, ReplayAsOf: w.shift.Apply(rec.AsOf), seq: seq}
	parts, ok := scanEnvelope(rec.Envelope, w.keys)
	if !ok {
		return w.fold(w.reference(ctx, rec, flip.ReplayAsOf), flip)
	}
	var key [sha256.Size]byte
	if w.cache != nil {
		key = w.key(rec, &parts)
		if res, ok := w.cache.get(key); ok {
			return w.fold(res, flip)
		}
	}
	res := w.evaluate(ctx, rec, flip.ReplayAsOf, &parts)
	if w.cache != nil && !res.cancelled && !res.transient {
		w.cache.put(key, res)
	}
	return w.fold(res, flip)
}

// key hashes everything of a record that its result depends on, each part length-prefixed.
func (w *worker) key(rec decisionlog.Record, p *loggedParts) [sha256.Size]byte {
	h := w.hash
	h.Reset()
	var buf [binary.MaxVarintLen64]byte
	part := func(b []byte) {
		h.Write(buf[:binary.PutUvarint(buf[:], uint64(len(b)))])
		h.Write(b)
	}
	text := func(s string) {
		h.Write(buf[:binary.PutUvarint(buf[:], uint64(len(s)))])
		io.WriteString(h, s)
	}
	text(rec.Decision)
	_, offset := rec.AsOf.Zone()
	h.Write(buf[:binary.PutVarint(buf[:], rec.AsOf.UnixNano())])
	h.Write(buf[:binary.PutVarint(buf[:], int64(offset))])
	text(p.outcome)
	text(p.asOfSource)
	text(p.version)
	if p.pinned {
		text("pinned")
	} else {
		text("")
	}
	h.Write(buf[:binary.PutUvarint(buf[:], uint64(len(p.reasons)))])
	for _, r := range p.reasons {
		text(r)
	}
	part(p.outputs)
	part(rec.Input)
	part(rec.Facts)
	h.Sum(w.sum[:0])
	return w.sum
}

// evaluate replays a record whose envelope scanned cleanly: input and facts decoded straight into the
// value model, and the outputs compared with the logged JSON without decoding it when they agree.
func (w *worker) evaluate(ctx context.Context, rec decisionlog.Record, asOf time.Time, p *loggedParts) result {
	input, ok := decodeFast(rec.Input, w.keys)
	if !ok {
		return w.reference(ctx, rec, asOf)
	}
	f, ok := decodeFast(rec.Facts, w.keys)
	if !ok {
		return w.reference(ctx, rec, asOf)
	}
	facts, _ := f.(map[string]any)
	if facts == nil {
		return result{skipped: "facts_not_logged", detail: "the log entry holds no facts"}
	}
	res := result{nondet: p.asOfSource == engine.AsOfFromClock}
	req := engine.Request{Decision: rec.Decision, Input: input, AsOf: asOf, DryRun: true}
	if p.pinned {
		req.Version = p.version
	}
	after, err := w.decide(ctx, req, facts, &res)
	if err != nil {
		res.errLabel = p.outcome + " -> " + res.errLabel
		return res
	}
	if after == nil {
		return res
	}
	if after.Outcome == p.outcome && sameCodes(p.reasons, after.Reasons) &&
		(p.outputs == nil && len(after.Outputs) == 0 || p.outputs != nil && rawSame(p.outputs, after.Outputs)) {
		return res
	}
	before := engine.Decision{Outcome: p.outcome, AsOfSource: p.asOfSource, Policy: engine.PolicyRef{Version: p.version, Pinned: p.pinned}}
	before.Reasons = make([]engine.Reason, len(p.reasons))
	for i, c := range p.reasons {
		before.Reasons[i].Code = c
	}
	if p.outputs != nil {
		dec := json.NewDecoder(bytes.NewReader(p.outputs))
		dec.UseNumber()
		if err := dec.Decode(&before.Outputs); err != nil {
			return w.reference(ctx, rec, asOf)
		}
	}
	w.compare(&res, &before, after)
	return res
}

// decide evaluates req over facts; a nil decision with a nil error means res already says what
// happened (skipped or cancelled), an error means the candidate failed (res.errLabel holds its code).
func (w *worker) decide(ctx context.Context, req engine.Request, facts map[string]any, res *result) (*engine.Decision, error) {
	w.st.facts = facts
	w.rep.Evaluated++
	after, err := w.engine.Decide(ctx, req)
	w.st.facts = nil
	if err == nil {
		return after, nil
	}
	var fe *FactNotLoggedError
	switch code := engine.CodeOf(err); {
	case errors.As(err, &fe):
		res.skipped, res.detail = "fact_not_logged", fe.Error()
	case code == engine.CodeUnknownDecision:
		res.skipped, res.detail = "decision_not_in_candidate", err.Error()
	case ctx.Err() != nil:
		res.cancelled = true
	default:
		res.errLabel, res.err = "error:"+string(code), err.Error()
		res.transient = code == engine.CodeEvaluationTimeout || code == engine.CodeOverloaded || code == engine.CodeStoreUnavailable
		return nil, err
	}
	return nil, nil
}

// compare fills res with how after differs from the logged decision.
func (w *worker) compare(res *result, before, after *engine.Decision) {
	change, ok := Diff(before, after)
	if !ok {
		return
	}
	res.change = &change
	for _, k := range slices.Sorted(maps.Keys(change.Outputs)) {
		d := outputDelta{name: k}
		if v := change.Outputs[k].Delta; v != "" {
			d.delta, _ = decimal.NewFromString(v)
			d.numeric = true
		}
		res.deltas = append(res.deltas, d)
	}
}

// reference replays a record the way encoding/json reads it: the path for envelopes, inputs and facts
// the fast readers leave alone, and the one that words the errors.
func (w *worker) reference(ctx context.Context, rec decisionlog.Record, asOf time.Time) result {
	var before engine.Decision
	if err := json.Unmarshal(rec.Envelope, (*loggedEnvelope)(&before)); err != nil || before.Outcome == "" {
		return result{skipped: "envelope_unreadable", detail: fmt.Sprint(err)}
	}
	input, facts, err := decodeLogged(rec)
	if err != nil {
		return result{skipped: "log_entry_unreadable", detail: err.Error()}
	}
	if facts == nil {
		return result{skipped: "facts_not_logged", detail: "the log entry holds no facts"}
	}
	res := result{nondet: before.AsOfSource == engine.AsOfFromClock}
	req := engine.Request{Decision: rec.Decision, Input: input, AsOf: asOf, DryRun: true}
	if before.Policy.Pinned {
		req.Version = before.Policy.Version
	}
	after, err := w.decide(ctx, req, facts, &res)
	if err != nil {
		res.errLabel = before.Outcome + " -> " + res.errLabel
		return res
	}
	if after != nil {
		w.compare(&res, &before, after)
	}
	return res
}

// sameCodes reports whether two lists hold the same reason codes (as sets, as Diff compares them).
func sameCodes(logged []string, after []engine.Reason) bool {
	for _, c := range logged {
		found := false
		for _, r := range after {
			if r.Code == c {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, r := range after {
		if !slices.Contains(logged, r.Code) {
			return false
		}
	}
	return true
}

// fold counts one logged decision's result into the worker's report; it returns whether it changed.
func (w *worker) fold(res result, flip Flip) bool {
	rep := w.rep
	if res.nondet { // only set once the record was read cleanly, as a plain replay counts it
		rep.NonDeterministic++
	}
	switch {
	case res.skipped != "":
		rep.Skipped++
		rep.SkippedBy[res.skipped]++
		flip.Skipped = res.skipped + ": " + res.detail
		w.example(flip)
		return false
	case res.cancelled:
		return false
	case res.errLabel != "":
		rep.Replayed++
		rep.Changed++
		rep.ByOutcome[res.errLabel]++
		flip.Error = res.err
		w.example(flip)
		return true
	}
	rep.Replayed++
	if res.change == nil {
		rep.Unchanged++
		return false
	}
	rep.Changed++
	change := res.change
	if change.Outcome[0] != "" {
		rep.ByOutcome[change.Outcome[0]+" -> "+change.Outcome[1]]++
	}
	for _, c := range change.ReasonsAdded {
		rep.ReasonsAdded[c]++
	}
	for _, c := range change.ReasonsRemoved {
		rep.ReasonsRemoved[c]++
	}
	for _, d := range res.deltas {
		s := rep.Outputs[d.name]
		if s == nil {
			s = &OutputSummary{}
			rep.Outputs[d.name] = s
		}
		s.Changed++
		if !d.numeric {
			s.NonNumeric++
			continue
		}
		s.total = s.total.Add(d.delta)
		s.numeric++
	}
	flip.Change = change
	w.example(flip)
	return true
}

// example keeps the first examples flips this worker saw (the lowest sequence numbers).
func (w *worker) example(f Flip) {
	if len(w.rep.Examples) < w.examples {
		w.rep.Examples = append(w.rep.Examples, f)
	}
}

func merge(parts []*Report, examples int) *Report {
	out := newReport()
	for _, p := range parts {
		out.Replayed += p.Replayed
		out.Unchanged += p.Unchanged
		out.Evaluated += p.Evaluated
		out.Changed += p.Changed
		out.Skipped += p.Skipped
		out.NonDeterministic += p.NonDeterministic
		add(out.SkippedBy, p.SkippedBy)
		add(out.ByOutcome, p.ByOutcome)
		add(out.ReasonsAdded, p.ReasonsAdded)
		add(out.ReasonsRemoved, p.ReasonsRemoved)
		for k, s := range p.Outputs {
			o := out.Outputs[k]
			if o == nil {
				o = &OutputSummary{}
				out.Outputs[k] = o
			}
			o.Changed += s.Changed
			o.NonNumeric += s.NonNumeric
			o.numeric += s.numeric
			o.total = o.total.Add(s.total)
		}
		out.Examples = append(out.Examples, p.Examples...)
	}
	for _, o := range out.Outputs {
		if o.numeric > 0 {
			o.TotalDelta = o.total.String()
		}
	}
	sort.Slice(out.Examples, func(i, j int) bool { return out.Examples[i].seq < out.Examples[j].seq })
	if len(out.Examples) > examples {
		out.Examples = out.Examples[:examples]
	}
	return out
}

func add(dst, src map[string]int) {
	for k, v := range src {
		dst[k] += v
	}
}

// Summary renders the report for a terminal: counts, flips, reasons, outputs with the money moved,
// then the listed examples.
func (r *Report) Summary() string {
	var b strings.Builder
	shift := ""
	if r.Shift != "" {
		shift = ", as_of shifted " + r.Shift
	}
	fmt.Fprintf(&b, "candidate %s%s: %d decisions read, %d replayed, %d changed, %d unchanged, %d skipped (%s, %.0f/s)\n",
		r.Candidate, shift, r.Read, r.Replayed, r.Changed, r.Unchanged, r.Skipped, r.Elapsed, r.PerSecond)
	if r.Evaluated < r.Replayed {
		fmt.Fprintf(&b, "%d evaluations: the other replayed decisions repeat one of them exactly (decision, as_of, input, facts, logged result)\n", r.Evaluated)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "WARNING: %s\n", w)
	}
	section := func(title string, m map[string]int) {
		if len(m) == 0 {
			return
		}
		fmt.Fprintf(&b, "%s:\n", title)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintf(&b, "  %-40s %d\n", k, m[k])
		}
	}
	section("skipped", r.SkippedBy)
	section("outcome changes", r.ByOutcome)
	section("reasons added", r.ReasonsAdded)
	section("reasons removed", r.ReasonsRemoved)
	if len(r.Outputs) > 0 {
		fmt.Fprintf(&b, "outputs:\n")
		for _, k := range slices.Sorted(maps.Keys(r.Outputs)) {
			o := r.Outputs[k]
			line := fmt.Sprintf("  %s: %d decisions change", k, o.Changed)
			if o.TotalDelta != "" {
				line += ", " + Money(o.TotalDelta) + " in all"
			}
			if o.NonNumeric > 0 {
				line += fmt.Sprintf(" (%d without a numeric difference)", o.NonNumeric)
			}
			fmt.Fprintln(&b, line)
		}
	}
	if len(r.Examples) > 0 {
		fmt.Fprintf(&b, "examples:\n")
		for _, f := range r.Examples {
			what := f.Skipped
			switch {
			case f.Error != "":
				what = "error: " + f.Error
			case f.Change != nil:
				what = f.Change.String()
			}
			fmt.Fprintf(&b, "  %s %s as of %s: %s\n", f.DecisionID, f.Decision, f.ReplayAsOf.Format(time.RFC3339), what)
		}
	}
	return b.String()
}

// Money writes a signed decimal with thousands separators: "+184,220.50".
func Money(d string) string {
	sign := "+"
	if strings.HasPrefix(d, "-") {
		sign, d = "-", d[1:]
	}
	whole, frac, hasFrac := strings.Cut(d, ".")
	var g []string
	for len(whole) > 3 {
		g = append([]string{whole[len(whole)-3:]}, g...)
		whole = whole[:len(whole)-3]
	}
	g = append([]string{whole}, g...)
	out := sign + strings.Join(g, ",")
	if hasFrac {
		out += "." + frac
	}
	return out
}

// loggedEnvelope decodes only what a replay compares and needs from a logged envelope.
type loggedEnvelope engine.Decision

func (l *loggedEnvelope) UnmarshalJSON(raw []byte) error {
	var e struct {
		AsOfSource string           `json:"as_of_source"`
		Outcome    string           `json:"outcome"`
		Policy     engine.PolicyRef `json:"policy"`
		Reasons    []struct {
			Code string `json:"code"`
		} `json:"reasons"`
		Outputs map[string]any `json:"outputs"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&e); err != nil {
		return err
	}
	l.AsOfSource, l.Outcome, l.Policy = e.AsOfSource, e.Outcome, e.Policy
	l.Reasons = make([]engine.Reason, len(e.Reasons))
	for i, r := range e.Reasons {
		l.Reasons[i].Code = r.Code
	}
	l.Outputs = e.Outputs
	return nil
}
