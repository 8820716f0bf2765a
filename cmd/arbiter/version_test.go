package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"command", []string{"version"}},
		{"flag", []string{"--version"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if !strings.HasPrefix(out, "arbiter ") || !strings.Contains(out, "commit ") || !strings.Contains(out, runtime.Version()) {
				t.Fatalf("version %q, want arbiter <version> (commit <c>, %s)", out, runtime.Version())
			}
		})
	}
}
