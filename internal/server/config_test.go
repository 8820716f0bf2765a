package server

import (
	"strings"
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string // each must appear in the error; nil: no error
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults", check: func(t *testing.T, c Config) {
			if c.Addr != ":8080" || c.EvalTimeout != 2*time.Second || c.Drain != DefaultDrain || c.DatabaseURL != "" {
				t.Errorf("defaults %+v", c)
			}
		}},
		{name: "valid values", env: map[string]string{"ARBITER_ADDR": "127.0.0.1:9090", "ARBITER_EVAL_TIMEOUT": "500ms",
			"ARBITER_DRAIN": "0s", "DATABASE_URL": "postgres://u@db:5432/arbiter?default_query_exec_mode=exec"},
			check: func(t *testing.T, c Config) {
				if c.Addr != "127.0.0.1:9090" || c.EvalTimeout != 500*time.Millisecond || c.Drain != 0 {
					t.Errorf("config %+v", c)
				}
			}},
		{name: "timeout without a unit", env: map[string]string{"ARBITER_EVAL_TIMEOUT": "500"}, wantErr: []string{"ARBITER_EVAL_TIMEOUT", `"500" has no unit`}},
		{name: "timeout not a duration", env: map[string]string{"ARBITER_EVAL_TIMEOUT": "soon"}, wantErr: []string{"ARBITER_EVAL_TIMEOUT", "not a duration"}},
		{name: "timeout zero", env: map[string]string{"ARBITER_EVAL_TIMEOUT": "0s"}, wantErr: []string{"ARBITER_EVAL_TIMEOUT", "not positive"}},
		{name: "drain without a unit", env: map[string]string{"ARBITER_DRAIN": "5"}, wantErr: []string{"ARBITER_DRAIN", "has no unit"}},
		{name: "drain negative", env: map[string]string{"ARBITER_DRAIN": "-1s"}, wantErr: []string{"ARBITER_DRAIN", "negative"}},
		{name: "address without a port", env: map[string]string{"ARBITER_ADDR": "localhost"}, wantErr: []string{"ARBITER_ADDR", "not host:port"}},
		{name: "address with a port name", env: map[string]string{"ARBITER_ADDR": ":http"}, wantErr: []string{"ARBITER_ADDR", "port number"}},
		{name: "address port out of range", env: map[string]string{"ARBITER_ADDR": ":70000"}, wantErr: []string{"ARBITER_ADDR", "port number"}},
		{name: "database url malformed", env: map[string]string{"DATABASE_URL": "postgres://u:secret@db:notaport/x"}, wantErr: []string{"DATABASE_URL"}},
		{name: "database url unknown query mode", env: map[string]string{"DATABASE_URL": "postgres://u@db/x?default_query_exec_mode=fast"}, wantErr: []string{"DATABASE_URL"}},
		{name: "every problem at once", env: map[string]string{"ARBITER_ADDR": "nope", "ARBITER_EVAL_TIMEOUT": "2"},
			wantErr: []string{"ARBITER_ADDR", "ARBITER_EVAL_TIMEOUT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range Variables {
				t.Setenv(k, "")
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := FromEnv()
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				tt.check(t, c)
				return
			}
			if err == nil {
				t.Fatalf("no error, want one naming %v", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}
