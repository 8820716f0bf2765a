package engine

import (
	"errors"
	"fmt"
	"strings"

	"arbiter/engine/lang"
)

// Code is a stable, machine-readable error code carried by every engine error.
type Code string

// Error codes returned by the engine. They are part of the API contract.
const (
	CodeInvalidInput       Code = "invalid_input"
	CodeUnknownDecision    Code = "unknown_decision"
	CodeUnknownVersion     Code = "unknown_version"
	CodeNoEffectiveVersion Code = "no_effective_version"
	CodeNoTableVersion     Code = "no_table_version"
	CodeFactNotFound       Code = "fact_not_found"
	CodeStoreUnavailable   Code = "store_unavailable"
	CodeEvaluationTimeout  Code = "evaluation_timeout"
	CodePolicyError        Code = "policy_error"
	CodeIdempotencyReuse   Code = "idempotency_conflict"
	// CodeAsOfNotNow refuses a commit whose as_of is not the server's clock: an act is recorded when it happens.
	CodeAsOfNotNow Code = "as_of_not_now"
	// CodeOverloaded: the service is at capacity (no database connection in time while the database is
	// healthy, or admission control); retry later.
	CodeOverloaded Code = "overloaded"
)

// Sentinel errors, matched with errors.Is on any *Error of the same code.
var (
	ErrUnknownDecision    = &Error{Code: CodeUnknownDecision}
	ErrUnknownVersion     = &Error{Code: CodeUnknownVersion}
	ErrNoEffectiveVersion = &Error{Code: CodeNoEffectiveVersion}
	ErrInvalidInput       = &Error{Code: CodeInvalidInput}
	ErrFactNotFound       = &Error{Code: CodeFactNotFound}
	ErrStoreUnavailable   = &Error{Code: CodeStoreUnavailable}
	ErrEvaluationTimeout  = &Error{Code: CodeEvaluationTimeout}
	ErrPolicy             = &Error{Code: CodePolicyError}
)

// FieldError names one request field at fault and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a decision failure with a machine code, the fields at fault and the cause.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

func errorf(code Code, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: cause}
}

// CodeOf returns the code of the first *Error in err's chain, or "" when there is none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Problem is one thing wrong with a policy set, located in a file, with a machine code.
type Problem = lang.Problem

// LoadError lists every problem found while loading a policy set.
type LoadError struct {
	Problems []Problem
}

func (e *LoadError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("policy set has %d problem(s):\n%s", len(e.Problems), strings.Join(lines, "\n"))
}

func filterProblems(list []Problem, keep func(Problem) bool) []Problem {
	var out []Problem
	for _, p := range list {
		if keep(p) {
			out = append(out, p)
		}
	}
	return out
}

func loadError(ps *lang.Problems) error {
	if ps.Len() == 0 {
		return nil
	}
	return &LoadError{Problems: ps.List}
}
