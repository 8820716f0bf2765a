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
		{name: "log sink", env: map[string]string{"ARBITER_LOG_SINK_URL": "https://logs.example/logs", "ARBITER_LOG_SINK_TOKEN": "t",
			"ARBITER_LOG_SINK_BATCH": "50", "ARBITER_LOG_SINK_BUFFER": "2000", "ARBITER_LOG_SINK_INTERVAL": "2s", "ARBITER_LOG_SINK_MAX_BACKOFF": "1m"},
			check: func(t *testing.T, c Config) {
				if c.LogSinkURL != "https://logs.example/logs" || c.LogSinkToken != "t" || c.LogSinkBatch != 50 || c.LogSinkBuffer != 2000 ||
					c.LogSinkInterval != 2*time.Second || c.LogSinkMaxBackoff != time.Minute {
					t.Errorf("config %+v", c)
				}
			}},
		{name: "log sink url not http", env: map[string]string{"ARBITER_LOG_SINK_URL": "logs.example:9000"}, wantErr: []string{"ARBITER_LOG_SINK_URL", "not an http or https URL"}},
		{name: "log sink url without host", env: map[string]string{"ARBITER_LOG_SINK_URL": "http:///logs"}, wantErr: []string{"ARBITER_LOG_SINK_URL"}},
		{name: "log sink batch zero", env: map[string]string{"ARBITER_LOG_SINK_URL": "http://l/logs", "ARBITER_LOG_SINK_BATCH": "0"}, wantErr: []string{"ARBITER_LOG_SINK_BATCH", "positive whole number"}},
		{name: "log sink buffer words", env: map[string]string{"ARBITER_LOG_SINK_URL": "http://l/logs", "ARBITER_LOG_SINK_BUFFER": "lots"}, wantErr: []string{"ARBITER_LOG_SINK_BUFFER"}},
		{name: "log sink interval without a unit", env: map[string]string{"ARBITER_LOG_SINK_URL": "http://l/logs", "ARBITER_LOG_SINK_INTERVAL": "5"}, wantErr: []string{"ARBITER_LOG_SINK_INTERVAL", "has no unit"}},
		{name: "log sink backoff zero", env: map[string]string{"ARBITER_LOG_SINK_URL": "http://l/logs", "ARBITER_LOG_SINK_MAX_BACKOFF": "0s"}, wantErr: []string{"ARBITER_LOG_SINK_MAX_BACKOFF", "not positive"}},
		{name: "log sink settings without a url", env: map[string]string{"ARBITER_LOG_SINK_BATCH": "10"}, wantErr: []string{"ARBITER_LOG_SINK_BATCH is set but ARBITER_LOG_SINK_URL is not"}},
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
