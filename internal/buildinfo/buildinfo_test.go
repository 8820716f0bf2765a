package buildinfo

import (
	"runtime"
	"testing"
)

func TestGet(t *testing.T) {
	tests := []struct {
		name   string
		commit string
		want   string
	}{
		{name: "linker commit wins", commit: "0123abc", want: "0123abc"},
		{name: "no commit at all", commit: "", want: "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := Commit
			Commit = tt.commit
			defer func() { Commit = old }()
			got := Get()
			// Test binaries carry no VCS stamping, so only the linker value can name a commit.
			if got.Commit != tt.want {
				t.Errorf("commit %q, want %q", got.Commit, tt.want)
			}
			if got.GoVersion != runtime.Version() || got.Version == "" {
				t.Errorf("info %+v", got)
			}
		})
	}
}
