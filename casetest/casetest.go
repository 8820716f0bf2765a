// Package casetest runs the catalog cases of tests.yaml beside each policy version: `arbiter test`,
// the reload gate and the HTTP conformance test all run them through this package.
package casetest

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"

	"arbiter/engine"
	"arbiter/engine/lang"
	"arbiter/internal/strictyaml"
	"arbiter/store"
)

// ruleIDPattern is the shape of a catalog rule id (COUPON-07) that every case name must cite.
var ruleIDPattern = regexp.MustCompile(`\b[A-Z][A-Z0-9]*(-[A-Z0-9]+)+\b`)

type testFileYAML struct {
	Cases []testCaseYAML `yaml:"cases"`
}

type testCaseYAML struct {
	Name    string               `yaml:"name"`
	AsOf    time.Time            `yaml:"as_of"`
	Input   yaml.Node            `yaml:"input"`
	Given   yaml.Node            `yaml:"given"`
	Tables  map[string]yaml.Node `yaml:"tables"`
	DryRun  bool                 `yaml:"dry_run"`
	Explain bool                 `yaml:"explain"`
	Want    testWantYAML         `yaml:"want"`
}

type testWantYAML struct {
	Outcome string    `yaml:"outcome"`
	Reasons *[]string `yaml:"reasons"`
	Rules   *[]string `yaml:"rules"`
	Outputs yaml.Node `yaml:"outputs"`
	Error   string    `yaml:"error"`
	Fields  []string  `yaml:"fields"`
}

// Case is one catalog case from a tests.yaml file, ready to run against any fact store.
type Case struct {
	File     string
	Line     int
	Name     string
	Decision string
	Version  string
	AsOf     time.Time
	Input    any
	Rows     store.Rows
	Tables   map[string]any // rule-table data overrides by table id
	DryRun   bool
	Want     Want
}

// Want is what a case expects: an outcome with reason codes and outputs, or an error code.
type Want struct {
	Outcome string
	Reasons []string // nil: not checked
	Rules   []string // nil: not checked
	Outputs map[string]any
	Error   engine.Code
	Fields  []string
}

func loadFile(fsys fs.FS, dir string, cat *store.Catalog, ps *lang.Problems) []Case {
	file := path.Join(dir, "tests.yaml")
	raw, err := fs.ReadFile(fsys, file)
	if err != nil {
		ps.Add(lang.ProblemReference, file, 0, "missing: every policy version needs catalog cases in tests.yaml")
		return nil
	}
	var tf testFileYAML
	if !strictyaml.Decode(file, raw, &tf, ps) {
		return nil
	}
	parts := strings.Split(dir, "/")
	var out []Case
	names := map[string]bool{}
	for i, c := range tf.Cases {
		line := c.Input.Line
		if c.Name == "" {
			ps.Add(lang.ProblemInvalid, file, line, "cases[%d]: name is required", i)
			continue
		}
		if names[c.Name] {
			ps.Add(lang.ProblemInvalid, file, line, "case %q: duplicate name", c.Name)
		}
		names[c.Name] = true
		if !ruleIDPattern.MatchString(c.Name) {
			ps.Add(lang.ProblemInvalid, file, line, "case %q: the name must cite a catalog rule id (e.g. COUPON-07)", c.Name)
		}
		if c.AsOf.IsZero() {
			ps.Add(lang.ProblemInvalid, file, line, "case %q: as_of is required (decisions never read the wall clock)", c.Name)
		}
		tc := Case{File: file, Line: line, Name: c.Name, Decision: parts[1] + "." + parts[2], Version: parts[3], AsOf: c.AsOf, DryRun: c.DryRun}
		if c.Input.Kind == 0 {
			tc.Input = map[string]any{}
		} else if tc.Input, err = strictyaml.Value(&c.Input); err != nil {
			ps.Add(lang.ProblemInvalid, file, line, "case %q: input: %v", c.Name, err)
		}
		tc.Rows = store.Rows{}
		if c.Given.Kind != 0 {
			rows, err := store.ParseRowsNode(cat, file, &c.Given)
			if err != nil {
				ps.Add(lang.ProblemInvalid, file, c.Given.Line, "case %q: given: %v", c.Name, err)
			} else {
				tc.Rows = rows
			}
		}
		for id, n := range c.Tables {
			v, err := strictyaml.Value(&n)
			if err != nil {
				ps.Add(lang.ProblemInvalid, file, n.Line, "case %q: tables.%s: %v", c.Name, id, err)
				continue
			}
			if p := strictyaml.FindFloat(v, "tables."+id); p != "" {
				ps.Add(lang.ProblemInvalid, file, n.Line, "case %q: %s: write decimals as quoted strings", c.Name, p)
				continue
			}
			if tc.Tables == nil {
				tc.Tables = map[string]any{}
			}
			tc.Tables[id] = v
		}
		w := c.Want
		tc.Want = Want{Outcome: w.Outcome, Error: engine.Code(w.Error), Fields: w.Fields}
		if w.Reasons != nil {
			tc.Want.Reasons = append([]string{}, *w.Reasons...)
		}
		if w.Rules != nil {
			tc.Want.Rules = append([]string{}, *w.Rules...)
		}
		if w.Outputs.Kind != 0 {
			v, err := strictyaml.Value(&w.Outputs)
			if err != nil {
				ps.Add(lang.ProblemInvalid, file, w.Outputs.Line, "case %q: want.outputs: %v", c.Name, err)
			} else if m, ok := v.(map[string]any); ok {
				tc.Want.Outputs = m
			} else {
				ps.Add(lang.ProblemInvalid, file, w.Outputs.Line, "case %q: want.outputs must be a mapping", c.Name)
			}
		}
		if w.Outcome == "" && w.Error == "" {
			ps.Add(lang.ProblemInvalid, file, line, "case %q: want needs an outcome or an error", c.Name)
		}
		out = append(out, tc)
	}
	if len(tf.Cases) == 0 {
		ps.Add(lang.ProblemInvalid, file, 1, "no cases")
	}
	return out
}

// Load reads the tests.yaml of every policy version in set from fsys; every problem is reported at once.
func Load(fsys fs.FS, set *engine.PolicySet) ([]Case, error) {
	ps := &lang.Problems{}
	var out []Case
	for _, d := range set.Decisions() {
		for _, v := range d.Versions {
			out = append(out, loadFile(fsys, v.Dir, set.Catalog(), ps)...)
		}
	}
	if ps.Len() > 0 {
		return nil, &engine.LoadError{Problems: ps.List}
	}
	return out, nil
}

// nestedRules appends the rule ids of reasons reported inside outputs (per coupon, per line…):
// any object with a code and a rule.
func nestedRules(v any, out []string) []string {
	switch t := v.(type) {
	case map[string]any:
		if rule, ok := t["rule"].(string); ok {
			if _, hasCode := t["code"]; hasCode {
				out = append(out, rule)
			}
		}
		for _, c := range t {
			out = nestedRules(c, out)
		}
	case []any:
		for _, c := range t {
			out = nestedRules(c, out)
		}
	case []engine.Reason:
		for _, re := range t {
			out = append(out, re.Rule)
		}
	}
	return out
}

// Result is the verdict on one case.
type Result struct {
	Case     Case
	Failures []string
	Fired    []string // the catalog rule ids of the reasons the decision gave, top-level or in outputs
}

// Passed reports whether the case met every expectation.
func (r Result) Passed() bool { return len(r.Failures) == 0 }

// Run evaluates tc against a fresh in-memory store holding only the case's rows.
func Run(ctx context.Context, set *engine.PolicySet, tc Case) Result {
	mem, err := store.NewMemory(set.Catalog(), tc.Rows)
	if err != nil {
		return Result{Case: tc, Failures: []string{fmt.Sprintf("given rows: %v", err)}}
	}
	defer mem.Close()
	return RunWith(ctx, set, tc, mem)
}

// RunWith evaluates tc against st, which the caller has loaded with the case's rows.
func RunWith(ctx context.Context, set *engine.PolicySet, tc Case, st store.Store) Result {
	// A commit is decided at the clock: the case's clock is its as_of, so cases pin the instant of the act.
	e := engine.New(set, st, engine.WithTables(tc.Tables), engine.WithClock(func() time.Time { return tc.AsOf }))
	d, err := e.Decide(ctx, tc.Request())
	r := Result{Case: tc, Failures: tc.Check(d, err)}
	if d != nil {
		for _, re := range d.Reasons {
			r.Fired = append(r.Fired, re.Rule)
		}
		r.Fired = nestedRules(d.Outputs, r.Fired)
	}
	return r
}

// RunAll runs every case in memory, in order.
func RunAll(ctx context.Context, set *engine.PolicySet, cases []Case) []Result {
	out := make([]Result, 0, len(cases))
	for _, tc := range cases {
		out = append(out, Run(ctx, set, tc))
	}
	return out
}

// Request is the decision request the case makes; it pins the case's own policy version.
func (tc Case) Request() engine.Request {
	return engine.Request{Decision: tc.Decision, Version: tc.Version, AsOf: tc.AsOf, Input: tc.Input, DryRun: tc.DryRun}
}

// Check compares an answer with the case's expectations and lists every mismatch.
func (tc Case) Check(d *engine.Decision, err error) []string {
	var out []string
	if tc.Want.Error != "" {
		code := engine.CodeOf(err)
		if code != tc.Want.Error {
			return []string{fmt.Sprintf("want error %s, got %s", tc.Want.Error, describe(d, err))}
		}
		var ee *engine.Error
		if len(tc.Want.Fields) > 0 && asError(err, &ee) {
			got := make([]string, 0, len(ee.Fields))
			for _, f := range ee.Fields {
				got = append(got, f.Field)
			}
			if !containsAll(got, tc.Want.Fields) {
				out = append(out, fmt.Sprintf("want fields %v, got %v", tc.Want.Fields, got))
			}
		}
		return out
	}
	if err != nil {
		return []string{fmt.Sprintf("want outcome %s, got error %v", tc.Want.Outcome, err)}
	}
	if tc.Want.Outcome != "" && d.Outcome != tc.Want.Outcome {
		out = append(out, fmt.Sprintf("outcome: want %s, got %s (reasons %v)", tc.Want.Outcome, d.Outcome, codes(d.Reasons)))
	}
	if tc.Want.Reasons != nil && !equalStrings(tc.Want.Reasons, codes(d.Reasons)) {
		out = append(out, fmt.Sprintf("reasons: want %v, got %v", tc.Want.Reasons, codes(d.Reasons)))
	}
	if tc.Want.Rules != nil {
		rules := make([]string, 0, len(d.Reasons))
		for _, r := range d.Reasons {
			rules = append(rules, r.Rule)
		}
		if !equalStrings(tc.Want.Rules, rules) {
			out = append(out, fmt.Sprintf("rules: want %v, got %v", tc.Want.Rules, rules))
		}
	}
	if tc.Want.Outputs != nil {
		got := jsonRoundTrip(d.Outputs)
		for _, k := range slices.Sorted(maps.Keys(tc.Want.Outputs)) {
			matchValue(tc.Want.Outputs[k], got[k], "outputs."+k, &out)
		}
	}
	return out
}

func asError(err error, target **engine.Error) bool {
	e, ok := err.(*engine.Error)
	if ok {
		*target = e
	}
	return ok
}

func describe(d *engine.Decision, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("outcome %s with reasons %v", d.Outcome, codes(d.Reasons))
}

func codes(rs []engine.Reason) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Code)
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func containsAll(have, want []string) bool {
	set := map[string]bool{}
	for _, h := range have {
		set[h] = true
	}
	for _, w := range want {
		if !set[w] {
			return false
		}
	}
	return true
}

// jsonRoundTrip gives outputs the shape a caller decodes (numbers as json.Number).
func jsonRoundTrip(m map[string]any) map[string]any {
	raw, err := json.Marshal(m)
	if err != nil {
		return m
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		return m
	}
	return out
}

// matchValue checks that got contains want: maps by listed keys, lists element-wise, decimals by value.
func matchValue(want, got any, at string, out *[]string) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: want an object, got %v", at, got))
			return
		}
		for _, k := range slices.Sorted(maps.Keys(w)) {
			matchValue(w[k], g[k], at+"."+k, out)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			*out = append(*out, fmt.Sprintf("%s: want %d items %v, got %v", at, len(w), w, got))
			return
		}
		for i := range w {
			matchValue(w[i], g[i], fmt.Sprintf("%s[%d]", at, i), out)
		}
	default:
		if !scalarEqual(want, got) {
			*out = append(*out, fmt.Sprintf("%s: want %v, got %v", at, want, got))
		}
	}
}

func scalarEqual(want, got any) bool {
	ws, gs := lang.Text(want), lang.Text(got)
	if want == nil || got == nil {
		return want == nil && got == nil
	}
	if ws == gs {
		return true
	}
	wd, err1 := decimal.NewFromString(ws)
	gd, err2 := decimal.NewFromString(gs)
	return err1 == nil && err2 == nil && wd.Equal(gd)
}

// Summary counts results by file for reports.
func Summary(results []Result) (passed, failed int, files []string) {
	seen := map[string]bool{}
	for _, r := range results {
		if r.Passed() {
			passed++
		} else {
			failed++
		}
		if !seen[r.Case.File] {
			seen[r.Case.File] = true
			files = append(files, r.Case.File)
		}
	}
	sort.Strings(files)
	return passed, failed, files
}
