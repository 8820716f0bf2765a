package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"arbiter/engine/internal/regodec"
)

// regoProgram is a Rego policy prepared once for evaluation.
type regoProgram struct {
	query rego.PreparedEvalQuery
	// rules caches the rule tables as Rego values by rulesKey: tables are the same for every
	// decision in a window, and converting them on each request dominated evaluation.
	rules sync.Map
}

func compileRego(ctx context.Context, fsys fs.FS, dir, entrypoint string, shared []string, ps *problems) program {
	files, _ := fs.Glob(fsys, path.Join(dir, "*.rego"))
	files = append(files, shared...)
	if len(files) == 0 {
		ps.add(dir, 0, "a rego policy needs at least one .rego file")
		return nil
	}
	opts := []func(*rego.Rego){rego.Query(entrypoint), rego.StrictBuiltinErrors(true)}
	for _, f := range files {
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			ps.add(f, 0, "cannot read: %v", err)
			return nil
		}
		opts = append(opts, rego.Module(f, string(src)))
	}
	opts = append(opts, regodec.Options()...)
	pq, err := rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		addRegoProblems(dir, err, ps)
		return nil
	}
	return &regoProgram{query: pq}
}

// input builds {request, facts, rules, now} as a Rego value, reusing the cached rule tables.
func (p *regoProgram) input(doc evalDoc) (ast.Value, error) {
	request, err := ast.InterfaceToValue(doc.request)
	if err != nil {
		return nil, err
	}
	facts, err := ast.InterfaceToValue(doc.facts)
	if err != nil {
		return nil, err
	}
	rules, err := p.rulesValue(doc)
	if err != nil {
		return nil, err
	}
	return ast.NewObject(
		ast.Item(ast.InternedTerm("request"), ast.NewTerm(request)),
		ast.Item(ast.InternedTerm("facts"), ast.NewTerm(facts)),
		ast.Item(ast.InternedTerm("rules"), ast.NewTerm(rules)),
		ast.Item(ast.InternedTerm("now"), ast.StringTerm(doc.now.Format(time.RFC3339Nano))),
	), nil
}

func (p *regoProgram) rulesValue(doc evalDoc) (ast.Value, error) {
	if doc.rulesKey != "" {
		if v, ok := p.rules.Load(doc.rulesKey); ok {
			return v.(ast.Value), nil
		}
	}
	v, err := ast.InterfaceToValue(doc.rules)
	if err != nil {
		return nil, err
	}
	if doc.rulesKey != "" {
		p.rules.Store(doc.rulesKey, v)
	}
	return v, nil
}

func addRegoProblems(dir string, err error, ps *problems) {
	var errs ast.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			file, line := dir, 0
			if e.Location != nil {
				file, line = e.Location.File, e.Location.Row
			}
			ps.add(file, line, "%s", e.Message)
		}
		return
	}
	ps.add(dir, 0, "%v", err)
}

func (p *regoProgram) eval(ctx context.Context, doc evalDoc) (*result, error) {
	input, err := p.input(doc)
	if err != nil {
		return nil, fmt.Errorf("rego: input: %w", err)
	}
	rs, err := p.query.Eval(ctx, rego.EvalParsedInput(input), rego.EvalTime(doc.now))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("rego: %w", ctx.Err())
		}
		return nil, fmt.Errorf("rego: %s", strings.TrimSpace(err.Error()))
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, errors.New("rego: the entrypoint is undefined for this input")
	}
	return resultFromValue(rs[0].Expressions[0].Value)
}
