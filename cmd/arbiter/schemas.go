package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"arbiter/schemas"
)

// cmdSchemas writes the published JSON Schemas of the tree (schemas/, .vscode/settings.json).
func cmdSchemas(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("schemas", stderr)
	dir := fs.String("policies", ".", "tree holding policies/, rules/ and facts/")
	out := fs.String("out", "", "folder to write schemas/ and .vscode/settings.json into (default: the tree)")
	check := fs.Bool("check", false, "write nothing; fail when a written schema differs from what the tree gives")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"usage: arbiter schemas [--policies DIR] [--out DIR] [--check]"}
	}
	if *out == "" {
		*out = *dir
	}
	files, err := schemas.Generate(os.DirFS(*dir))
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	sort.Strings(names)
	stale := 0
	for _, f := range names {
		target := filepath.Join(*out, filepath.FromSlash(f))
		if *check {
			if got, err := os.ReadFile(target); err != nil || string(got) != string(files[f]) {
				fmt.Fprintf(stdout, "stale %s\n", f)
				stale++
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, files[f], 0o644); err != nil {
			return err
		}
	}
	if stale > 0 {
		return fmt.Errorf("%d schema file(s) differ from the tree: run arbiter schemas", stale)
	}
	if !*check {
		fmt.Fprintf(stdout, "wrote %d files under %s (schemas/, %s)\n", len(files), *out, schemas.SettingsFile)
	}
	return nil
}
