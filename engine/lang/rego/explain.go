package rego

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"

	"arbiter/engine/lang"
)

// Explain evaluates like Eval with OPA's tracer attached, rule indexing and early exit off so that
// every rule body is tried, and reports for each rule of the version's own files whether its body
// held, did not hold (with the expressions that failed) or was never evaluated. The version's own
// files come first, then the shared modules it names, each in source order.
func (p *program) Explain(ctx context.Context, doc lang.Doc) (*lang.Result, []lang.Condition, error) {
	input, err := p.input(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("rego: input: %w", err)
	}
	tr := topdown.NewBufferTracer()
	rs, err := p.query.Eval(ctx, oparego.EvalParsedInput(input), oparego.EvalTime(doc.Now),
		oparego.EvalQueryTracer(tr), oparego.EvalRuleIndexing(false), oparego.EvalEarlyExit(false))
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("rego: %w", ctx.Err())
		}
		return nil, nil, fmt.Errorf("rego: %s", strings.TrimSpace(err.Error()))
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, nil, errors.New("rego: the entrypoint is undefined for this input")
	}
	r, err := lang.ResultFromValue(rs[0].Expressions[0].Value)
	if err != nil {
		return nil, nil, err
	}
	conds, err := p.conditions(*tr)
	if err != nil {
		return nil, nil, err
	}
	return r, conds, nil
}

type ruleTrace struct {
	entered, held bool
	failed        []string
	seenFail      map[string]bool
}

// conditions folds the trace into one condition per rule of the version's files and modules.
func (p *program) conditions(events []*topdown.Event) ([]lang.Condition, error) {
	byLoc := map[string]*ruleTrace{} // file:row of a rule
	queries := map[uint64]*ruleTrace{}
	at := func(l *ast.Location) string { return fmt.Sprintf("%s:%d", l.File, l.Row) }
	for _, ev := range events {
		if ev.Location == nil {
			continue
		}
		switch ev.Op {
		case topdown.EnterOp, topdown.ExitOp:
			if _, ok := ev.Node.(*ast.Rule); !ok {
				continue
			}
			rt := byLoc[at(ev.Location)]
			if rt == nil {
				rt = &ruleTrace{seenFail: map[string]bool{}}
				byLoc[at(ev.Location)] = rt
			}
			rt.entered = true
			if ev.Op == topdown.ExitOp {
				rt.held = true
			} else {
				queries[ev.QueryID] = rt
			}
		case topdown.FailOp:
			expr, ok := ev.Node.(*ast.Expr)
			if !ok {
				continue
			}
			rt := queries[ev.QueryID]
			if rt == nil {
				continue
			}
			text := fmt.Sprintf("%d: %s", ev.Location.Row, firstLine(string(ev.Location.Text)))
			if expr.Generated || rt.seenFail[text] {
				continue
			}
			rt.seenFail[text] = true
			rt.failed = append(rt.failed, text)
		}
	}
	var out []lang.Condition
	for _, file := range p.files {
		raw, err := fs.ReadFile(p.fsys, file)
		if err != nil {
			return nil, fmt.Errorf("rego: explain: %w", err)
		}
		mod, err := ast.ParseModuleWithOpts(file, string(raw), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return nil, fmt.Errorf("rego: explain: %w", err)
		}
		for _, rule := range mod.Rules {
			for r := rule; r != nil; r = r.Else {
				out = append(out, condition(r, byLoc[at(r.Location)]))
			}
		}
	}
	return out, nil
}

func condition(r *ast.Rule, rt *ruleTrace) lang.Condition {
	c := lang.Condition{
		Kind: lang.ConditionKindRule, Name: r.Head.Ref().String(), Status: lang.ConditionSkipped,
		File: r.Location.File, Line: r.Location.Row, Source: firstLine(string(r.Location.Text)),
	}
	if r.Head.Key != nil {
		c.Rule, c.Code = objectString(r.Head.Key, "rule"), objectString(r.Head.Key, "code")
	}
	if rt != nil && rt.entered {
		c.Status = lang.ConditionNotHeld
		if rt.held {
			c.Status = lang.ConditionHeld
		} else {
			c.Failed = rt.failed
		}
	}
	return c
}

// objectString is the string at key of an object term, or "".
func objectString(t *ast.Term, key string) string {
	obj, ok := t.Value.(ast.Object)
	if !ok {
		return ""
	}
	v := obj.Get(ast.StringTerm(key))
	if v == nil {
		return ""
	}
	s, _ := v.Value.(ast.String)
	return string(s)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}
