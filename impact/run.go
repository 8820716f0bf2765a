package impact

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
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
	Changed   int    `json:"changed"`
	Skipped   int    `json:"skipped"`
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

type job struct {
	rec decisionlog.Record
	seq int64
}

// Run replays every record src yields against set on all workers and aggregates the differences; memory
// holds a bounded queue of records, never the log. When ctx ends it returns the partial report
// (Cancelled) and ctx's error.
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
	jobs := make(chan job, opts.Workers*64)
	parts := make([]*Report, opts.Workers)
	var wg sync.WaitGroup
	for i := range parts {
		parts[i] = newReport()
		wg.Add(1)
		go func(rep *Report) {
			defer wg.Done()
			w := &worker{set: set, shift: opts.Shift, examples: opts.Examples, rep: rep, st: &replayStore{}}
			w.engine = engine.New(set, w.st, engine.WithTimeout(10*time.Second))
			for j := range jobs {
				if w.replay(ctx, j) {
					changed.Add(1)
				}
				done.Add(1)
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
	srcErr := src(ctx, func(rec decisionlog.Record) error {
		n := read.Add(1)
		select {
		case jobs <- job{rec: rec, seq: n}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
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
}

// replay evaluates one record and folds the result into the worker's report; it returns whether the
// decision changed.
func (w *worker) replay(ctx context.Context, j job) bool {
	rec := j.rec
	rep := w.rep
	flip := Flip{DecisionID: rec.ID, Decision: rec.Decision, AsOf: rec.AsOf, ReplayAsOf: w.shift.Apply(rec.AsOf), seq: j.seq}
	skip := func(reason, detail string) bool {
		rep.Skipped++
		rep.SkippedBy[reason]++
		flip.Skipped = reason + ": " + detail
		w.example(flip)
		return false
	}
	var before engine.Decision
	if err := json.Unmarshal(rec.Envelope, (*loggedEnvelope)(&before)); err != nil || before.Outcome == "" {
		return skip("envelope_unreadable", fmt.Sprint(err))
	}
	input, facts, err := decodeLogged(rec)
	if err != nil {
		return skip("log_entry_unreadable", err.Error())
	}
	if facts == nil {
		return skip("facts_not_logged", "the log entry holds no facts")
	}
	if before.AsOfSource == engine.AsOfFromClock {
		rep.NonDeterministic++
	}
	req := engine.Request{Decision: rec.Decision, Input: input, AsOf: flip.ReplayAsOf, DryRun: true}
	if before.Policy.Pinned {
		req.Version = before.Policy.Version
	}
	w.st.facts = facts
	after, err := w.engine.Decide(ctx, req)
	if err != nil {
		var fe *FactNotLoggedError
		switch code := engine.CodeOf(err); {
		case errors.As(err, &fe):
			return skip("fact_not_logged", fe.Error())
		case code == engine.CodeUnknownDecision:
			return skip("decision_not_in_candidate", err.Error())
		case ctx.Err() != nil:
			return false
		default:
			rep.Replayed++
			rep.Changed++
			rep.ByOutcome[before.Outcome+" -> error:"+string(code)]++
			flip.Error = err.Error()
			w.example(flip)
			return true
		}
	}
	rep.Replayed++
	change, ok := Diff(&before, after)
	if !ok {
		rep.Unchanged++
		return false
	}
	rep.Changed++
	if change.Outcome[0] != "" {
		rep.ByOutcome[change.Outcome[0]+" -> "+change.Outcome[1]]++
	}
	for _, c := range change.ReasonsAdded {
		rep.ReasonsAdded[c]++
	}
	for _, c := range change.ReasonsRemoved {
		rep.ReasonsRemoved[c]++
	}
	for k, v := range change.Outputs {
		s := rep.Outputs[k]
		if s == nil {
			s = &OutputSummary{}
			rep.Outputs[k] = s
		}
		s.Changed++
		if v.Delta == "" {
			s.NonNumeric++
			continue
		}
		d, _ := decimal.NewFromString(v.Delta)
		s.total = s.total.Add(d)
		s.numeric++
	}
	flip.Change = &change
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
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "WARNING: %s\n", w)
	}
	section := func(title string, m map[string]int) {
		if len(m) == 0 {
			return
		}
		fmt.Fprintf(&b, "%s:\n", title)
		for _, k := range sortedKeys(m) {
			fmt.Fprintf(&b, "  %-40s %d\n", k, m[k])
		}
	}
	section("skipped", r.SkippedBy)
	section("outcome changes", r.ByOutcome)
	section("reasons added", r.ReasonsAdded)
	section("reasons removed", r.ReasonsRemoved)
	if len(r.Outputs) > 0 {
		fmt.Fprintf(&b, "outputs:\n")
		for _, k := range sortedKeys(r.Outputs) {
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

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
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
