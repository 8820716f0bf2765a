package cel

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	celgo "cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"
	"gopkg.in/yaml.v3"

	"arbiter/engine/lang"
	"arbiter/internal/strictyaml"
)

// identPattern is the shape of variable and output names.
var identPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// interruptEvery is how many comprehension iterations run between two looks at the deadline.
const interruptEvery = 64

// maxCost refuses at load time an expression whose estimated worst case is absurd, assuming
// every list, map and string it meets holds at most maxSize elements (see sizeBound).
const (
	maxCost = 1_000_000_000
	maxSize = 100
)

// progOpts are the options of every CEL program: evaluation is bounded by the context deadline,
// checked inside comprehensions, rather than by a cost tracker on every step.
var progOpts = []celgo.ProgramOption{celgo.EvalOptions(celgo.OptOptimize), celgo.InterruptCheckFrequency(interruptEvery)}

type celPolicyFile struct {
	Variables []celNamed  `yaml:"variables"`
	Rules     []celRule   `yaml:"rules"`
	Outputs   []celOutput `yaml:"outputs"`
	Outcome   yaml.Node   `yaml:"outcome"`
}

type celNamed struct {
	Name       string    `yaml:"name"`
	Expression yaml.Node `yaml:"expression"`
}

type celRule struct {
	ID        string    `yaml:"id"`
	Condition yaml.Node `yaml:"condition"`
	Effect    string    `yaml:"effect"`
	Code      string    `yaml:"code"`
	Message   yaml.Node `yaml:"message"`
}

type celOutput struct {
	Name       string    `yaml:"name"`
	Expression yaml.Node `yaml:"expression"`
	Always     bool      `yaml:"always"`
}

// celPart is one expression of a policy, checked on its own so its problems point at its line.
type celPart struct {
	ast  *celgo.Ast
	prg  celgo.Program
	line int    // where the expression starts in policy.cel.yaml, for explanations
	src  string // the expression's text
}

type celVariable struct {
	name string
	celPart
}

type celRuleProgram struct {
	id, effect, code string
	cond, message    celPart // message.prg is nil when the rule has none
}

type celOutputProgram struct {
	name   string
	always bool
	celPart
}

// celProgram is a CEL policy compiled and type-checked once.
//
// Each expression is checked on its own (so problems point at their line); the checked ASTs are
// then inlined into one program that computes the whole decision in a single run. The parts stay
// compiled so that a failed run can be repeated expression by expression to name what failed.
type celProgram struct {
	file    string // policy.cel.yaml, for explanations
	vars    []celVariable
	rules   []celRuleProgram
	outputs []celOutputProgram
	outcome celPart // outcome.prg is nil when the policy leaves the outcome to its rules

	fused    celgo.Program // the whole policy in one program; nil when it could not be built
	messages bool          // some rule has a message, so the fused result carries "m"
}

// celBaseEnv declares what every CEL policy sees; it is built once per policy set load.
func celBaseEnv(extra ...celgo.EnvOption) (*celgo.Env, error) {
	return celgo.NewEnv(append([]celgo.EnvOption{
		Library(),
		ext.Strings(), ext.Math(), ext.Lists(), ext.Sets(), ext.Bindings(),
		celgo.OptionalTypes(),
		celgo.Variable("request", celgo.DynType),
		celgo.Variable("facts", celgo.MapType(celgo.StringType, celgo.DynType)),
		celgo.Variable("rules", celgo.MapType(celgo.StringType, celgo.DynType)),
		celgo.Variable("now", celgo.TimestampType),
		calendarFunctions(),
	}, extra...)...)
}

// Compiler compiles a version's policy.cel.yaml: variables, rules and outputs, each type-checked.
type Compiler struct {
	extra []celgo.EnvOption // more declarations, for tests
}

// Compile checks every expression of src's policy.cel.yaml and fuses them into one program.
func (c Compiler) Compile(_ context.Context, src lang.Source) (lang.Program, []lang.Problem) {
	var ps lang.Problems
	if src.Entrypoint != "" {
		ps.Add(lang.ProblemInvalid, path.Join(src.Dir, "manifest.yaml"), 1, "entrypoint is for rego policies; a cel policy is policy.cel.yaml")
	}
	p := compile(src, c.extra, &ps)
	if ps.Len() > 0 {
		return nil, ps.List
	}
	return p, nil
}

func compile(src lang.Source, extra []celgo.EnvOption, ps *lang.Problems) *celProgram {
	file := path.Join(src.Dir, "policy.cel.yaml")
	raw, err := fs.ReadFile(src.FS, file)
	if err != nil {
		ps.Add(lang.ProblemRead, file, 0, "a cel policy needs policy.cel.yaml: %v", err)
		return nil
	}
	var pf celPolicyFile
	if !strictyaml.Decode(file, raw, &pf, ps) {
		return nil
	}
	ruleOrder := make(map[string]bool, len(src.RuleIDs))
	for _, id := range src.RuleIDs {
		ruleOrder[id] = true
	}
	env, err := celBaseEnv(extra...)
	if err != nil {
		ps.Add(lang.ProblemCompile, file, 0, "cel environment: %v", err)
		return nil
	}
	before := ps.Len()
	p := &celProgram{file: file}
	compile := func(n *yaml.Node, what string, want *celgo.Type) celPart {
		if n.Kind == 0 || strings.TrimSpace(n.Value) == "" {
			ps.Add(lang.ProblemInvalid, file, n.Line, "%s: expression is required", what)
			return celPart{}
		}
		ast, iss := env.Compile(n.Value)
		if iss.Err() != nil {
			for _, e := range iss.Errors() {
				ps.AddAt(lang.ProblemType, file, n.Line+max(e.Location.Line()-1, 0), e.Location.Column()+1, "%s: %s", what, e.Message)
			}
			return celPart{}
		}
		if want != nil && !ast.OutputType().IsAssignableType(want) && ast.OutputType() != celgo.DynType {
			ps.Add(lang.ProblemType, file, n.Line, "%s: must be %s, is %s", what, want, ast.OutputType())
			return celPart{}
		}
		if est, err := env.EstimateCost(ast, sizeBound{}, boundedRange); err != nil {
			ps.Add(lang.ProblemCompile, file, n.Line, "%s: cost estimate: %v", what, err)
			return celPart{}
		} else if est.Max > maxCost {
			ps.Add(lang.ProblemBudget, file, n.Line, "%s: may cost up to %d steps with lists of %d elements, more than %d", what, est.Max, maxSize, maxCost)
			return celPart{}
		}
		prg, err := env.Program(ast, progOpts...)
		if err != nil {
			ps.Add(lang.ProblemCompile, file, n.Line, "%s: %v", what, err)
			return celPart{}
		}
		return celPart{ast: ast, prg: prg, line: n.Line, src: n.Value}
	}
	seen := map[string]bool{}
	for i, v := range pf.Variables {
		what := fmt.Sprintf("variables[%d] %s", i, v.Name)
		if !identPattern.MatchString(v.Name) || seen[v.Name] {
			ps.Add(lang.ProblemInvalid, file, v.Expression.Line, "%s: name must be a unique lower_snake identifier", what)
			continue
		}
		seen[v.Name] = true
		part := compile(&v.Expression, what, nil)
		if part.prg == nil {
			continue
		}
		p.vars = append(p.vars, celVariable{name: v.Name, celPart: part})
		if env, err = env.Extend(celgo.Variable("vars."+v.Name, part.ast.OutputType())); err != nil {
			ps.Add(lang.ProblemCompile, file, v.Expression.Line, "%s: %v", what, err)
		}
	}
	for i, r := range pf.Rules {
		what := fmt.Sprintf("rules[%d] %s", i, r.ID)
		if r.ID == "" || r.Code == "" {
			ps.Add(lang.ProblemInvalid, file, r.Condition.Line, "%s: a rule needs an id and a code", what)
			continue
		}
		if !lang.ValidEffect(r.Effect) {
			ps.Add(lang.ProblemInvalid, file, r.Condition.Line, "%s: effect must be deny, refer or note", what)
		}
		rule := celRuleProgram{id: r.ID, effect: r.Effect, code: r.Code}
		rule.cond = compile(&r.Condition, what+" condition", celgo.BoolType)
		if r.Message.Kind != 0 {
			rule.message = compile(&r.Message, what+" message", celgo.StringType)
			p.messages = true
		}
		if !ruleOrder[r.ID] && len(ruleOrder) > 0 {
			ps.Add(lang.ProblemReference, file, r.Condition.Line, "%s: rule id is not listed in the manifest's rules", what)
		}
		p.rules = append(p.rules, rule)
	}
	outputs := map[string]bool{}
	for i, o := range pf.Outputs {
		what := fmt.Sprintf("outputs[%d] %s", i, o.Name)
		if !identPattern.MatchString(o.Name) || outputs[o.Name] {
			ps.Add(lang.ProblemInvalid, file, o.Expression.Line, "%s: name must be a unique lower_snake identifier", what)
			continue
		}
		outputs[o.Name] = true
		p.outputs = append(p.outputs, celOutputProgram{name: o.Name, always: o.Always, celPart: compile(&o.Expression, what, nil)})
	}
	if pf.Outcome.Kind != 0 {
		p.outcome = compile(&pf.Outcome, "outcome", celgo.StringType)
	}
	if ps.Len() > before {
		return nil
	}
	// Best effort: a policy the inliner cannot fuse still runs expression by expression.
	p.fused, _ = p.fuse(env)
	return p
}

// fuse builds the whole policy as one program from the checked expressions, so no source text is
// spliced: a combined expression refers to every part by a declared name, and the inliner puts
// the part's checked AST in its place. Rule i's condition is arb.c<i>, its message arb.m<i>,
// output i arb.o<i>:
//
//	cel.bind(arbc, [arb.c0, ...],
//	  {"v": [dyn(vars.a), ...], "c": arbc, "m": [arbc[0] ? arb.m0 : "", ...],
//	   "a": {"name": dyn(arb.o0), ...}, "o": arbc[0] || ... ? {} : {...}})
//
// An outcome expression adds cel.bind(arbo, arb.outcome, ...) around the map, which then also
// holds "outcome" and decides "o" as the expression-by-expression path does.
//
// A variable used more than once is bound once with cel.bind above all its uses; "v" uses every
// variable at the top of the expression, so that binding is never inside a comprehension and each
// variable is evaluated once per decision, as the expression-by-expression path does.
func (p *celProgram) fuse(env *celgo.Env) (celgo.Program, error) {
	var decls []celgo.EnvOption
	var parts []*celgo.InlineVariable
	name := func(n string, part celPart) string {
		decls = append(decls, celgo.Variable(n, part.ast.OutputType()))
		parts = append(parts, celgo.NewInlineVariable(n, part.ast))
		return n
	}
	var conds, msgs, denies []string
	for i, r := range p.rules {
		conds = append(conds, name(fmt.Sprintf("arb.c%d", i), r.cond))
		msg := `""`
		if r.message.prg != nil {
			msg = fmt.Sprintf("arbc[%d] ? %s : %s", i, name(fmt.Sprintf("arb.m%d", i), r.message), msg)
		}
		msgs = append(msgs, msg)
		if lang.Denies(r.effect) {
			denies = append(denies, fmt.Sprintf("arbc[%d]", i))
		}
	}
	var always, allow []string
	for i, o := range p.outputs {
		entry := fmt.Sprintf("%q: dyn(%s)", o.name, name(fmt.Sprintf("arb.o%d", i), o.celPart))
		if o.always {
			always = append(always, entry)
		} else {
			allow = append(allow, entry)
		}
	}
	var vars []string
	for _, v := range p.vars {
		vars = append(vars, "dyn(vars."+v.name+")")
	}
	denied := "false"
	if len(denies) > 0 {
		denied = strings.Join(denies, " || ")
	}
	result := []string{`"v": [` + strings.Join(vars, ", ") + "]", `"c": arbc`}
	if p.messages {
		result = append(result, `"m": [`+strings.Join(msgs, ", ")+"]")
	}
	if p.outcome.prg != nil {
		// As the expression-by-expression path: an outcome other than a string leaves it to the rules.
		denied = fmt.Sprintf(`arbo == "deny" || ((type(arbo) != string || arbo == "") && (%s))`, denied)
		result = append(result, `"outcome": arbo`)
	}
	result = append(result, `"a": {`+strings.Join(always, ", ")+"}")
	if denied == "false" {
		result = append(result, `"o": {`+strings.Join(allow, ", ")+"}")
	} else {
		result = append(result, fmt.Sprintf(`"o": (%s) ? {} : {%s}`, denied, strings.Join(allow, ", ")))
	}
	src := "{" + strings.Join(result, ", ") + "}"
	if p.outcome.prg != nil {
		src = fmt.Sprintf("cel.bind(arbo, %s, %s)", name("arb.outcome", p.outcome), src)
	}
	src = fmt.Sprintf("cel.bind(arbc, [%s], %s)", strings.Join(conds, ", "), src)

	fenv, err := env.Extend(decls...)
	if err != nil {
		return nil, err
	}
	ast, iss := fenv.Compile(src)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	// Parts first, as they use the variables; then each variable, the last first, as a variable
	// may use the ones before it. One pass for all: the root stays a comprehension (a cel.bind)
	// when a binding wraps it, which the inliner's walk of the tree relies on.
	for i := len(p.vars) - 1; i >= 0; i-- {
		parts = append(parts, celgo.NewInlineVariable("vars."+p.vars[i].name, p.vars[i].ast))
	}
	opt, err := celgo.NewStaticOptimizer(celgo.NewInliningOptimizer(parts...))
	if err != nil {
		return nil, err
	}
	if ast, iss = opt.Optimize(fenv, ast); iss.Err() != nil {
		return nil, iss.Err()
	}
	return fenv.Program(ast, progOpts...)
}

// Eval runs the fused program, or expression by expression when it fails so the error names its part.
func (p *celProgram) Eval(ctx context.Context, doc lang.Doc) (*lang.Result, error) {
	act := &celActivation{request: doc.Request, facts: doc.Facts, rules: doc.Rules, now: doc.Now}
	if p.fused != nil {
		out, _, err := p.fused.ContextEval(ctx, act)
		if err == nil {
			if r, ok := p.fusedResult(out); ok {
				return r, nil
			}
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("cel: %w", context.Cause(ctx))
		}
	}
	return p.evalParts(ctx, act, nil)
}

// Explain computes the decision expression by expression, as Eval does when the fused program
// fails, and reports each variable's and output's value and whether each rule's condition held.
func (p *celProgram) Explain(ctx context.Context, doc lang.Doc) (*lang.Result, []lang.Condition, error) {
	act := &celActivation{request: doc.Request, facts: doc.Facts, rules: doc.Rules, now: doc.Now}
	var conds []lang.Condition
	r, err := p.evalParts(ctx, act, func(c lang.Condition) {
		c.File = p.file
		conds = append(conds, c)
	})
	if err != nil {
		return nil, nil, err
	}
	// Outputs a denial left out were never evaluated; list them too, in source order.
	for _, o := range p.outputs {
		if _, ok := r.Outputs[o.name]; !ok {
			conds = append(conds, lang.Condition{Kind: lang.ConditionKindOutput, Status: lang.ConditionSkipped, Name: o.name,
				File: p.file, Line: o.line, Source: firstLine(o.src)})
		}
	}
	sort.SliceStable(conds, func(i, j int) bool { return conds[i].Line < conds[j].Line })
	return r, conds, nil
}

// explained is what a part came to, as a condition; the value is the one the policy saw.
func explained(kind, name string, part celPart, val ref.Val) lang.Condition {
	c := lang.Condition{Kind: kind, Status: lang.ConditionValue, Name: name, Line: part.line, Source: firstLine(part.src)}
	if v, err := Native(val); err == nil {
		c.Value = v
	} else {
		c.Value = fmt.Sprint(val)
	}
	return c
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}

// fusedResult reads the fused program's result; ok is false when it is not what fuse builds.
func (p *celProgram) fusedResult(out ref.Val) (*lang.Result, bool) {
	m, ok := out.(traits.Mapper)
	if !ok {
		return nil, false
	}
	conds, ok := m.Get(types.String("c")).(traits.Lister)
	if !ok {
		return nil, false
	}
	var msgs traits.Lister
	if p.messages {
		if msgs, ok = m.Get(types.String("m")).(traits.Lister); !ok {
			return nil, false
		}
	}
	r := &lang.Result{Outputs: map[string]any{}}
	for i, rule := range p.rules {
		if conds.Get(types.Int(i)) != types.True {
			continue
		}
		reason := lang.Reason{Code: rule.code, Rule: rule.id, Effect: rule.effect}
		if rule.message.prg != nil {
			reason.Message, _ = msgs.Get(types.Int(i)).Value().(string)
		}
		r.Reasons = append(r.Reasons, reason)
	}
	if p.outcome.prg != nil {
		r.Outcome, _ = m.Get(types.String("outcome")).Value().(string)
	}
	for _, key := range []string{"a", "o"} {
		v, err := Native(m.Get(types.String(key)))
		if err != nil {
			return nil, false
		}
		outs, _ := v.(map[string]any)
		for k, val := range outs {
			r.Outputs[k] = val
		}
	}
	return r, true
}

// evalParts computes the decision expression by expression, so an error names its variable, rule
// or output.
// rec, when set, receives each part's value (explanations).
func (p *celProgram) evalParts(ctx context.Context, act *celActivation, rec func(lang.Condition)) (*lang.Result, error) {
	if len(p.vars) > 0 {
		act.vars = make(map[string]ref.Val, len(p.vars))
	}
	for _, v := range p.vars {
		out, _, err := v.prg.ContextEval(ctx, act)
		if err != nil {
			return nil, fmt.Errorf("cel: variable %s: %w", v.name, err)
		}
		act.vars["vars."+v.name] = out
		if rec != nil {
			rec(explained(lang.ConditionKindVariable, v.name, v.celPart, out))
		}
	}
	r := &lang.Result{Outputs: map[string]any{}}
	for _, rule := range p.rules {
		out, _, err := rule.cond.prg.ContextEval(ctx, act)
		if err != nil {
			return nil, fmt.Errorf("cel: rule %s: %w", rule.id, err)
		}
		if rec != nil {
			c := explained(lang.ConditionKindRule, rule.id, rule.cond, out)
			c.Rule, c.Code, c.Status, c.Value = rule.id, rule.code, lang.ConditionNotHeld, nil
			if out == types.True {
				c.Status = lang.ConditionHeld
			}
			rec(c)
		}
		if out != types.True {
			continue
		}
		reason := lang.Reason{Code: rule.code, Rule: rule.id, Effect: rule.effect}
		if rule.message.prg != nil {
			msg, _, err := rule.message.prg.ContextEval(ctx, act)
			if err != nil {
				return nil, fmt.Errorf("cel: rule %s message: %w", rule.id, err)
			}
			reason.Message, _ = msg.Value().(string)
		}
		r.Reasons = append(r.Reasons, reason)
	}
	if p.outcome.prg != nil {
		out, _, err := p.outcome.prg.ContextEval(ctx, act)
		if err != nil {
			return nil, fmt.Errorf("cel: outcome: %w", err)
		}
		if rec != nil {
			rec(explained(lang.ConditionKindOutcome, "outcome", p.outcome, out))
		}
		r.Outcome, _ = out.Value().(string)
	}
	denied := r.Outcome == lang.OutcomeDeny
	if r.Outcome == "" {
		for _, re := range r.Reasons {
			if lang.Denies(re.Effect) {
				denied = true
			}
		}
	}
	for _, o := range p.outputs {
		if denied && !o.always {
			continue
		}
		out, _, err := o.prg.ContextEval(ctx, act)
		if err != nil {
			return nil, fmt.Errorf("cel: output %s: %w", o.name, err)
		}
		v, err := Native(out)
		if err != nil {
			return nil, fmt.Errorf("cel: output %s: %w", o.name, err)
		}
		r.Outputs[o.name] = v
		if rec != nil {
			rec(explained(lang.ConditionKindOutput, o.name, o.celPart, out))
		}
	}
	return r, nil
}

// sizeBound is the load-time cost estimator: every list, map or string whose size the expression
// does not fix is taken to hold at most maxSize elements.
type sizeBound struct{}

func (sizeBound) EstimateSize(cost.AstNode) *cost.SizeEstimate {
	s := cost.RangedSizeEstimate(0, maxSize)
	return &s
}

func (sizeBound) EstimateCallCost(string, string, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
	return nil
}

// boundedRange takes lists.range(n) to make at most maxSize elements, as sizeBound does for
// other lists; its own model trusts n, which is unknown until evaluation.
var boundedRange = cost.OverloadCostEstimate("lists_range", func(cost.Estimator, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
	return cost.NewListCallEstimate(cost.RangedCostEstimate(1, maxSize), cost.RangedSizeEstimate(0, maxSize))
})

// celActivation resolves a policy's names without building a map per evaluation.
type celActivation struct {
	request any
	facts   map[string]any
	rules   map[string]any
	now     time.Time
	vars    map[string]ref.Val
}

func (a *celActivation) ResolveName(name string) (any, bool) {
	switch name {
	case "request":
		return a.request, true
	case "facts":
		return a.facts, true
	case "rules":
		return a.rules, true
	case "now":
		return a.now, true
	}
	v, ok := a.vars[name]
	return v, ok
}

func (a *celActivation) Parent() interpreter.Activation { return nil }
