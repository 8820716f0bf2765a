package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"arbiter/engine/internal/regodec"
)

// regoProgram is a Rego policy prepared once for evaluation.
type regoProgram struct {
	query rego.PreparedEvalQuery
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
	input := map[string]any{
		"request": doc.request,
		"facts":   doc.facts,
		"rules":   doc.rules,
		"now":     doc.now.Format(time.RFC3339Nano),
	}
	rs, err := p.query.Eval(ctx, rego.EvalInput(input), rego.EvalTime(doc.now))
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
