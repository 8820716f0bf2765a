package cel

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	celgo "cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types/ref"

	"arbiter/engine/lang"
)

// compilePolicy compiles src as a policy.cel.yaml with extra declarations.
func compilePolicy(t *testing.T, src string, extra ...celgo.EnvOption) (*celProgram, []lang.Problem) {
	t.Helper()
	fsys := fstest.MapFS{"p/policy.cel.yaml": {Data: []byte(src)}}
	prg, ps := Compiler{extra: extra}.Compile(context.Background(), lang.Source{FS: fsys, Dir: "p"})
	if prg == nil {
		return nil, ps
	}
	return prg.(*celProgram), ps
}

// counting declares counted(int) -> int, which returns its argument and counts its calls.
func counting() (*atomic.Int64, celgo.EnvOption) {
	var n atomic.Int64
	return &n, celgo.Function("counted", celgo.Overload("counted_int", []*celgo.Type{celgo.IntType}, celgo.IntType,
		celgo.UnaryBinding(func(v ref.Val) ref.Val {
			n.Add(1)
			return v
		})))
}

// sameBothWays checks the fused program succeeds on its own and answers as the expression-by-expression path.
func sameBothWays(t *testing.T, p *celProgram, req any) {
	t.Helper()
	out, _, err := p.fused.ContextEval(context.Background(), &celActivation{request: req})
	if err != nil {
		t.Fatalf("fused program: %v", err)
	}
	fused, ok := p.fusedResult(out)
	if !ok {
		t.Fatalf("fused program gave %v", out)
	}
	parts, err := p.evalParts(context.Background(), &celActivation{request: req}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(parts, fused) {
		t.Errorf("expression by expression: %+v, fused: %+v", parts, fused)
	}
}

const oncePolicy = `
variables:
  - name: x
    expression: counted(request.n)
  - name: y
    expression: vars.x + 1
  - name: unused
    expression: counted(request.n) * 0
rules:
  - id: R-1
    condition: vars.x > 5
    effect: deny
    code: BIG
    message: '"x is " + string(vars.x)'
  - id: R-2
    condition: '[1, 2, 3].exists(i, vars.x == i)'
    effect: note
    code: SMALL
    message: '"y is " + string(vars.y)'
outputs:
  - name: x
    expression: vars.x
    always: true
  - name: scaled
    expression: '[1, 2, 3].map(i, vars.x * i)'
`

// onlyInLoop uses its variable once, inside a comprehension: inlined there, it would run per element.
const onlyInLoop = `
variables:
  - name: x
    expression: counted(request.n)
outputs:
  - name: scaled
    expression: '[1, 2, 3].map(i, vars.x * i)'
`

func TestVariableEvaluatedOnce(t *testing.T) {
	tests := []struct {
		name    string
		policy  string
		n       int64
		reasons []lang.Reason
		outputs map[string]any
		calls   int64 // counted() calls per decision
	}{
		{
			name: "a deny rule fires with a message", policy: oncePolicy, n: 7, calls: 2,
			reasons: []lang.Reason{{Code: "BIG", Rule: "R-1", Effect: "deny", Message: "x is 7"}},
			outputs: map[string]any{"x": int64(7)},
		},
		{
			name: "a note fires with a message that reads another variable", policy: oncePolicy, n: 2, calls: 2,
			reasons: []lang.Reason{{Code: "SMALL", Rule: "R-2", Effect: "note", Message: "y is 3"}},
			outputs: map[string]any{"x": int64(2), "scaled": []any{int64(2), int64(4), int64(6)}},
		},
		{
			name: "no rule fires", policy: oncePolicy, n: 4, calls: 2,
			outputs: map[string]any{"x": int64(4), "scaled": []any{int64(4), int64(8), int64(12)}},
		},
		{
			name: "a variable used only inside a comprehension", policy: onlyInLoop, n: 3, calls: 1,
			outputs: map[string]any{"scaled": []any{int64(3), int64(6), int64(9)}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls, fn := counting()
			p, ps := compilePolicy(t, tc.policy, fn)
			if len(ps) > 0 {
				t.Fatalf("problems: %v", ps)
			}
			if p.fused == nil {
				t.Fatal("the policy did not fuse into one program")
			}
			doc := lang.Doc{Request: map[string]any{"n": tc.n}}
			r, err := p.Eval(context.Background(), doc)
			if err != nil {
				t.Fatal(err)
			}
			if got := calls.Load(); got != tc.calls {
				t.Errorf("counted() ran %d times, want %d: each variable once", got, tc.calls)
			}
			if !reflect.DeepEqual(r.Reasons, tc.reasons) {
				t.Errorf("reasons = %+v, want %+v", r.Reasons, tc.reasons)
			}
			if !reflect.DeepEqual(r.Outputs, tc.outputs) {
				t.Errorf("outputs = %#v, want %#v", r.Outputs, tc.outputs)
			}
			sameBothWays(t, p, doc.Request)
		})
	}
}

const failingPolicy = `
variables:
  - name: amount
    expression: 'request.fail == "variable" ? dec("abc") : dec("1")'
rules:
  - id: R-1
    condition: 'request.fail == "rule" ? dec("x") > vars.amount : false'
    effect: deny
    code: C1
  - id: R-2
    condition: 'request.fail == "message"'
    effect: note
    code: C2
    message: 'dec("bad" + request.fail).string()'
  - id: R-3
    condition: 'request.fail == "denied"'
    effect: deny
    code: C3
outputs:
  - name: always_out
    always: true
    expression: 'request.fail == "always" ? dec("y").string() : "ok"'
  - name: allow_out
    expression: 'request.fail == "allow" || request.fail == "denied" ? dec("z").string() : "ok"'
  - name: json_out
    expression: 'request.fail == "json" ? 1.0 / 0.0 : 1.0'
`

func TestErrorNamesWhatFailed(t *testing.T) {
	p, ps := compilePolicy(t, failingPolicy)
	if len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
	tests := []struct {
		name, fail, want string
	}{
		{name: "variable", fail: "variable", want: "cel: variable amount: dec:"},
		{name: "rule condition", fail: "rule", want: "cel: rule R-1: dec:"},
		{name: "rule message", fail: "message", want: "cel: rule R-2 message: dec:"},
		{name: "output computed even on deny", fail: "always", want: "cel: output always_out: dec:"},
		{name: "allow-only output", fail: "allow", want: "cel: output allow_out: dec:"},
		{name: "output without a JSON form", fail: "json", want: "cel: output json_out: double +Inf has no JSON form"},
		{name: "no error: a denied decision skips the failing allow-only output", fail: "denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := p.Eval(context.Background(), lang.Doc{Request: map[string]any{"fail": tc.fail}})
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := r.Outputs["allow_out"]; ok || r.Outputs["always_out"] != "ok" {
					t.Errorf("outputs = %v, want always_out only", r.Outputs)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to start with %q", err, tc.want)
			}
		})
	}
}

func TestEvaluationStopsAtTheDeadline(t *testing.T) {
	p, ps := compilePolicy(t, `
variables:
  - name: grid
    expression: 'lists.range(request.n).map(i, lists.range(request.n).map(j, i * j).size())'
outputs:
  - name: cells
    expression: size(vars.grid)
`)
	if len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
	tests := []struct {
		name    string
		n       int64
		timeout time.Duration
		wantErr bool
	}{
		{name: "small input finishes", n: 10, timeout: time.Minute},
		{name: "deadline already passed", n: 10, timeout: -time.Second, wantErr: true},
		// 4e8 steps take far longer than the deadline.
		{name: "deadline passes during a comprehension", n: 20_000, timeout: 50 * time.Millisecond, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			start := time.Now()
			_, err := p.Eval(ctx, lang.Doc{Request: map[string]any{"n": tc.n}})
			if !tc.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error = %v, want the deadline", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v after the deadline", d)
			}
		})
	}
}

func TestCostEstimateRefusesAbsurdExpressions(t *testing.T) {
	tests := []struct {
		name, expr string
		over       bool
	}{
		{name: "two comprehensions deep", expr: "facts.a.exists(x, facts.a.exists(y, x == y))"},
		{name: "a range of unknown length", expr: "lists.range(request.n).filter(i, i % 2 == 0).size() > 0"},
		{
			name: "five comprehensions deep",
			expr: "facts.a.exists(a, facts.a.exists(b, facts.a.exists(c, facts.a.exists(d, facts.a.exists(e, a == e)))))",
			over: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ps := compilePolicy(t, "rules:\n  - id: R-1\n    effect: note\n    code: C\n    condition: '"+tc.expr+"'\n")
			if !tc.over {
				if len(ps) > 0 {
					t.Fatalf("problems: %v", ps)
				}
				return
			}
			if len(ps) != 1 || ps[0].Code != lang.ProblemBudget || ps[0].Line != 5 || !strings.Contains(ps[0].Message, "rules[0] R-1 condition: may cost up to") {
				t.Fatalf("problems = %+v, want one over_budget problem at line 5", ps)
			}
		})
	}
}

func TestOutputNamesAreUnique(t *testing.T) {
	_, ps := compilePolicy(t, "outputs:\n  - name: a\n    expression: '1'\n  - name: a\n    expression: '2'\n")
	if len(ps) != 1 || ps[0].Code != lang.ProblemInvalid || !strings.Contains(ps[0].Message, "outputs[1] a: name must be a unique") {
		t.Fatalf("problems = %+v, want the second output refused", ps)
	}
}

// TestShippedPoliciesFuse keeps every shipped CEL policy on the one-program path.
func TestShippedPoliciesFuse(t *testing.T) {
	root := os.DirFS("../../..")
	files, err := fs.Glob(root, "policies/*/*/*/policy.cel.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no shipped cel policies: %v", err)
	}
	for _, f := range files {
		t.Run(path.Dir(f), func(t *testing.T) {
			prg, ps := Compiler{}.Compile(context.Background(), lang.Source{FS: root, Dir: path.Dir(f)})
			if len(ps) > 0 {
				t.Fatalf("problems: %v", ps)
			}
			if prg.(*celProgram).fused == nil {
				t.Fatal("the policy did not fuse into one program")
			}
		})
	}
}

const outcomePolicy = `
rules:
  - id: R-1
    condition: request.deny_rule
    effect: deny
    code: C1
    message: '"denied by rule"'
outcome: 'request.outcome'
outputs:
  - name: always_out
    always: true
    expression: '"a"'
  - name: allow_out
    expression: '"o"'
`

func TestOutcomeExpressionDecidesAllowOnlyOutputs(t *testing.T) {
	p, ps := compilePolicy(t, outcomePolicy)
	if len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
	if p.fused == nil {
		t.Fatal("the policy did not fuse into one program")
	}
	tests := []struct {
		name     string
		outcome  any
		denyRule bool
		allow    bool
	}{
		{name: "outcome deny", outcome: "deny", allow: false},
		{name: "outcome allow overrides a deny rule", outcome: "allow", denyRule: true, allow: true},
		{name: "empty outcome leaves it to the rules", outcome: "", denyRule: true, allow: false},
		{name: "empty outcome and no deny rule", outcome: "", allow: true},
		{name: "an outcome that is not a string leaves it to the rules", outcome: int64(3), denyRule: true, allow: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := map[string]any{"outcome": tc.outcome, "deny_rule": tc.denyRule}
			r, err := p.Eval(context.Background(), lang.Doc{Request: req})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := r.Outputs["allow_out"]; ok != tc.allow || r.Outputs["always_out"] != "a" {
				t.Errorf("outputs = %v, want allow_out: %v", r.Outputs, tc.allow)
			}
			sameBothWays(t, p, req)
		})
	}
}
