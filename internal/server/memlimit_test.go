package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestChooseMemoryPolicy(t *testing.T) {
	tests := []struct {
		name      string
		files     map[string]string // under the cgroup root
		env       map[string]string
		limit     int64
		gcPercent int
		reason    string
	}{
		{name: "cgroup v2 limit", files: map[string]string{"memory.max": "1073741824\n"},
			limit: 966367641, gcPercent: defaultGCPercent, reason: "90% of 1073741824"},
		{name: "cgroup v2 without limit", files: map[string]string{"memory.max": "max\n"}, reason: "sets none"},
		{name: "cgroup v1 limit", files: map[string]string{"memory/memory.limit_in_bytes": "536870912\n"},
			limit: 483183820, gcPercent: defaultGCPercent, reason: "memory.limit_in_bytes"},
		{name: "cgroup v1 without limit", files: map[string]string{"memory/memory.limit_in_bytes": "9223372036854771712\n"}, reason: "sets none"},
		{name: "no cgroup files", reason: "sets none"},
		{name: "garbage", files: map[string]string{"memory.max": "lots\n"}, reason: "no memory limit: "},
		{name: "GOMEMLIMIT set by the operator", files: map[string]string{"memory.max": "1073741824\n"},
			env: map[string]string{"GOMEMLIMIT": "500MiB"}, gcPercent: defaultGCPercent, reason: "GOMEMLIMIT set by the environment"},
		{name: "GOGC set by the operator", files: map[string]string{"memory.max": "1073741824\n"},
			env: map[string]string{"GOGC": "100"}, limit: 966367641, reason: "90%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for name, body := range tt.files {
				p := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got := chooseMemoryPolicy(func(k string) string { return tt.env[k] }, root)
			if got.Limit != tt.limit || got.GCPercent != tt.gcPercent || !strings.Contains(got.Reason, tt.reason) {
				t.Fatalf("policy %+v, want limit %d, GOGC %d, reason containing %q", got, tt.limit, tt.gcPercent, tt.reason)
			}
		})
	}
}
