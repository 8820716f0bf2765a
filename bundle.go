// Package arbiter holds the policy tree compiled into the binary: policies (with their _lib
// modules, hence all:), rule tables, the fact catalog and fixtures.
package arbiter

import (
	"embed"
	"io/fs"
)

//go:embed all:policies rules facts fixtures
var bundle embed.FS

// Bundle returns the embedded tree with policies/, rules/, facts/ and fixtures/ at its root.
func Bundle() fs.FS { return bundle }

// Fixtures returns the embedded fixtures/ tree (the in-memory default's facts).
func Fixtures() fs.FS {
	sub, err := fs.Sub(bundle, "fixtures")
	if err != nil {
		panic(err) // the embed directive guarantees the folder exists
	}
	return sub
}
