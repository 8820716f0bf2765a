package cel

import (
	"context"
	"testing"
	"testing/fstest"

	"gopkg.in/yaml.v3"

	"arbiter/engine/lang"
	"arbiter/internal/strictyaml"
)

// FuzzPolicyFile decodes policy.cel.yaml as Compile does: any input gives a policy file whose
// expressions are located, or problems naming the file. One input in a hundred also goes through the
// whole Compile, which type-checks every expression and costs milliseconds.
func FuzzPolicyFile(f *testing.F) {
	for _, s := range []string{
		"rules:\n  - id: X-01\n    condition: \"false\"\n    code: NEVER\noutputs:\n  - name: v\n    expression: '\"v1\"'\n",
		"variables:\n  - name: total\n    expression: dec(\"1.5\") * dec(\"2\")\noutcome: '\"allow\"'\n",
		"rules:\n  - id: X-02\n    condition: input.amount > 0\n    effect: refer\n    code: C\n    message: '\"m\"'\n",
		"variables: &v [{name: a, expression: *v}]\n", "rules: [{id: X, nope: 1}]\n", "outputs: [{name: a, always: maybe}]\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var pf celPolicyFile
		var ps lang.Problems
		if !strictyaml.Decode("policy.cel.yaml", []byte(s), &pf, &ps) {
			if ps.Len() == 0 {
				t.Fatal("refused without a problem")
			}
			for _, p := range ps.List {
				if p.File != "policy.cel.yaml" {
					t.Fatalf("a problem that does not name the file: %v", p)
				}
			}
			return
		}
		located := func(n yaml.Node, what string) {
			if n.Kind != 0 && n.Line == 0 {
				t.Fatalf("%s has no line", what)
			}
		}
		for _, v := range pf.Variables {
			located(v.Expression, "a variable")
		}
		for _, r := range pf.Rules {
			located(r.Condition, "a condition")
			located(r.Message, "a message")
		}
		for _, o := range pf.Outputs {
			located(o.Expression, "an output")
		}
		located(pf.Outcome, "the outcome")
		if len(s)%100 != 0 {
			return
		}
		src := lang.Source{FS: fstest.MapFS{"p/policy.cel.yaml": {Data: []byte(s)}}, Dir: "p"}
		if _, problems := (Compiler{}).Compile(context.Background(), src); len(problems) > 0 {
			for _, p := range problems {
				if p.File != "p/policy.cel.yaml" {
					t.Fatalf("a compile problem that does not name the file: %v", p)
				}
			}
		}
	})
}
