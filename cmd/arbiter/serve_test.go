package main

import (
	"strings"
	"testing"
)

// TestServeRefusesBadConfiguration: serve stops before building anything when a variable or flag is
// malformed, naming it.
func TestServeRefusesBadConfiguration(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"timeout without a unit", map[string]string{"ARBITER_EVAL_TIMEOUT": "500"}, nil, 1, "ARBITER_EVAL_TIMEOUT"},
		{"bad address variable", map[string]string{"ARBITER_ADDR": "8080"}, nil, 1, "ARBITER_ADDR"},
		{"bad database url", map[string]string{"DATABASE_URL": "postgres://db:port/x"}, nil, 1, "DATABASE_URL"},
		{"bad address flag", nil, []string{"--addr", "localhost"}, 2, "--addr"},
		{"drain without a unit", map[string]string{"ARBITER_DRAIN": "5"}, nil, 1, "ARBITER_DRAIN"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"ARBITER_ADDR", "DATABASE_URL", "ARBITER_EVAL_TIMEOUT", "ARBITER_DRAIN"} {
				t.Setenv(k, "")
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := append([]string{"serve"}, tt.args...)
			code, _, errOut := runCLI(t, args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d naming %s", code, errOut, tt.code, tt.want)
			}
		})
	}
}
