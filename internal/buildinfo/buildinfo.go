// Package buildinfo reports the version, commit and Go version of the running binary.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Commit is the VCS revision, set at link time (-ldflags "-X arbiter/internal/buildinfo.Commit=...")
// where Go's own VCS stamping is off (GOFLAGS=-buildvcs=false); empty falls back to that stamping.
var Commit string

// Info describes one build.
type Info struct {
	Version   string // module version, "(devel)" for a build from a checkout
	Commit    string // VCS revision, "unknown" when neither the linker nor Go's stamping set it
	Modified  bool   // the working tree had uncommitted changes (Go's stamping only)
	GoVersion string
}

// Get returns the running binary's build information.
func Get() Info {
	info := Info{Version: "(devel)", Commit: Commit, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.Commit == "" {
					info.Commit = s.Value
				}
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	return info
}

// String is the one-line form `arbiter version` prints.
func (i Info) String() string {
	commit := i.Commit
	if i.Modified {
		commit += "+dirty"
	}
	return fmt.Sprintf("arbiter %s (commit %s, %s)", i.Version, commit, i.GoVersion)
}
