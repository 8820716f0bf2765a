// Package lang is the contract between the engine and a policy language: what a policy sees (Doc),
// what it answers (Result), and how a language reports what is wrong with a policy (Problem).
//
// A language is one package implementing Compiler; the engine registers rego and cel. A Program is
// compiled once per policy version and evaluated concurrently.
package lang

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"time"
)

// Doc is what a policy sees: the request's input, its facts, the effective rule tables and now.
type Doc struct {
	Request any
	Facts   map[string]any
	Rules   map[string]any
	// RulesKey names the exact rule-table versions in Rules, so a program may cache its own
	// representation of them; empty means do not cache.
	RulesKey string
	Now      time.Time
}

// Program is a compiled policy version; Eval is safe for concurrent use.
type Program interface {
	Eval(ctx context.Context, doc Doc) (*Result, error)
}

// Source is one policy version to compile: its folder in FS and what its manifest says about it.
type Source struct {
	FS         fs.FS
	Dir        string   // policies/<domain>/<decision>/<version>
	Entrypoint string   // the query of a rego policy; empty for cel
	Modules    []string // shared module files (paths in FS) the version names
	RuleIDs    []string // the catalog rule ids the manifest lists, in evaluation order
}

// Compiler compiles the policies of one language; problems carry a code, file, line and column.
type Compiler interface {
	Compile(ctx context.Context, src Source) (Program, []Problem)
}

// Outcomes a policy may return. A policy may also return its own outcome words.
const (
	OutcomeAllow = "allow"
	OutcomeDeny  = "deny"
	OutcomeRefer = "refer"
)

// Reason effects: deny beats refer beats allow; a note explains without changing the outcome.
const (
	EffectDeny  = "deny"
	EffectRefer = "refer"
	EffectNote  = "note"
)

// Reason is one catalog rule that fired, with its stable code.
type Reason struct {
	Code    string `json:"code"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
	Effect  string `json:"effect"`
}

// LedgerEntry is one unit of consumption a commit records against a limit key.
type LedgerEntry struct {
	Key    string `json:"key"`
	Amount string `json:"amount"`
}

// Result is a policy's answer before the engine shapes it into a decision envelope.
type Result struct {
	Outcome string
	Reasons []Reason
	Outputs map[string]any
	Ledger  []LedgerEntry
}

// ValidEffect reports whether e is an effect a reason may carry ("" means deny).
func ValidEffect(e string) bool {
	switch e {
	case "", EffectDeny, EffectRefer, EffectNote:
		return true
	}
	return false
}

// Denies reports whether a reason with effect e denies.
func Denies(e string) bool { return e == "" || e == EffectDeny }

// Finish is the one place outcome precedence lives: it defaults effects to deny, orders reasons by
// the catalog's evaluation order (then code), and, when the policy gave no outcome, derives it:
// deny beats refer beats allow.
func (r *Result) Finish(order map[string]int) {
	for i := range r.Reasons {
		if r.Reasons[i].Effect == "" {
			r.Reasons[i].Effect = EffectDeny
		}
	}
	sort.SliceStable(r.Reasons, func(i, j int) bool {
		a, b := r.Reasons[i], r.Reasons[j]
		oa, okA := order[a.Rule]
		ob, okB := order[b.Rule]
		switch {
		case okA && okB && oa != ob:
			return oa < ob
		case okA != okB:
			return okA
		}
		return a.Code < b.Code
	})
	if r.Outputs == nil {
		r.Outputs = map[string]any{}
	}
	if r.Reasons == nil {
		r.Reasons = []Reason{}
	}
	if r.Outcome == "" {
		r.Outcome = Precedence(r.Reasons)
	}
}

// Precedence derives an outcome from reasons: deny beats refer beats allow; notes do not count.
func Precedence(reasons []Reason) string {
	out := OutcomeAllow
	for _, re := range reasons {
		switch {
		case Denies(re.Effect):
			return OutcomeDeny
		case re.Effect == EffectRefer:
			out = OutcomeRefer
		}
	}
	return out
}

// Problem codes a language or the loader reports.
const (
	ProblemRead      = "read_error"      // a file cannot be read
	ProblemSyntax    = "syntax_error"    // YAML, Rego or CEL does not parse
	ProblemType      = "type_error"      // an expression does not type-check
	ProblemCompile   = "compile_error"   // anything else the compiler refuses
	ProblemForbidden = "forbidden"       // a builtin or library the sandbox does not allow
	ProblemInvalid   = "invalid"         // a value breaks a rule of the format
	ProblemReference = "unknown_ref"     // a name refers to nothing
	ProblemOverlap   = "window_overlap"  // two versions are effective at once
	ProblemSchema    = "schema_mismatch" // data does not satisfy its schema
	ProblemBudget    = "over_budget"     // a file is too large, too deep or expands too far
)

// Problem is one thing wrong with a policy set, located in a file.
type Problem struct {
	Code    string `json:"code"`
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	switch {
	case p.Line > 0 && p.Column > 0:
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Column, p.Message)
	case p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Message)
}

// Problems accumulates problems; the zero value is ready to use.
type Problems struct{ List []Problem }

// Add records one problem.
func (ps *Problems) Add(code, file string, line int, format string, args ...any) {
	ps.List = append(ps.List, Problem{Code: code, File: file, Line: line, Message: fmt.Sprintf(format, args...)})
}

// AddAt records one problem with a column.
func (ps *Problems) AddAt(code, file string, line, col int, format string, args ...any) {
	ps.List = append(ps.List, Problem{Code: code, File: file, Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
}

// Len is the number of problems recorded.
func (ps *Problems) Len() int { return len(ps.List) }

// Condition statuses an explanation reports.
const (
	ConditionHeld    = "held"          // a rule body or rule condition held
	ConditionNotHeld = "not_held"      // it was evaluated and did not hold
	ConditionSkipped = "not_evaluated" // evaluation never reached it (an unused helper, an output of a denial)
	ConditionValue   = "value"         // a named value (a CEL variable, output or outcome) and what it was
)

// Condition kinds.
const (
	ConditionKindRule     = "rule"     // a Rego rule body, or a CEL rule's condition
	ConditionKindVariable = "variable" // a CEL variable
	ConditionKindOutput   = "output"   // a CEL output
	ConditionKindOutcome  = "outcome"  // a CEL outcome expression
)

// Condition is one named part of a policy and what it came to in one evaluation: whether a rule
// body (Rego) or rule condition (CEL) held, or the value of a CEL variable or output. Explanations
// list them in source order.
type Condition struct {
	Kind   string `json:"kind"`
	Status string `json:"status"`
	// Name is the Rego rule's name (reasons, blocking_plans, decision) or the CEL variable, rule id,
	// output or "outcome".
	Name string `json:"name"`
	// Rule and Code are the catalog rule id and reason code the part gives when it holds, if it names them.
	Rule  string `json:"rule,omitempty"`
	Code  string `json:"code,omitempty"`
	Value any    `json:"value,omitempty"`
	File  string `json:"file"`
	Line  int    `json:"line"`
	// Source is the first line of the rule or the expression.
	Source string `json:"source"`
	// Failed lists, for a Rego body that did not hold, the expressions that failed ("line: text").
	Failed []string `json:"failed,omitempty"`
}

// Explainer is implemented by programs that can report which of their conditions held. Explain
// evaluates like Eval, more slowly (it traces), and returns the same result.
type Explainer interface {
	Explain(ctx context.Context, doc Doc) (*Result, []Condition, error)
}
