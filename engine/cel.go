package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"
	"gopkg.in/yaml.v3"

	"arbiter/engine/internal/celdec"
)

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
	prg  cel.Program
}

type celRuleProgram struct {
	id, effect, code string
	cond, message    cel.Program
}

type celOutputProgram struct {
	name   string
	always bool
	prg    cel.Program
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
	outcome cel.Program

	fused         cel.Program // variables, conditions and outputs in one program; nil when not possible
	conditions    cel.Program // [cond0, cond1, ...]
	alwaysOutputs cel.Program // {name: expr} of outputs computed even on deny; nil when none
	allowOutputs  cel.Program // {name: expr} of the other outputs; nil when none
}

// celBaseEnv declares what every CEL policy sees; it is built once per policy set load.
func celBaseEnv() (*cel.Env, error) {
	return cel.NewEnv(
		celdec.Library(),
		ext.Strings(), ext.Math(), ext.Lists(), ext.Sets(), ext.Bindings(),
		cel.OptionalTypes(),
		cel.Variable("request", cel.DynType),
		cel.Variable("facts", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("rules", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("now", cel.TimestampType),
		calendarFunctions(),
	)
}

func compileCEL(fsys fs.FS, dir string, pv *policyVersion, ps *problems) program {
	file := path.Join(dir, "policy.cel.yaml")
	raw, err := fs.ReadFile(fsys, file)
	if err != nil {
		ps.add(file, 0, "a cel policy needs policy.cel.yaml: %v", err)
		return nil
	}
	var pf celPolicyFile
	if !decodeStrict(file, raw, &pf, ps) {
		return nil
	}
	env, err := celBaseEnv()
	if err != nil {
		ps.add(file, 0, "cel environment: %v", err)
		return nil
	}
	before := len(ps.list)
	p := &celProgram{}
	compile := func(n *yaml.Node, what string, want *cel.Type) (cel.Program, *cel.Type) {
		if n.Kind == 0 || strings.TrimSpace(n.Value) == "" {
			ps.add(file, n.Line, "%s: expression is required", what)
			return nil, nil
		}
		ast, iss := env.Compile(n.Value)
		if iss.Err() != nil {
			for _, e := range iss.Errors() {
				ps.add(file, n.Line+max(e.Location.Line()-1, 0), "%s: %s", what, e.Message)
			}
			return nil, nil
		}
		if want != nil && !ast.OutputType().IsAssignableType(want) && ast.OutputType() != cel.DynType {
			ps.add(file, n.Line, "%s: must be %s, is %s", what, want, ast.OutputType())
			return nil, nil
		}
		prg, err := env.Program(ast, cel.CostLimit(celCostLimit), cel.EvalOptions(cel.OptOptimize))
		if err != nil {
			ps.add(file, n.Line, "%s: %v", what, err)
			return nil, nil
		}
		return prg, ast.OutputType()
	}
	seen := map[string]bool{}
	for i, v := range pf.Variables {
		what := fmt.Sprintf("variables[%d] %s", i, v.Name)
		if !idPattern.MatchString(v.Name) || seen[v.Name] {
			ps.add(file, v.Expression.Line, "%s: name must be a unique lower_snake identifier", what)
			continue
		}
		seen[v.Name] = true
		prg, t := compile(&v.Expression, what, nil)
		if prg == nil {
			continue
		}
		p.vars = append(p.vars, celVariable{name: v.Name, prg: prg})
		if env, err = env.Extend(cel.Variable("vars."+v.Name, t)); err != nil {
			ps.add(file, v.Expression.Line, "%s: %v", what, err)
		}
	}
	for i, r := range pf.Rules {
		what := fmt.Sprintf("rules[%d] %s", i, r.ID)
		if r.ID == "" || r.Code == "" {
			ps.add(file, r.Condition.Line, "%s: a rule needs an id and a code", what)
			continue
		}
		switch r.Effect {
		case "", EffectDeny, EffectRefer, EffectNote:
		default:
			ps.add(file, r.Condition.Line, "%s: effect must be deny, refer or note", what)
		}
		cond, _ := compile(&r.Condition, what+" condition", cel.BoolType)
		var msg cel.Program
		if r.Message.Kind != 0 {
			msg, _ = compile(&r.Message, what+" message", cel.StringType)
		}
		if _, known := pv.ruleOrder[r.ID]; !known && len(pv.ruleOrder) > 0 {
			ps.add(file, r.Condition.Line, "%s: rule id is not listed in the manifest's rules", what)
		}
		p.rules = append(p.rules, celRuleProgram{id: r.ID, effect: r.Effect, code: r.Code, cond: cond, message: msg})
	}
	for i, o := range pf.Outputs {
		what := fmt.Sprintf("outputs[%d] %s", i, o.Name)
		if !idPattern.MatchString(o.Name) {
			ps.add(file, o.Expression.Line, "%s: name must be a lower_snake identifier", what)
			continue
		}
		prg, _ := compile(&o.Expression, what, nil)
		p.outputs = append(p.outputs, celOutputProgram{name: o.Name, always: o.Always, prg: prg})
	}
	if pf.Outcome.Kind != 0 {
		p.outcome, _ = compile(&pf.Outcome, "outcome", cel.StringType)
	}
	if len(ps.list) > before {
		return nil
	}
	var err2 error
	if p.conditions, err2 = combine(env, conditionsSource(pf.Rules)); err2 != nil {
		ps.add(file, 0, "rules: %v", err2)
	}
	if p.alwaysOutputs, err2 = combine(env, outputsSource(pf.Outputs, true)); err2 != nil {
		ps.add(file, 0, "outputs: %v", err2)
	}
	if p.allowOutputs, err2 = combine(env, outputsSource(pf.Outputs, false)); err2 != nil {
		ps.add(file, 0, "outputs: %v", err2)
	}
	if len(ps.list) > before {
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
		if r.Effect == "" || r.Effect == EffectDeny {
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
func combine(env *cel.Env, src string) (cel.Program, error) {
	if src == "" {
		return nil, nil
	}
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	return env.Program(ast, cel.CostLimit(celCostLimit), cel.EvalOptions(cel.OptOptimize))
}

func (p *celProgram) eval(ctx context.Context, doc evalDoc) (*result, error) {
	act := &celActivation{request: celNative(doc.request), facts: doc.facts, rules: doc.rules, now: doc.now}
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
	r := &result{Outputs: map[string]any{}}
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
			reason := Reason{Code: rule.code, Rule: rule.id, Effect: rule.effect}
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
	denied := r.Outcome == OutcomeDeny
	if r.Outcome == "" {
		for _, re := range r.Reasons {
			if re.Effect == "" || re.Effect == EffectDeny {
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
func (p *celProgram) evalFused(act *celActivation) (*result, bool) {
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
	r := &result{Outputs: map[string]any{}}
	needVars := false
	for i, rule := range p.rules {
		if conds.Get(types.Int(i)) != types.True {
			continue
		}
		r.Reasons = append(r.Reasons, Reason{Code: rule.code, Rule: rule.id, Effect: rule.effect})
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
		v, err := celdec.Native(m.Get(types.String(key)))
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

func (p *celProgram) addOutputs(act *celActivation, prg cel.Program, into map[string]any) error {
	if prg == nil {
		return nil
	}
	out, _, err := prg.Eval(act)
	if err != nil {
		return p.outputError(act, err)
	}
	v, err := celdec.Native(out)
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

// celNative converts decoded JSON (json.Number) into values CEL adapts natively.
func celNative(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, c := range t {
			out[k] = celNative(c)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, c := range t {
			out[i] = celNative(c)
		}
		return out
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		// Non-integral numbers are not amounts (schemas make amounts strings); CEL sees them as double.
		f, _ := t.Float64()
		return f
	}
	return v
}

// calendarFunctions adds Beijing-calendar helpers CEL lacks: whole calendar months and dates.
func calendarFunctions() cel.EnvOption {
	return cel.Lib(calendarLib{})
}

type calendarLib struct{}

func (calendarLib) LibraryName() string { return "arbiter.calendar" }

func (calendarLib) CompileOptions() []cel.EnvOption {
	return []cel.EnvOption{
		cel.Function("add_months",
			cel.Overload("add_months_timestamp_int", []*cel.Type{cel.TimestampType, cel.IntType}, cel.TimestampType,
				cel.BinaryBinding(func(ts, n ref.Val) ref.Val {
					t, ok1 := ts.Value().(time.Time)
					m, ok2 := n.Value().(int64)
					if !ok1 || !ok2 {
						return types.NewErr("add_months: bad arguments")
					}
					return types.Timestamp{Time: AddMonths(t, int(m))}
				}))),
		cel.Function("date_of",
			cel.Overload("date_of_timestamp", []*cel.Type{cel.TimestampType}, cel.StringType,
				cel.UnaryBinding(func(ts ref.Val) ref.Val {
					t, ok := ts.Value().(time.Time)
					if !ok {
						return types.NewErr("date_of: bad argument")
					}
					return types.String(t.In(Beijing).Format(time.DateOnly))
				}))),
		cel.Function("beijing_date",
			cel.Overload("beijing_date_string", []*cel.Type{cel.StringType}, cel.TimestampType,
				cel.UnaryBinding(func(s ref.Val) ref.Val {
					str, _ := s.Value().(string)
					t, err := time.ParseInLocation(time.DateOnly, str, Beijing)
					if err != nil {
						return types.NewErr("beijing_date: %q is not a date YYYY-MM-DD", str)
					}
					return types.Timestamp{Time: t}
				}))),
	}
}

func (calendarLib) ProgramOptions() []cel.ProgramOption { return nil }

// AddMonths adds whole calendar months in Beijing time, clamping to the last day of a shorter month.
func AddMonths(t time.Time, months int) time.Time {
	local := t.In(Beijing)
	y, m, d := local.Date()
	first := time.Date(y, m+time.Month(months), 1, local.Hour(), local.Minute(), local.Second(), local.Nanosecond(), Beijing)
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, local.Hour(), local.Minute(), local.Second(), local.Nanosecond(), Beijing)
}
