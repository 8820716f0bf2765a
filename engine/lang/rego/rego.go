package rego

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
	oparego "github.com/open-policy-agent/opa/v1/rego"

	"arbiter/engine/lang"
)

// Compiler compiles a version's *.rego files (and the shared modules it names) into one prepared query.
type Compiler struct{}

// program is a Rego policy prepared once for evaluation.
type program struct {
	query oparego.PreparedEvalQuery
	// rules caches the rule tables as Rego values by RulesKey: tables are the same for every
	// decision in a window, and converting them on each request dominated evaluation.
	rules sync.Map
	// fsys and files name the version's files and shared modules, parsed again only to explain a decision.
	fsys  fs.FS
	files []string
}

// Compile prepares the policy at src.Dir; every problem is reported with file, line and column.
func (Compiler) Compile(ctx context.Context, src lang.Source) (lang.Program, []lang.Problem) {
	var ps lang.Problems
	files, _ := fs.Glob(src.FS, path.Join(src.Dir, "*.rego"))
	files = append(files, src.Modules...)
	if len(files) == 0 {
		ps.Add(lang.ProblemRead, src.Dir, 0, "a rego policy needs at least one .rego file")
		return nil, ps.List
	}
	if src.Entrypoint == "" {
		ps.Add(lang.ProblemInvalid, path.Join(src.Dir, "manifest.yaml"), 1, "entrypoint is required for rego policies")
		return nil, ps.List
	}
	opts := []func(*oparego.Rego){oparego.Query(src.Entrypoint), oparego.StrictBuiltinErrors(true), oparego.Capabilities(Capabilities())}
	for _, f := range files {
		raw, err := fs.ReadFile(src.FS, f)
		if err != nil {
			ps.Add(lang.ProblemRead, f, 0, "cannot read: %v", err)
			return nil, ps.List
		}
		opts = append(opts, oparego.Module(f, string(raw)))
	}
	opts = append(opts, Options()...)
	pq, err := oparego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		addProblems(src.Dir, err, &ps)
		return nil, ps.List
	}
	return &program{query: pq, fsys: src.FS, files: files}, nil
}

func addProblems(dir string, err error, ps *lang.Problems) {
	var errs ast.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			file, line, col := dir, 0, 0
			if e.Location != nil {
				file, line, col = e.Location.File, e.Location.Row, e.Location.Col
			}
			code := lang.ProblemCompile
			switch e.Code {
			case ast.ParseErr:
				code = lang.ProblemSyntax
			case ast.TypeErr:
				code = lang.ProblemType
			}
			if name, ok := forbiddenCall(e.Message); ok {
				ps.AddAt(lang.ProblemForbidden, file, line, col, "builtin %s is not allowed: a policy may not reach the network, randomness, the environment or the wall clock", name)
				continue
			}
			ps.AddAt(code, file, line, col, "%s", e.Message)
		}
		return
	}
	ps.Add(lang.ProblemCompile, dir, 0, "%v", err)
}

// input builds {request, facts, rules, now} as a Rego value, reusing the cached rule tables.
func (p *program) input(doc lang.Doc) (ast.Value, error) {
	request, err := ast.InterfaceToValue(doc.Request)
	if err != nil {
		return nil, err
	}
	facts, err := ast.InterfaceToValue(doc.Facts)
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
		ast.Item(ast.InternedTerm("now"), ast.StringTerm(doc.Now.Format(time.RFC3339Nano))),
	), nil
}

func (p *program) rulesValue(doc lang.Doc) (ast.Value, error) {
	if doc.RulesKey != "" {
		if v, ok := p.rules.Load(doc.RulesKey); ok {
			return v.(ast.Value), nil
		}
	}
	v, err := ast.InterfaceToValue(doc.Rules)
	if err != nil {
		return nil, err
	}
	if doc.RulesKey != "" {
		p.rules.Store(doc.RulesKey, v)
	}
	return v, nil
}

// Eval runs the prepared query with the evaluation time set to doc.Now.
func (p *program) Eval(ctx context.Context, doc lang.Doc) (*lang.Result, error) {
	input, err := p.input(doc)
	if err != nil {
		return nil, fmt.Errorf("rego: input: %w", err)
	}
	rs, err := p.query.Eval(ctx, oparego.EvalParsedInput(input), oparego.EvalTime(doc.Now))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("rego: %w", ctx.Err())
		}
		return nil, fmt.Errorf("rego: %s", strings.TrimSpace(err.Error()))
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, errors.New("rego: the entrypoint is undefined for this input")
	}
	return lang.ResultFromValue(rs[0].Expressions[0].Value)
}
