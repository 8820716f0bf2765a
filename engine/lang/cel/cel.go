package cel

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"time"

	celgo "cel.dev/cel-go/cel"
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

// celCostLimit bounds the work one CEL expression may do; it stops runaway comprehensions.
const celCostLimit = 5_000_000

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

type celVariable struct {
	name string
	prg  celgo.Program
}

type celRuleProgram struct {
	id, effect, code string
	cond, message    celgo.Program
}

type celOutputProgram struct {
	name   string
	always bool
	prg    celgo.Program
}

// celProgram is a CEL policy compiled and type-checked once.
//
// Each expression is checked on its own (so problems point at their line), then the rule
// conditions are compiled again as one list and the outputs as one map: a decision costs a few
// program runs instead of one per expression.
type celProgram struct {
	vars    []celVariable
	rules   []celRuleProgram
	outputs []celOutputProgram
	outcome celgo.Program

	fused         celgo.Program // variables, conditions and outputs in one program; nil when not possible
	conditions    celgo.Program // [cond0, cond1, ...]
	alwaysOutputs celgo.Program // {name: expr} of outputs computed even on deny; nil when none
	allowOutputs  celgo.Program // {name: expr} of the other outputs; nil when none
}

// celBaseEnv declares what every CEL policy sees; it is built once per policy set load.
func celBaseEnv() (*celgo.Env, error) {
	return celgo.NewEnv(
		Library(),
		ext.Strings(), ext.Math(), ext.Lists(), ext.Sets(), ext.Bindings(),
		celgo.OptionalTypes(),
		celgo.Variable("request", celgo.DynType),
		celgo.Variable("facts", celgo.MapType(celgo.StringType, celgo.DynType)),
		celgo.Variable("rules", celgo.MapType(celgo.StringType, celgo.DynType)),
		celgo.Variable("now", celgo.TimestampType),
		calendarFunctions(),
	)
}

// Compiler compiles a version's policy.cel.yaml: variables, rules and outputs, each type-checked.
type Compiler struct{}

// Compile checks every expression of src's policy.cel.yaml and fuses them into as few programs as possible.
func (Compiler) Compile(_ context.Context, src lang.Source) (lang.Program, []lang.Problem) {
	var ps lang.Problems
	if src.Entrypoint != "" {
		ps.Add(lang.ProblemInvalid, path.Join(src.Dir, "manifest.yaml"), 1, "entrypoint is for rego policies; a cel policy is policy.cel.yaml")
	}
	p := compile(src, &ps)
	if ps.Len() > 0 {
		return nil, ps.List
	}
	return p, nil
}

func compile(src lang.Source, ps *lang.Problems) *celProgram {
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
	env, err := celBaseEnv()
	if err != nil {
		ps.Add(lang.ProblemCompile, file, 0, "cel environment: %v", err)
		return nil
	}
	before := ps.Len()
	p := &celProgram{}
	compile := func(n *yaml.Node, what string, want *celgo.Type) (celgo.Program, *celgo.Type) {
		if n.Kind == 0 || strings.TrimSpace(n.Value) == "" {
			ps.Add(lang.ProblemInvalid, file, n.Line, "%s: expression is required", what)
			return nil, nil
		}
		ast, iss := env.Compile(n.Value)
		if iss.Err() != nil {
			for _, e := range iss.Errors() {
				ps.AddAt(lang.ProblemType, file, n.Line+max(e.Location.Line()-1, 0), e.Location.Column()+1, "%s: %s", what, e.Message)
			}
			return nil, nil
		}
		if want != nil && !ast.OutputType().IsAssignableType(want) && ast.OutputType() != celgo.DynType {
			ps.Add(lang.ProblemType, file, n.Line, "%s: must be %s, is %s", what, want, ast.OutputType())
			return nil, nil
		}
		prg, err := env.Program(ast, celgo.CostLimit(celCostLimit), celgo.EvalOptions(celgo.OptOptimize))
		if err != nil {
			ps.Add(lang.ProblemCompile, file, n.Line, "%s: %v", what, err)
			return nil, nil
		}
		return prg, ast.OutputType()
	}
	seen := map[string]bool{}
	for i, v := range pf.Variables {
		what := fmt.Sprintf("variables[%d] %s", i, v.Name)
		if !identPattern.MatchString(v.Name) || seen[v.Name] {
			ps.Add(lang.ProblemInvalid, file, v.Expression.Line, "%s: name must be a unique lower_snake identifier", what)
			continue
		}
		seen[v.Name] = true
		prg, t := compile(&v.Expression, what, nil)
		if prg == nil {
			continue
		}
		p.vars = append(p.vars, celVariable{name: v.Name, prg: prg})
		if env, err = env.Extend(celgo.Variable("vars."+v.Name, t)); err != nil {
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
		cond, _ := compile(&r.Condition, what+" condition", celgo.BoolType)
		var msg celgo.Program
		if r.Message.Kind != 0 {
			msg, _ = compile(&r.Message, what+" message", celgo.StringType)
		}
		if !ruleOrder[r.ID] && len(ruleOrder) > 0 {
			ps.Add(lang.ProblemReference, file, r.Condition.Line, "%s: rule id is not listed in the manifest's rules", what)
		}
		p.rules = append(p.rules, celRuleProgram{id: r.ID, effect: r.Effect, code: r.Code, cond: cond, message: msg})
	}
	for i, o := range pf.Outputs {
		what := fmt.Sprintf("outputs[%d] %s", i, o.Name)
		if !identPattern.MatchString(o.Name) {
			ps.Add(lang.ProblemInvalid, file, o.Expression.Line, "%s: name must be a lower_snake identifier", what)
			continue
		}
		prg, _ := compile(&o.Expression, what, nil)
		p.outputs = append(p.outputs, celOutputProgram{name: o.Name, always: o.Always, prg: prg})
	}
	if pf.Outcome.Kind != 0 {
		p.outcome, _ = compile(&pf.Outcome, "outcome", celgo.StringType)
	}
	if ps.Len() > before {
		return nil
	}
	var err2 error
	if p.conditions, err2 = combine(env, conditionsSource(pf.Rules)); err2 != nil {
		ps.Add(lang.ProblemCompile, file, 0, "rules: %v", err2)
	}
	if p.alwaysOutputs, err2 = combine(env, outputsSource(pf.Outputs, true)); err2 != nil {
		ps.Add(lang.ProblemCompile, file, 0, "outputs: %v", err2)
	}
	if p.allowOutputs, err2 = combine(env, outputsSource(pf.Outputs, false)); err2 != nil {
		ps.Add(lang.ProblemCompile, file, 0, "outputs: %v", err2)
	}
	if ps.Len() > before {
		return nil
	}
	if pf.Outcome.Kind == 0 {
		// Best effort: a policy the fused form cannot express still runs expression by expression.
		p.fused, _ = combine(env, fusedSource(pf))
	}
	return p
}

// fusedSource writes the whole policy as one expression: variables become cel.bind names, the
// conditions a list, and the allow-only outputs are computed only when no deny rule fired.
//
//	cel.bind(arbv_a, <a>, ... cel.bind(arbc, [<c0>, ...], {"c": arbc, "a": {...}, "o": arbc[0] || ... ? {} : {...}}))
func fusedSource(pf celPolicyFile) string {
	var denyIdx []string
	for i, r := range pf.Rules {
		if lang.Denies(r.Effect) {
			denyIdx = append(denyIdx, fmt.Sprintf("arbc[%d]", i))
		}
	}
	conds := conditionsSource(pf.Rules)
	if conds == "" {
		conds = "[]"
	}
	always := outputsSource(pf.Outputs, true)
	if always == "" {
		always = "{}"
	}
	allow := outputsSource(pf.Outputs, false)
	if allow == "" {
		allow = "{}"
	}
	if len(denyIdx) > 0 {
		allow = "(" + strings.Join(denyIdx, " || ") + ") ? {} : " + allow
	}
	body := fmt.Sprintf(`cel.bind(arbc, %s, {"c": arbc, "a": %s, "o": %s})`, conds, always, allow)
	for i := len(pf.Variables) - 1; i >= 0; i-- {
		v := pf.Variables[i]
		body = fmt.Sprintf("cel.bind(arbv_%s, %s, %s)", v.Name, v.Expression.Value, body)
	}
	return renameVars(body)
}

// renameVars rewrites vars.<name> outside string literals to the bound arbv_<name>.
func renameVars(src string) string {
	var b strings.Builder
	for i := 0; i < len(src); {
		c := src[i]
		if c == '"' || c == '\'' {
			j := i + 1
			for j < len(src) && src[j] != c {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(src) {
				j = len(src) - 1
			}
			b.WriteString(src[i : j+1])
			i = j + 1
			continue
		}
		if strings.HasPrefix(src[i:], "vars.") && (i == 0 || !isIdentByte(src[i-1])) {
			b.WriteString("arbv_")
			i += len("vars.")
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func conditionsSource(rules []celRule) string {
	if len(rules) == 0 {
		return ""
	}
	parts := make([]string, len(rules))
	for i, r := range rules {
		parts[i] = "(" + r.Condition.Value + ")"
	}
	return "[" + strings.Join(parts, ",\n") + "]"
}

func outputsSource(outputs []celOutput, always bool) string {
	var parts []string
	for _, o := range outputs {
		if o.Always == always {
			parts = append(parts, fmt.Sprintf("%q: dyn(%s)", o.Name, o.Expression.Value))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ",\n") + "}"
}

// combine compiles one program over already-checked expressions; empty source means none.
func combine(env *celgo.Env, src string) (celgo.Program, error) {
	if src == "" {
		return nil, nil
	}
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	return env.Program(ast, celgo.CostLimit(celCostLimit), celgo.EvalOptions(celgo.OptOptimize))
}

// Eval runs the fused program, or expression by expression when it fails so the error names its part.
func (p *celProgram) Eval(ctx context.Context, doc lang.Doc) (*lang.Result, error) {
	act := &celActivation{request: doc.Request, facts: doc.Facts, rules: doc.Rules, now: doc.Now}
	if p.fused != nil {
		if r, ok := p.evalFused(act); ok {
			return r, nil
		}
		// On any error, run expression by expression so the error names its variable, rule or output.
	}
	if len(p.vars) > 0 {
		act.vars = make(map[string]ref.Val, len(p.vars))
	}
	for _, v := range p.vars {
		out, _, err := v.prg.Eval(act)
		if err != nil {
			return nil, fmt.Errorf("cel: variable %s: %w", v.name, err)
		}
		act.vars["vars."+v.name] = out
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("cel: %w", err)
	}
	r := &lang.Result{Outputs: map[string]any{}}
	if p.conditions != nil {
		out, _, err := p.conditions.Eval(act)
		if err != nil {
			return nil, p.ruleError(act, err)
		}
		fired, ok := out.Value().([]ref.Val)
		if !ok {
			list, isList := out.(traits.Lister)
			if !isList {
				return nil, fmt.Errorf("cel: rule conditions gave %v", out.Type())
			}
			fired = make([]ref.Val, len(p.rules))
			for i := range p.rules {
				fired[i] = list.Get(types.Int(i))
			}
		}
		for i, rule := range p.rules {
			if fired[i] != types.True {
				continue
			}
			reason := lang.Reason{Code: rule.code, Rule: rule.id, Effect: rule.effect}
			if rule.message != nil {
				msg, _, err := rule.message.Eval(act)
				if err != nil {
					return nil, fmt.Errorf("cel: rule %s message: %w", rule.id, err)
				}
				reason.Message, _ = msg.Value().(string)
			}
			r.Reasons = append(r.Reasons, reason)
		}
	}
	if p.outcome != nil {
		out, _, err := p.outcome.Eval(act)
		if err != nil {
			return nil, fmt.Errorf("cel: outcome: %w", err)
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
	if err := p.addOutputs(act, p.alwaysOutputs, r.Outputs); err != nil {
		return nil, err
	}
	if !denied {
		if err := p.addOutputs(act, p.allowOutputs, r.Outputs); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// evalFused runs the one-program form; ok is false when it failed and the slow path must explain why.
func (p *celProgram) evalFused(act *celActivation) (*lang.Result, bool) {
	out, _, err := p.fused.Eval(act)
	if err != nil {
		return nil, false
	}
	m, ok := out.(traits.Mapper)
	if !ok {
		return nil, false
	}
	conds, ok := m.Get(types.String("c")).(traits.Lister)
	if !ok {
		return nil, false
	}
	r := &lang.Result{Outputs: map[string]any{}}
	needVars := false
	for i, rule := range p.rules {
		if conds.Get(types.Int(i)) != types.True {
			continue
		}
		r.Reasons = append(r.Reasons, lang.Reason{Code: rule.code, Rule: rule.id, Effect: rule.effect})
		if rule.message != nil {
			needVars = true
		}
	}
	if needVars {
		// Messages are rare (rules that fired) and may read variables: compute them the plain way.
		if len(p.vars) > 0 {
			act.vars = make(map[string]ref.Val, len(p.vars))
		}
		for _, v := range p.vars {
			val, _, err := v.prg.Eval(act)
			if err != nil {
				return nil, false
			}
			act.vars["vars."+v.name] = val
		}
		j := 0
		for i, rule := range p.rules {
			if conds.Get(types.Int(i)) != types.True {
				continue
			}
			if rule.message != nil {
				msg, _, err := rule.message.Eval(act)
				if err != nil {
					return nil, false
				}
				r.Reasons[j].Message, _ = msg.Value().(string)
			}
			j++
		}
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

func (p *celProgram) addOutputs(act *celActivation, prg celgo.Program, into map[string]any) error {
	if prg == nil {
		return nil
	}
	out, _, err := prg.Eval(act)
	if err != nil {
		return p.outputError(act, err)
	}
	v, err := Native(out)
	if err != nil {
		return fmt.Errorf("cel: outputs: %w", err)
	}
	m, _ := v.(map[string]any)
	for k, val := range m {
		into[k] = val
	}
	return nil
}

// ruleError names the rule whose condition failed, by running them one at a time.
func (p *celProgram) ruleError(act *celActivation, err error) error {
	for _, rule := range p.rules {
		if _, _, e := rule.cond.Eval(act); e != nil {
			return fmt.Errorf("cel: rule %s: %w", rule.id, e)
		}
	}
	return fmt.Errorf("cel: rules: %w", err)
}

// outputError names the output that failed, by running them one at a time.
func (p *celProgram) outputError(act *celActivation, err error) error {
	for _, o := range p.outputs {
		if _, _, e := o.prg.Eval(act); e != nil {
			return fmt.Errorf("cel: output %s: %w", o.name, e)
		}
	}
	return fmt.Errorf("cel: outputs: %w", err)
}

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
