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
	"cel.dev/cel-go/ext"
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
type celProgram struct {
	vars    []celVariable
	rules   []celRuleProgram
	outputs []celOutputProgram
	outcome cel.Program
}

// celBaseEnv declares what every CEL policy sees; it is built once per policy set load.
func celBaseEnv() (*cel.Env, error) {
	return cel.NewEnv(
		celdec.Library(),
		ext.Strings(), ext.Math(), ext.Lists(), ext.Sets(),
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
		prg, err := env.Program(ast, cel.CostLimit(celCostLimit), cel.InterruptCheckFrequency(100), cel.EvalOptions(cel.OptOptimize))
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
	return p
}

func (p *celProgram) eval(ctx context.Context, doc evalDoc) (*result, error) {
	act := map[string]any{
		"request": celNative(doc.request),
		"facts":   doc.facts,
		"rules":   doc.rules,
		"now":     doc.now,
	}
	for _, v := range p.vars {
		out, _, err := v.prg.ContextEval(ctx, act)
		if err != nil {
			return nil, fmt.Errorf("cel: variable %s: %w", v.name, err)
		}
		act["vars."+v.name] = out
	}
	r := &result{Outputs: map[string]any{}}
	for _, rule := range p.rules {
		out, _, err := rule.cond.ContextEval(ctx, act)
		if err != nil {
			return nil, fmt.Errorf("cel: rule %s: %w", rule.id, err)
		}
		if out != types.True {
			continue
		}
		reason := Reason{Code: rule.code, Rule: rule.id, Effect: rule.effect}
		if rule.message != nil {
			msg, _, err := rule.message.ContextEval(ctx, act)
			if err != nil {
				return nil, fmt.Errorf("cel: rule %s message: %w", rule.id, err)
			}
			reason.Message, _ = msg.Value().(string)
		}
		r.Reasons = append(r.Reasons, reason)
	}
	if p.outcome != nil {
		out, _, err := p.outcome.ContextEval(ctx, act)
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
	for _, o := range p.outputs {
		if denied && !o.always {
			continue
		}
		out, _, err := o.prg.ContextEval(ctx, act)
		if err != nil {
			return nil, fmt.Errorf("cel: output %s: %w", o.name, err)
		}
		v, err := celdec.Native(out)
		if err != nil {
			return nil, fmt.Errorf("cel: output %s: %w", o.name, err)
		}
		r.Outputs[o.name] = v
	}
	return r, nil
}

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
