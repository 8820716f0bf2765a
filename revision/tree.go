// Package revision stores published policy trees in PostgreSQL: immutable, content-addressed revisions
// with their history, the rule that published versions never change, drafts on top of a revision, and
// the watcher that makes every replica serve the newest published revision.
package revision

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"sort"
	"strings"
	"testing/fstest"

	"gopkg.in/yaml.v3"

	"arbiter/engine"
)

// Roots are the folders of a policy tree that a revision holds; fixtures are not part of it.
var Roots = []string{"policies", "rules", "facts"}

// Tree is a policy tree: file contents by slash-separated path.
type Tree map[string][]byte

// Snapshot reads the served part of fsys (Roots), leaving out examples and drafts (engine.IsExample)
// and hidden files.
func Snapshot(fsys fs.FS) (Tree, error) {
	t := Tree{}
	for _, root := range Roots {
		err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == root && errors.Is(err, fs.ErrNotExist) {
					return fs.SkipDir
				}
				return err
			}
			if strings.HasPrefix(d.Name(), ".") && p != root {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if engine.IsExample(p) {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			raw, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			t[p] = raw
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("revision: read %s: %w", root, err)
		}
	}
	if len(t) == 0 {
		return nil, fmt.Errorf("revision: no files under %s", strings.Join(Roots, "/, "))
	}
	return t, nil
}

// BlobDigest is the content address of one file.
func BlobDigest(content []byte) string {
	sum := sha256.Sum256(content)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Digest is the content address of the tree: a digest over its sorted paths and their blob digests.
func (t Tree) Digest() string {
	h := sha256.New()
	for _, p := range t.Paths() {
		fmt.Fprintf(h, "%s\x00%s\n", p, BlobDigest(t[p]))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Paths returns the tree's paths in order.
func (t Tree) Paths() []string {
	out := make([]string, 0, len(t))
	for p := range t {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// FS serves the tree as a read-only file system.
func (t Tree) FS() fs.FS {
	m := make(fstest.MapFS, len(t))
	for p, c := range t {
		m[p] = &fstest.MapFile{Data: c, Mode: 0o644}
	}
	return m
}

// Clone returns a copy that shares the (never modified) contents.
func (t Tree) Clone() Tree {
	out := make(Tree, len(t))
	for p, c := range t {
		out[p] = c
	}
	return out
}

// Diff lists what changed from one tree to the next.
type Diff struct {
	Added   []string `json:"added"`
	Changed []string `json:"changed"`
	Removed []string `json:"removed"`
}

// Empty reports whether the trees were the same.
func (d Diff) Empty() bool { return len(d.Added)+len(d.Changed)+len(d.Removed) == 0 }

// DiffTrees compares from (nil: empty) with to.
func DiffTrees(from, to Tree) Diff {
	d := Diff{Added: []string{}, Changed: []string{}, Removed: []string{}}
	for _, p := range to.Paths() {
		old, ok := from[p]
		switch {
		case !ok:
			d.Added = append(d.Added, p)
		case !bytes.Equal(old, to[p]):
			d.Changed = append(d.Changed, p)
		}
	}
	for _, p := range from.Paths() {
		if _, ok := to[p]; !ok {
			d.Removed = append(d.Removed, p)
		}
	}
	return d
}

// VersionOf returns the published version a path belongs to, and false for a path outside any version
// (schemas, the fact catalog, shared files). A policy version is its folder
// policies/<domain>/<decision>/<version>/, a rule-table version its file rules/<domain>/<table>/<version>.yaml.
func VersionOf(p string) (string, bool) {
	parts := strings.Split(p, "/")
	switch {
	case len(parts) >= 5 && parts[0] == "policies":
		return path.Join(parts[:4]...), true
	case len(parts) == 4 && parts[0] == "rules" && parts[3] != "schema.yaml" && strings.HasSuffix(parts[3], ".yaml"):
		return p, true
	}
	return "", false
}

// immutableFile reports whether a file's content is fixed once its version is published: everything of
// a version except its tests.yaml, which may gain cases (cases describe, they do not decide).
func immutableFile(p string) bool {
	_, ok := VersionOf(p)
	return ok && path.Base(p) != "tests.yaml"
}

// windowKey is the one field an edit may add to a published manifest or table version: closing its
// open window.
const windowKey = "valid_to"

// sameExceptClosedWindow reports whether next equals published, except that next may set valid_to
// where published left the window open.
func sameExceptClosedWindow(published, next []byte) bool {
	if bytes.Equal(published, next) {
		return true
	}
	var a, b map[string]any
	if yaml.Unmarshal(published, &a) != nil || yaml.Unmarshal(next, &b) != nil || a == nil || b == nil {
		return false
	}
	if _, open := a[windowKey]; open {
		return false
	}
	delete(b, windowKey)
	return reflect.DeepEqual(a, b)
}

// ImmutabilityError names the published files a tree would change.
type ImmutabilityError struct {
	Files []string // path and why, one per entry
}

func (e *ImmutabilityError) Error() string {
	return "published versions are immutable (add a new version with its own window instead): " + strings.Join(e.Files, "; ")
}

// CheckImmutable refuses next when it changes a file of a version already published: published holds
// every content each path ever had in a revision (path -> blob digests). A removed version is allowed;
// a file added to, removed from or changed in a published version that stays is not, except for
// tests.yaml and for closing an open window (valid_to).
func CheckImmutable(published map[string][][]byte, next Tree) error {
	versions := map[string]bool{} // versions published before
	for p := range published {
		if v, ok := VersionOf(p); ok {
			versions[v] = true
		}
	}
	present := map[string]bool{}
	for p := range next {
		if v, ok := VersionOf(p); ok {
			present[v] = true
		}
	}
	var bad []string
	for _, p := range next.Paths() {
		if !immutableFile(p) {
			continue
		}
		v, _ := VersionOf(p)
		olds, seen := published[p]
		if !seen {
			if versions[v] && v != p {
				bad = append(bad, p+": added to published version "+v)
			}
			continue
		}
		ok := false
		for _, old := range olds {
			if sameExceptClosedWindow(old, next[p]) {
				ok = true
				break
			}
		}
		if !ok {
			bad = append(bad, p+": content differs from the published version")
		}
	}
	for p := range published {
		if !immutableFile(p) {
			continue
		}
		if v, _ := VersionOf(p); present[v] && next[p] == nil {
			bad = append(bad, p+": removed from published version "+v)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return &ImmutabilityError{Files: bad}
	}
	return nil
}
