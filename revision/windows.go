package revision

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"
)

var (
	validFromLine = regexp.MustCompile(`(?m)^valid_from:[ \t]*(\S.*?)[ \t]*$`)
	validToLine   = regexp.MustCompile(`(?m)^valid_to:[ \t]*\S.*\n?`)
	versionLine   = regexp.MustCompile(`(?m)^version:[ \t]*\S.*$`)
)

// windowed is one version file (a table version or a policy manifest) and its window start.
type windowed struct {
	file string
	from time.Time
	raw  string // valid_from as written
	open bool
}

// versionFiles groups the windowed files of t by table or decision: rules/<d>/<t>/<v>.yaml and
// policies/<d>/<decision>/<v>/manifest.yaml.
func versionFiles(t Tree) map[string][]windowed {
	groups := map[string][]windowed{}
	for _, p := range t.Paths() {
		parts := strings.Split(p, "/")
		var group string
		switch {
		case len(parts) == 4 && parts[0] == "rules" && parts[3] != "schema.yaml" && strings.HasSuffix(p, ".yaml"):
			group = path.Dir(p)
		case len(parts) == 5 && parts[0] == "policies" && parts[2] != "_lib" && parts[4] == "manifest.yaml":
			group = path.Join(parts[:3]...)
		default:
			continue
		}
		m := validFromLine.FindSubmatch(t[p])
		if m == nil {
			continue
		}
		raw := strings.Trim(string(m[1]), `"'`)
		from, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			continue
		}
		groups[group] = append(groups[group], windowed{file: p, from: from, raw: raw, open: !validToLine.Match(t[p])})
	}
	for _, g := range groups {
		sort.Slice(g, func(i, j int) bool { return g[i].from.Before(g[j].from) })
	}
	return groups
}

// CloseWindows sets valid_to on every open version that a later version of the same table or decision
// follows, to that version's valid_from; it edits t in place and returns the files it changed.
func CloseWindows(t Tree) []string {
	var changed []string
	for _, g := range versionFiles(t) {
		for i := 0; i+1 < len(g); i++ {
			if !g[i].open {
				continue
			}
			content := t[g[i].file]
			loc := validFromLine.FindIndex(content)
			var b bytes.Buffer
			b.Write(content[:loc[1]])
			fmt.Fprintf(&b, "\nvalid_to: %s", g[i+1].raw)
			b.Write(content[loc[1]:])
			t[g[i].file] = b.Bytes()
			changed = append(changed, g[i].file)
		}
	}
	sort.Strings(changed)
	return changed
}

// NewVersion adds to t a copy of the latest version of a rule table (rules/<d>/<t>) or a decision
// (policies/<d>/<decision>) as version, valid from from with an open window, and closes the window of
// the version before it. It returns the files written.
func NewVersion(t Tree, target, version string, from time.Time) ([]string, error) {
	target = strings.Trim(path.Clean(target), "/")
	g := versionFiles(t)[target]
	if len(g) == 0 {
		return nil, fmt.Errorf("%s: no versions found (want rules/<domain>/<table> or policies/<domain>/<decision>)", target)
	}
	latest := g[len(g)-1]
	if !from.After(latest.from) {
		return nil, fmt.Errorf("%s: valid_from %s must be after the latest version's %s", target, from.Format(time.RFC3339), latest.raw)
	}
	edit := func(content []byte) []byte {
		content = validToLine.ReplaceAll(content, nil)
		content = validFromLine.ReplaceAll(content, []byte("valid_from: "+from.Format(time.RFC3339)))
		return versionLine.ReplaceAll(content, []byte(fmt.Sprintf("version: %q", version)))
	}
	var written []string
	if strings.HasPrefix(target, "rules/") {
		file := path.Join(target, version+".yaml")
		if _, ok := t[file]; ok {
			return nil, fmt.Errorf("%s already exists", file)
		}
		t[file] = edit(t[latest.file])
		written = append(written, file)
	} else {
		oldDir, newDir := path.Dir(latest.file), path.Join(target, version)
		if _, ok := t[path.Join(newDir, "manifest.yaml")]; ok {
			return nil, fmt.Errorf("%s already exists", newDir)
		}
		for _, p := range t.Paths() {
			if rest, ok := strings.CutPrefix(p, oldDir+"/"); ok {
				c := t[p]
				if rest == "manifest.yaml" {
					c = edit(c)
				}
				t[path.Join(newDir, rest)] = c
				written = append(written, path.Join(newDir, rest))
			}
		}
	}
	written = append(written, CloseWindows(t)...)
	sort.Strings(written)
	return written, nil
}
