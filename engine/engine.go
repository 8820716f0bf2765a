package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"arbiter/engine/lang"
	"arbiter/engine/value"

	"arbiter/store"
)

// Request asks for one decision.
type Request struct {
	Decision string
	// Input is the caller's input in the engine's value model (see package value).
	Input any
	// AsOf is the instant the decision is made for; zero means the server clock, recorded as such.
	AsOf time.Time
	// Version pins a policy version instead of choosing it by AsOf.
	Version string
	// Explain returns the facts and rule tables the policy saw.
	Explain bool
	// Trace also returns which conditions of the policy held (Explanation.Conditions). It traces the
	// evaluation, which is several times slower: for authors (arbiter eval --explain), not for traffic.
	Trace bool
	// DryRun evaluates a commit decision without recording anything.
	DryRun bool
	// Caller identifies who asked ("key:<id>", "jwt:<subject>", "anonymous"); it is recorded in the
	// decision log and in the commit record, never in the answer.
	Caller string
}

// Recorder receives every decision made, off the hot path; it must not block.
type Recorder interface {
	Record(d *Decision, input any, facts map[string]any, caller string)
}

// Engine evaluates decisions over the active policy set and a fact store. It is safe for concurrent use.
type Engine struct {
	set      atomic.Pointer[PolicySet]
	store    store.Store
	clock    func() time.Time
	timeout  time.Duration
	recorder Recorder
	sink     Recorder
	tables   map[string]any // rule-table data by table id, replacing the set's versions
	skew     time.Duration  // how far a commit's as_of may be from the clock; negative: not checked
}

// DefaultCommitClockSkew is how far a commit request's as_of may differ from the server clock.
const DefaultCommitClockSkew = 5 * time.Minute

// Option configures an Engine.
type Option func(*Engine)

// WithClock sets the clock used when a request gives no as_of, and the instant of every commit.
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.clock = now } }

// WithCommitClockSkew sets how far a commit request's as_of may differ from the clock before it is
// refused (default DefaultCommitClockSkew). A negative d lets a commit keep the request's as_of: only
// for harnesses that replay acts at pinned instants over scratch data.
func WithCommitClockSkew(d time.Duration) Option { return func(e *Engine) { e.skew = d } }

// WithTimeout bounds each evaluation.
func WithTimeout(d time.Duration) Option { return func(e *Engine) { e.timeout = d } }

// WithRecorder sends every decision to r.
func WithRecorder(r Recorder) Option { return func(e *Engine) { e.recorder = r } }

// WithSink sends every decision made to r, committed ones included (the recorder gets those through
// the commit's own transaction instead); the replay of a commit is not sent again.
func WithSink(r Recorder) Option { return func(e *Engine) { e.sink = r } }

// WithTables replaces the data of rule tables (by table id) in every decision, as a test case may;
// the envelope marks each replaced version with "+override".
func WithTables(data map[string]any) Option { return func(e *Engine) { e.tables = data } }

// New returns an engine serving set over store.
func New(set *PolicySet, store store.Store, opts ...Option) *Engine {
	e := &Engine{store: store, clock: time.Now, timeout: 2 * time.Second, skew: DefaultCommitClockSkew}
	for _, o := range opts {
		o(e)
	}
	e.set.Store(set)
	return e
}

// PolicySet returns the active policy set.
func (e *Engine) PolicySet() *PolicySet { return e.set.Load() }

// Swap atomically replaces the active policy set; in-flight decisions finish on the old one.
func (e *Engine) Swap(s *PolicySet) { e.set.Store(s) }

// Store returns the fact store.
func (e *Engine) Store() store.Store { return e.store }

// Decide evaluates one decision. Errors are *Error with a machine code.
func (e *Engine) Decide(ctx context.Context, req Request) (*Decision, error) {
	set := e.set.Load()
	asOfSource := AsOfFromRequest
	if req.AsOf.IsZero() {
		req.AsOf = e.clock()
		asOfSource = AsOfFromClock
	} else if err := CheckAsOf(req.AsOf); err != nil {
		return nil, &Error{Code: CodeInvalidInput, Message: "as_of " + err.Error(), Fields: []FieldError{{Field: "as_of", Message: err.Error()}}}
	}
	pv, err := set.selectVersion(req.Decision, req.Version, req.AsOf)
	if err != nil {
		return nil, err
	}
	// Callers in Go may hand over json.Number or int; both languages must see the one value model.
	if req.Input, err = value.Canonical(req.Input, "input"); err != nil {
		var ve *value.Error
		errors.As(err, &ve)
		return nil, &Error{Code: CodeInvalidInput, Message: err.Error(), Fields: []FieldError{{Field: ve.Path, Message: ve.Message}}}
	}
	if pv.commit != nil && !req.DryRun && asOfSource == AsOfFromRequest && e.skew >= 0 {
		// A commit records an act: it happens now, whatever instant the caller names. A dry run
		// records nothing, so it may ask what a commit would have answered at another instant.
		now := e.clock()
		if diff := req.AsOf.Sub(now).Abs(); diff > e.skew {
			return nil, &Error{Code: CodeAsOfNotNow, Message: fmt.Sprintf("%s records an act, so it is decided at the server's clock (%s); as_of %s is %s away (at most %s)",
				req.Decision, now.Format(time.RFC3339), req.AsOf.Format(time.RFC3339), diff.Round(time.Second), e.skew),
				Fields: []FieldError{{Field: "as_of", Message: "must be the current time (or omitted) for a commit decision"}}}
		}
		req.AsOf, asOfSource = now, AsOfFromClock
		if pv, err = set.selectVersion(req.Decision, req.Version, req.AsOf); err != nil {
			return nil, err
		}
	}
	if fields := validateFields(pv.schema, req.Input, "input"); len(fields) > 0 {
		return nil, &Error{Code: CodeInvalidInput, Message: "input does not match the decision's schema", Fields: fields}
	}
	lookups, err := pv.lookups(req.Input, req.AsOf)
	if err != nil {
		return nil, err
	}
	tables, refs, err := set.tablesAt(pv, req, e.tables, nil)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	d := &Decision{
		Envelope: EnvelopeVersion, Decision: pv.decision,
		Policy: PolicyRef{Version: pv.version, Digest: pv.digest, Language: pv.language, Pinned: req.Version != ""},
		Tables: refs, AsOf: req.AsOf, AsOfSource: asOfSource, Revision: set.revision,
	}
	var loaded map[string]any
	ctx, sp := startSpan(ctx, "arbiter.decide", attribute.String("arbiter.decision", pv.decision), attribute.String("arbiter.policy_version", pv.version))
	if pv.commit != nil {
		loaded, err = e.commit(ctx, set, pv, req, lookups, tables, d)
	} else {
		loaded, err = e.evaluate(ctx, e.store, set, pv, req, lookups, tables, d)
	}
	endSpan(sp, err, d)
	if err != nil {
		return nil, err
	}
	if req.Explain {
		if d.Explain == nil {
			d.Explain = &Explanation{}
		}
		d.Explain.Facts, d.Explain.Rules = loaded, tables
	}
	// A stored commit was logged in its own transaction (store.CommitRecord.Log); a replay was logged before.
	if e.recorder != nil && (d.Commit == nil || !d.Commit.Replayed && !d.Commit.Committed) {
		e.recorder.Record(d, req.Input, loaded, req.Caller)
	}
	if e.sink != nil && (d.Commit == nil || !d.Commit.Replayed) {
		e.sink.Record(d, req.Input, loaded, req.Caller)
	}
	return d, nil
}

type loader interface {
	Load(ctx context.Context, lookups []store.Lookup) (store.Facts, error)
}

// evaluate loads facts through l, runs the program and fills d.
func (e *Engine) evaluate(ctx context.Context, l loader, set *PolicySet, pv *policyVersion, req Request, lookups []store.Lookup, tables map[string]any, d *Decision) (map[string]any, error) {
	if trace.SpanFromContext(ctx).IsRecording() {
		l = tracedLoader{l}
	}
	loaded, err := l.Load(ctx, lookups)
	if err != nil {
		return nil, factsError(err)
	}
	// Facts keyed by other facts load in later stages: one more round trip each.
	for stage := 1; stage <= pv.stages; stage++ {
		next, err := pv.stageLookups(stage, req.Input, loaded, req.AsOf)
		if err != nil {
			return nil, err
		}
		more, err := l.Load(ctx, next)
		if err != nil {
			return nil, factsError(err)
		}
		for k, v := range more {
			loaded[k] = v
		}
	}
	if pv.lateTables {
		more, refs, err := set.tablesAt(pv, req, e.tables, loaded)
		if err != nil {
			return nil, err
		}
		for k, v := range more {
			tables[k] = v
		}
		d.Tables = append(d.Tables, refs...)
		sort.Slice(d.Tables, func(i, j int) bool { return d.Tables[i].Name < d.Tables[j].Name })
	}
	evalCtx, sp := startSpan(ctx, "arbiter.evaluate", attribute.String("arbiter.language", pv.language))
	doc := lang.Doc{Request: req.Input, Facts: loaded, Rules: tables, RulesKey: e.rulesKey(d.Tables), Now: req.AsOf}
	var r *lang.Result
	var conds []lang.Condition
	if req.Trace {
		r, conds, err = explain(evalCtx, pv.program, doc)
	} else {
		r, err = pv.program.Eval(evalCtx, doc)
	}
	endSpan(sp, err, nil)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return nil, errorf(CodeEvaluationTimeout, err, "evaluation of %s did not finish in time", pv.decision)
		}
		// The cause names policy files and lines: it stays in Error() for the log, out of Message.
		return nil, errorf(CodePolicyError, err, "policy %s@%s failed to evaluate", pv.decision, pv.version)
	}
	r.Finish(pv.ruleOrder)
	if req.Trace {
		d.Explain = &Explanation{Conditions: conds}
	}
	d.DecisionID = newDecisionID()
	d.Outcome = r.Outcome
	d.Reasons = r.Reasons
	d.Outputs = r.Outputs
	if pv.commit != nil {
		d.Commit = &CommitInfo{Entries: r.Ledger}
	}
	return loaded, nil
}

// explain evaluates with the program's trace when its language gives one (lang.Explainer).
func explain(ctx context.Context, p lang.Program, doc lang.Doc) (*lang.Result, []lang.Condition, error) {
	if ex, ok := p.(lang.Explainer); ok {
		return ex.Explain(ctx, doc)
	}
	r, err := p.Eval(ctx, doc)
	return r, nil, err
}

// rulesKey identifies the rule-table versions a decision read; overridden tables are not cached.
func (e *Engine) rulesKey(refs []TableRef) string {
	if len(e.tables) > 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("t")
	for _, r := range refs {
		b.WriteString("|")
		b.WriteString(r.Table)
		b.WriteString("@")
		b.WriteString(r.Version)
	}
	return b.String()
}

// commit decides and records consumption in one transaction under the plan's locks.
func (e *Engine) commit(ctx context.Context, set *PolicySet, pv *policyVersion, req Request, lookups []store.Lookup, tables map[string]any, d *Decision) (map[string]any, error) {
	key, locks, err := pv.commit.expand(req.Input, req.AsOf)
	if err != nil {
		return nil, err
	}
	hash := requestHash(pv.decision, req.Input)
	// Two requests with one idempotency key but different lock keys would otherwise run side by side
	// and meet only at the commits table's unique index.
	storeLocks := append(locks[:len(locks):len(locks)], "idempotency|"+pv.decision+"|"+key)
	var loaded map[string]any
	ctx, sp := startSpan(ctx, "arbiter.commit", attribute.Int("arbiter.locks", len(locks)))
	defer func() { endSpan(sp, err, nil) }()
	for attempt := 0; ; attempt++ {
		loaded, err = e.commitOnce(ctx, set, pv, req, lookups, tables, d, key, hash, locks, storeLocks)
		// A commit stored under the key since this one looked (a replica without the key lock, or a
		// race the lock did not cover) is found by looking again: replayed or refused as a conflict.
		if err == nil || attempt > 0 || !errors.Is(err, store.ErrCommitExists) {
			break
		}
	}
	if err != nil {
		var ee *Error
		if errors.As(err, &ee) {
			return nil, ee
		}
		return nil, factsError(err)
	}
	return loaded, nil
}

// commitOnce runs one commit transaction: replay, or decide and store the answer with its entries.
func (e *Engine) commitOnce(ctx context.Context, set *PolicySet, pv *policyVersion, req Request, lookups []store.Lookup, tables map[string]any, d *Decision,
	key, hash string, locks, storeLocks []string) (map[string]any, error) {
	var loaded map[string]any
	err := e.store.Commit(ctx, storeLocks, func(ctx context.Context, tx store.Tx) error {
		prev, err := tx.FindCommit(ctx, pv.decision, key)
		if err != nil {
			return err
		}
		if prev != nil && prev.RequestHash == hash {
			var stored Decision
			if err := json.Unmarshal(prev.Answer, &stored); err != nil {
				return fmt.Errorf("stored answer for %s: %w", key, err)
			}
			*d = stored
			d.Commit.Replayed = true
			return nil
		}
		loaded, err = e.evaluate(ctx, tx, set, pv, req, lookups, tables, d)
		if err != nil {
			return err
		}
		d.Commit.IdempotencyKey = key
		d.Commit.DryRun = req.DryRun
		// A referred act is pending with a person; with hold_on_refer it keeps what it asked for
		// (its ledger entries) until that person decides, so a concurrent act cannot take it too.
		held := pv.commit.holdOnRefer && d.Outcome == lang.OutcomeRefer && len(d.Commit.Entries) > 0
		if (d.Outcome != lang.OutcomeAllow && !held) || req.DryRun {
			d.Commit.Entries = nil
			return nil
		}
		if prev != nil {
			return &Error{Code: CodeIdempotencyReuse, Message: fmt.Sprintf("idempotency key %q was already committed with a different request", key),
				Fields: []FieldError{{Field: pv.commit.idempotencyKey.firstField(), Message: "was already used by a different request"}}}
		}
		entries, err := ledgerEntries(d.Commit.Entries, locks)
		if err != nil {
			return errorf(CodePolicyError, err, "policy %s@%s produced ledger entries that cannot be stored", pv.decision, pv.version)
		}
		d.Commit.Committed = true
		answer, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("encode answer: %w", err)
		}
		logged, err := logRecord(d, answer, req.Input, loaded, req.Caller)
		if err != nil {
			return err
		}
		return tx.SaveCommit(ctx, store.CommitRecord{
			Decision: pv.decision, IdempotencyKey: key, RequestHash: hash, DecisionID: d.DecisionID, Caller: req.Caller, Answer: answer, Log: logged,
		}, entries)
	})
	return loaded, err
}

func ledgerEntries(in []LedgerEntry, locks []string) ([]store.LedgerEntry, error) {
	allowed := make(map[string]bool, len(locks))
	for _, l := range locks {
		allowed[l] = true
	}
	out := make([]store.LedgerEntry, 0, len(in))
	for _, e := range in {
		if !allowed[e.Key] {
			return nil, fmt.Errorf("ledger key %q is not one of the commit's locks %v", e.Key, locks)
		}
		amt, err := decimal.NewFromString(e.Amount)
		if err != nil {
			return nil, fmt.Errorf("ledger key %q: %w", e.Key, err)
		}
		out = append(out, store.LedgerEntry{Key: e.Key, Amount: amt})
	}
	return out, nil
}

// MaxKeyLength bounds an idempotency or lock key in bytes: both are indexed in PostgreSQL, whose
// index entries cannot exceed about 2.7 kB.
const MaxKeyLength = 512

func (c *commitPlan) expand(input any, asOf time.Time) (string, []string, error) {
	k, fe := c.idempotencyKey.expand(input, asOf)
	if fe != nil {
		return "", nil, &Error{Code: CodeInvalidInput, Message: "the idempotency key cannot be formed", Fields: []FieldError{*fe}}
	}
	key := fmt.Sprint(k)
	if err := checkKey(key, "the idempotency key", c.idempotencyKey); err != nil {
		return "", nil, err
	}
	locks := make([]string, 0, len(c.locks))
	for _, t := range c.locks {
		v, fe := t.expand(input, asOf)
		if fe != nil {
			return "", nil, &Error{Code: CodeInvalidInput, Message: "a lock key cannot be formed", Fields: []FieldError{*fe}}
		}
		lock := fmt.Sprint(v)
		if err := checkKey(lock, "a lock key", t); err != nil {
			return "", nil, err
		}
		locks = append(locks, lock)
	}
	sort.Strings(locks)
	return key, locks, nil
}

// checkKey refuses a key the store cannot keep: too long, a NUL character or invalid UTF-8.
func checkKey(key, what string, t template) *Error {
	msg := ""
	switch {
	case len(key) > MaxKeyLength:
		msg = fmt.Sprintf("makes %s longer than %d bytes", what, MaxKeyLength)
	case strings.IndexByte(key, 0) >= 0 || !utf8.ValidString(key):
		msg = fmt.Sprintf("makes %s hold a NUL character or invalid UTF-8", what)
	default:
		return nil
	}
	field := t.firstField()
	if field == "" {
		field = "input"
	}
	return &Error{Code: CodeInvalidInput, Message: fmt.Sprintf("%s cannot be formed: %s", what, msg), Fields: []FieldError{{Field: field, Message: msg}}}
}

func requestHash(decision string, input any) string {
	raw, _ := value.Marshal(input) // maps encode with sorted keys: a stable form
	sum := sha256.Sum256(append([]byte(decision+"\x00"), raw...))
	return hex.EncodeToString(sum[:])
}

func newDecisionID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// factsError maps fact-store failures to engine errors.
func factsError(err error) error {
	var nf *store.NotFoundError
	switch {
	case errors.As(err, &nf):
		field := nf.Field
		msg := fmt.Sprintf("no %s matches %v", nf.Provider, nf.Key)
		fields := []FieldError{}
		if field != "" {
			fields = append(fields, FieldError{Field: field, Message: "does not exist"})
		}
		return &Error{Code: CodeFactNotFound, Message: msg, Fields: fields, Err: err}
	case errors.Is(err, store.ErrOverloaded):
		return &Error{Code: CodeOverloaded, Message: "the service is at capacity: no database connection was free in time", Err: err}
	case errors.Is(err, store.ErrUnavailable):
		return &Error{Code: CodeStoreUnavailable, Message: "the fact store is unavailable", Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: CodeEvaluationTimeout, Message: "the decision did not finish in time", Err: err}
	}
	return &Error{Code: CodeStoreUnavailable, Message: "the fact store failed", Err: err}
}

// lookups expands the keys of the first stage's facts (keyed by the input alone).
func (pv *policyVersion) lookups(input any, asOf time.Time) ([]store.Lookup, error) {
	return pv.stageLookups(0, input, nil, asOf)
}

// stageLookups expands the keys of one stage's facts against the input and the facts loaded so far.
func (pv *policyVersion) stageLookups(stage int, input any, loaded map[string]any, asOf time.Time) ([]store.Lookup, error) {
	out := make([]store.Lookup, 0, len(pv.facts))
	var bad []FieldError
	for _, f := range pv.facts {
		if f.stage != stage {
			continue
		}
		l := store.Lookup{Name: f.name, Provider: f.provider, Key: make(map[string]any, len(f.key))}
		for _, k := range f.key {
			v, fe := k.tmpl.expandWith(input, loaded, asOf)
			if fe != nil {
				bad = append(bad, *fe)
				continue
			}
			l.Key[k.column] = keyValue(v)
			if fld := k.tmpl.field(); fld != "" && l.Field == "" {
				l.Field = fld
			}
		}
		out = append(out, l)
	}
	if len(bad) > 0 {
		return nil, &Error{Code: CodeInvalidInput, Message: "input lacks a field the decision's facts are keyed by", Fields: dedupeFields(bad)}
	}
	return out, nil
}

func keyValue(v any) any {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return v
}

// selectVersion picks the pinned version, or the one effective at asOf.
func (s *PolicySet) selectVersion(decision, version string, asOf time.Time) (*policyVersion, error) {
	e, ok := s.decisions[decision]
	if !ok {
		return nil, &Error{Code: CodeUnknownDecision, Message: fmt.Sprintf("no decision %q", decision)}
	}
	if version != "" {
		for _, v := range e.versions {
			if v.version == version {
				return v, nil
			}
		}
		return nil, &Error{Code: CodeUnknownVersion, Message: fmt.Sprintf("decision %s has no version %q", decision, version),
			Fields: []FieldError{{Field: "version", Message: "is not a version of this decision"}}}
	}
	for _, v := range e.versions {
		if v.window.contains(asOf) {
			return v, nil
		}
	}
	return nil, &Error{Code: CodeNoEffectiveVersion, Message: fmt.Sprintf("no version of %s is effective at %s", decision, asOf.Format(time.RFC3339)),
		Fields: []FieldError{{Field: "as_of", Message: "is outside every version's window"}}}
}

// tablesAt returns the data of every table the version reads, each at the instant that chooses its
// version: as_of, or the date its manifest's at template makes from the input (and, when late, from
// the facts loaded). Without loaded facts it resolves the tables whose instant needs no fact; with
// them, only those that do. A table in overrides takes the override's data, marked "+override" (or
// "override" when no version is effective).
func (s *PolicySet) tablesAt(pv *policyVersion, req Request, overrides map[string]any, loaded map[string]any) (map[string]any, []TableRef, error) {
	data := make(map[string]any, len(pv.tables))
	refs := make([]TableRef, 0, len(pv.tables))
	for _, t := range pv.tables {
		if t.late() != (loaded != nil) {
			continue
		}
		at, field, err := t.instant(req, loaded)
		if err != nil {
			return nil, nil, err
		}
		tv := s.tables[t.id].at(at)
		ref := TableRef{Name: t.name, Table: t.id}
		if t.at != nil {
			ref.At = &at
		}
		if o, ok := overrides[t.id]; ok {
			ref.Version = "override"
			if tv != nil {
				ref.Version, ref.Digest = tv.version+"+override", tv.digest
			}
			data[t.name] = o
			refs = append(refs, ref)
			continue
		}
		if tv == nil {
			return nil, nil, &Error{Code: CodeNoTableVersion, Message: fmt.Sprintf("rule table %s has no version effective at %s", t.id, at.Format(time.RFC3339)),
				Fields: []FieldError{{Field: field, Message: "is outside every version of rule table " + t.id}}}
		}
		ref.Version, ref.Digest = tv.version, tv.digest
		data[t.name] = tv.data
		refs = append(refs, ref)
	}
	return data, refs, nil
}

// late reports whether the table's instant is made from facts, so it is chosen after they load.
func (t tableRef) late() bool { return t.at != nil && len(t.at.facts()) > 0 }

// instant is the time that chooses the table's version and the field it came from.
func (t tableRef) instant(req Request, loaded map[string]any) (time.Time, string, error) {
	if t.at == nil {
		return req.AsOf, "as_of", nil
	}
	field := t.at.source()
	v, fe := t.at.expandWith(req.Input, loaded, req.AsOf)
	if fe != nil {
		return time.Time{}, "", &Error{Code: CodeInvalidInput, Message: fmt.Sprintf("the date that chooses rule table %s cannot be formed", t.id), Fields: []FieldError{*fe}}
	}
	at, err := time.Parse(time.RFC3339, fmt.Sprint(v))
	if v == nil || err != nil {
		return time.Time{}, "", &Error{Code: CodeInvalidInput, Message: fmt.Sprintf("%s does not make a date choosing rule table %s (%q from %q)", field, t.id, fmt.Sprint(v), t.at.raw),
			Fields: []FieldError{{Field: field, Message: "does not make a valid date for rule table " + t.id}}, Err: err}
	}
	return at, field, nil
}

func (t *tableEntry) at(asOf time.Time) *tableVersion {
	for _, v := range t.versions {
		if v.window.contains(asOf) {
			return v
		}
	}
	return nil
}
