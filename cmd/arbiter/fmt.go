package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
)

// cmdFmt formats the Rego files of a policy tree with OPA's formatter (Rego v1), as `opa fmt` does.
func cmdFmt(_ context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlags("fmt", stderr)
	write := flags.Bool("w", false, "rewrite files that are not formatted")
	if err := parse(flags, args); err != nil {
		return err
	}
	roots := flags.Args()
	if len(roots) == 0 {
		roots = []string{"policies"}
	}
	var unformatted []string
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") {
				return err
			}
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out, err := format.SourceWithOpts(p, src, format.Opts{RegoVersion: ast.RegoV1})
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			if bytes.Equal(src, out) {
				return nil
			}
			unformatted = append(unformatted, p)
			if *write {
				return os.WriteFile(p, out, 0o644)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, p := range unformatted {
		fmt.Fprintln(stdout, p)
	}
	if len(unformatted) > 0 && !*write {
		fmt.Fprintf(stderr, "arbiter fmt: %d file(s) not formatted; run arbiter fmt -w\n", len(unformatted))
		return errReported
	}
	return nil
}
