package arbiter_test

import (
	"bytes"
	"io/fs"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"

	"arbiter"
)

// TestRegoIsFormatted keeps every shipped Rego file as OPA's formatter writes it, so a policy diff
// shows only what changed; `arbiter fmt -w` fixes a failure.
func TestRegoIsFormatted(t *testing.T) {
	err := fs.WalkDir(arbiter.Bundle(), "policies", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") {
			return err
		}
		src, err := fs.ReadFile(arbiter.Bundle(), p)
		if err != nil {
			return err
		}
		out, err := format.SourceWithOpts(p, src, format.Opts{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		if !bytes.Equal(src, out) {
			t.Errorf("%s is not formatted; run arbiter fmt -w", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
