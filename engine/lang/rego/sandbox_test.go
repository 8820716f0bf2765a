package rego_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/open-policy-agent/opa/v1/ast"

	"arbiter/engine/lang"
	"arbiter/engine/lang/rego"
)

var update = flag.Bool("update", false, "rewrite policies/capabilities.json")

// TestForbiddenBuiltinsFailToLoad compiles a policy calling each builtin that reaches outside the
// process or the clock: each is a load problem with code forbidden, the file, the line and its name.
func TestForbiddenBuiltinsFailToLoad(t *testing.T) {
	tests := []struct {
		name, call string
	}{
		{name: "http.send", call: `http.send({"method": "GET", "url": "http://127.0.0.1:1"})`},
		{name: "net.lookup_ip_addr", call: `net.lookup_ip_addr("localhost")`},
		{name: "rand.intn", call: `rand.intn("k", 10)`},
		{name: "uuid.rfc4122", call: `uuid.rfc4122("k")`},
		{name: "opa.runtime", call: `opa.runtime()`},
		{name: "time.now_ns", call: `time.now_ns()`},
		{name: "trace", call: `trace("x")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "package p\n\nanswer := {\"outcome\": \"allow\"} if {\n\tx := " + tt.call + "\n\tx != null\n}\n"
			tree := fstest.MapFS{"policies/d/p/v1/policy.rego": {Data: []byte(src)}}
			prog, problems := rego.Compiler{}.Compile(context.Background(), lang.Source{FS: tree, Dir: "policies/d/p/v1", Entrypoint: "data.p.answer"})
			if prog != nil {
				t.Fatal("a policy calling a forbidden builtin compiled")
			}
			for _, p := range problems {
				if p.Code == lang.ProblemForbidden && p.File == "policies/d/p/v1/policy.rego" && p.Line == 4 && strings.Contains(p.Message, tt.name) {
					return
				}
			}
			t.Fatalf("want a forbidden problem naming %s at policy.rego:4, got %v", tt.name, problems)
		})
	}
}

// TestCapabilitiesFile keeps policies/capabilities.json equal to what the engine allows, and checks
// that every shipped Rego module compiles against it alone, as `opa check --capabilities` would.
func TestCapabilitiesFile(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	file := filepath.Join(root, "policies", "capabilities.json")
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rego.ShippedCapabilities()); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(file, want.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("%s is stale: run go test ./engine/lang/rego -run TestCapabilitiesFile -update", file)
	}
	caps, err := ast.LoadCapabilitiesJSON(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	modules := map[string]*ast.Module{}
	err = fs.WalkDir(os.DirFS(root), "policies", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") {
			return err
		}
		raw, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			return err
		}
		m, err := ast.ParseModuleWithOpts(p, string(raw), ast.ParserOptions{Capabilities: caps, RegoVersion: ast.RegoV1})
		if err != nil {
			return err
		}
		modules[p] = m
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(modules) < 10 {
		t.Fatalf("found only %d shipped Rego files", len(modules))
	}
	c := ast.NewCompiler().WithCapabilities(caps)
	if c.Compile(modules); c.Failed() {
		t.Fatalf("shipped policies do not check against %s:\n%v", file, c.Errors)
	}
}
