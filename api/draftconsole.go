package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"gopkg.in/yaml.v3"

	"arbiter/engine"
	"arbiter/revision"
)

// The routes the console's draft pages use besides the file-level ones: list drafts, add a version
// (closing the previous window), read and write a rule table of a draft as JSON, and line diffs.
func (s *server) draftTableRoutes(r chi.Router) {
	r.Get("/drafts", s.listDrafts)
	r.Post("/drafts/{id}/versions", s.newDraftVersion)
	r.Get("/drafts/{id}/tables/{table}", s.getDraftTable)
	r.Put("/drafts/{id}/tables/{table}/versions/{version}", s.putDraftTableVersion)
	r.Get("/drafts/{id}/diff", s.draftDiff)
	r.Get("/drafts/{id}/files/*", s.getDraftFile)
}

// getDraftFile returns one file of the draft's tree as text, with whether the draft adds or changes it.
func (s *server) getDraftFile(w http.ResponseWriter, r *http.Request) {
	p := chi.URLParam(r, "*")
	if err := revision.CheckPath(p); err != nil {
		writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, err.Error()))
		return
	}
	d, err := s.cfg.Revisions.GetDraft(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	tree, base, err := s.cfg.Revisions.DraftTree(r.Context(), d)
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	content, ok := tree[p]
	if !ok {
		writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, p+" is not in the draft"))
		return
	}
	status := "unchanged"
	if old, ok := base[p]; !ok {
		status = "added"
	} else if !bytes.Equal(old, content) {
		status = "changed"
	}
	writeJSON(w, http.StatusOK, map[string]any{"path": p, "content": string(content), "status": status})
}

func (s *server) listDrafts(w http.ResponseWriter, r *http.Request) {
	ds, err := s.cfg.Revisions.ListDrafts(r.Context(), 100)
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"drafts": ds})
}

// callerName is who a console action is recorded as when the body names no author.
func callerName(r *http.Request) string {
	if c := callerOf(r); c != nil {
		if c.Name != "" {
			return c.Name
		}
		return c.ID
	}
	return ""
}

// newDraftVersion adds a version of a rule table or decision to the draft: a copy of the latest one
// with an open window from valid_from, the previous version's window closed there.
func (s *server) newDraftVersion(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Target    string `json:"target"` // rules/<domain>/<table> or policies/<domain>/<decision>
		Table     string `json:"table"`  // or a table id, <domain>.<table>
		Version   string `json:"version"`
		ValidFrom string `json:"valid_from"`
		ValidTo   string `json:"valid_to"` // optional: the new version's window end (default open)
	}
	if !decodeBody(w, r, s.cfg.MaxBodyBytes, &body) {
		return
	}
	var bad []engine.FieldError
	target := body.Target
	if target == "" && body.Table != "" {
		target = tableDir(body.Table)
		if target == "" {
			bad = append(bad, engine.FieldError{Field: "table", Message: "must be <domain>.<table>"})
		}
	}
	if target == "" && body.Table == "" {
		bad = append(bad, engine.FieldError{Field: "target", Message: "is required (rules/<domain>/<table> or policies/<domain>/<decision>), or table"})
	}
	if !versionName.MatchString(body.Version) {
		bad = append(bad, engine.FieldError{Field: "version", Message: "must be a version name such as 2026 or 2026.1"})
	}
	from, err := time.Parse(time.RFC3339, body.ValidFrom)
	if err != nil {
		bad = append(bad, engine.FieldError{Field: "valid_from", Message: "must be an RFC 3339 instant with an offset, such as 2026-01-01T00:00:00+08:00"})
	}
	if body.ValidTo != "" {
		if to, err := time.Parse(time.RFC3339, body.ValidTo); err != nil || !to.After(from) {
			bad = append(bad, engine.FieldError{Field: "valid_to", Message: "must be an RFC 3339 instant with an offset after valid_from, or empty for an open window"})
		}
	}
	if len(bad) > 0 {
		writeProblem(w, r, problem(http.StatusUnprocessableEntity, codeInvalidRequest, "the new version needs a target, a version name and valid_from", bad...))
		return
	}
	id := chi.URLParam(r, "id")
	_, tree, ok := s.draftTree(w, r, id)
	if !ok {
		return
	}
	written, err := revision.NewVersion(tree, target, body.Version, from)
	if err != nil {
		writeProblem(w, r, problem(http.StatusUnprocessableEntity, codeInvalidRequest, err.Error(),
			engine.FieldError{Field: "version", Message: err.Error()}))
		return
	}
	if body.ValidTo != "" {
		file := path.Join(path.Clean(target), body.Version+".yaml")
		if strings.HasPrefix(path.Clean(target), "policies/") {
			file = path.Join(path.Clean(target), body.Version, "manifest.yaml")
		}
		if loc := validFromYAML.FindIndex(tree[file]); loc != nil {
			c := tree[file]
			tree[file] = append(append(append([]byte{}, c[:loc[1]]...), []byte("\nvalid_to: "+body.ValidTo)...), c[loc[1]:]...)
		}
	}
	for _, p := range written {
		if err := s.cfg.Revisions.PutDraftFile(r.Context(), id, p, tree[p]); err != nil {
			writeRevisionError(w, r, err)
			return
		}
	}
	s.writeDraft(w, r, id, http.StatusOK)
}

var validFromYAML = regexp.MustCompile(`(?m)^valid_from:.*$`)

var versionName = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$`)

// tableDir is the folder of table id <domain>.<table>, or "" when id is not one.
func tableDir(id string) string {
	domain, name, ok := strings.Cut(id, ".")
	if !ok || !versionName.MatchString(domain) || !versionName.MatchString(name) || strings.Contains(name, ".") {
		return ""
	}
	return path.Join("rules", domain, name)
}

// tableVersionView is one version file of a rule table in a draft, read as JSON.
type tableVersionView struct {
	Version     string `json:"version"`
	File        string `json:"file"`
	ValidFrom   string `json:"valid_from,omitempty"`
	ValidTo     string `json:"valid_to,omitempty"`
	Description string `json:"description,omitempty"`
	Data        any    `json:"data"`
	// Status is "added" (new in the draft: editable), "changed" (a published version edited: publishing
	// would be refused) or "published".
	Status string `json:"status"`
	Error  string `json:"error,omitempty"` // the file does not read as a table version
}

// getDraftTable returns a rule table of the draft's tree: its schema and every version with its data.
func (s *server) getDraftTable(w http.ResponseWriter, r *http.Request) {
	id, table := chi.URLParam(r, "id"), chi.URLParam(r, "table")
	dir := tableDir(table)
	if dir == "" {
		writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, "no rule table "+table))
		return
	}
	d, err := s.cfg.Revisions.GetDraft(r.Context(), id)
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	tree, base, err := s.cfg.Revisions.DraftTree(r.Context(), d)
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	schemaFile := path.Join(dir, "schema.yaml")
	raw, ok := tree[schemaFile]
	if !ok {
		writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, "no rule table "+table+" in the draft"))
		return
	}
	var schema any = map[string]any{}
	schemaErr := ""
	var sn yaml.Node
	if err := yaml.Unmarshal(raw, &sn); err != nil {
		schemaErr = err.Error()
	} else if js, err := orderedJSON(&sn); err != nil {
		schemaErr = err.Error()
	} else {
		schema = js
	}
	versions := []tableVersionView{}
	for _, p := range tree.Paths() {
		if path.Dir(p) != dir || p == schemaFile || !strings.HasSuffix(p, ".yaml") {
			continue
		}
		v := tableVersionView{Version: strings.TrimSuffix(path.Base(p), ".yaml"), File: p, Status: "published"}
		if old, ok := base[p]; !ok {
			v.Status = "added"
		} else if !bytes.Equal(old, tree[p]) {
			v.Status = "changed"
		}
		var f struct {
			Version     string    `yaml:"version"`
			ValidFrom   string    `yaml:"valid_from"`
			ValidTo     string    `yaml:"valid_to"`
			Description string    `yaml:"description"`
			Data        yaml.Node `yaml:"data"`
		}
		if err := yaml.Unmarshal(tree[p], &f); err != nil {
			v.Error = err.Error()
		} else if data, err := orderedJSON(&f.Data); err != nil {
			v.Error = err.Error()
		} else {
			v.ValidFrom, v.ValidTo, v.Description, v.Data = f.ValidFrom, f.ValidTo, f.Description, data
		}
		versions = append(versions, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"table": table, "dir": dir, "schema": schema, "schema_error": schemaErr,
		"versions": versions, "draft": d.ID, "base": d.Base, "published": d.Published})
}

// orderedJSON writes a YAML node as JSON keeping the order of mapping keys (a table's columns and
// settings read in the order the file and the schema write them).
func orderedJSON(n *yaml.Node) (json.RawMessage, error) {
	var b bytes.Buffer
	if err := writeJSONNode(&b, n); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeJSONNode(b *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case 0:
		b.WriteString("null")
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			b.WriteString("null")
			return nil
		}
		return writeJSONNode(b, n.Content[0])
	case yaml.AliasNode:
		return writeJSONNode(b, n.Alias)
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(n.Content[i].Value)
			b.Write(k)
			b.WriteByte(':')
			if err := writeJSONNode(b, n.Content[i+1]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSONNode(b, c); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		var v any
		switch n.ShortTag() {
		case "!!str", "!!timestamp", "!!binary":
			v = n.Value
		default:
			if err := n.Decode(&v); err != nil {
				return fmt.Errorf("line %d: %w", n.Line, err)
			}
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		b.Write(raw)
	}
	return nil
}

// putDraftTableVersion replaces the data (and optionally the description) of a version the draft
// adds, keeping the rest of the file as written; the answer is the draft with its validation.
func (s *server) putDraftTableVersion(w http.ResponseWriter, r *http.Request) {
	id, table, version := chi.URLParam(r, "id"), chi.URLParam(r, "table"), chi.URLParam(r, "version")
	var body struct {
		Data        json.RawMessage `json:"data"`
		Description *string         `json:"description"`
	}
	if !decodeBody(w, r, s.cfg.MaxBodyBytes, &body) {
		return
	}
	if len(bytes.TrimSpace(body.Data)) == 0 || bytes.Equal(bytes.TrimSpace(body.Data), []byte("null")) {
		writeProblem(w, r, problem(http.StatusUnprocessableEntity, codeInvalidRequest, "data is required",
			engine.FieldError{Field: "data", Message: "is required"}))
		return
	}
	dir := tableDir(table)
	if dir == "" || !versionName.MatchString(version) {
		writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, "no rule table version "+table+" "+version))
		return
	}
	d, err := s.cfg.Revisions.GetDraft(r.Context(), id)
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	tree, base, err := s.cfg.Revisions.DraftTree(r.Context(), d)
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	file := path.Join(dir, version+".yaml")
	content, ok := tree[file]
	if !ok {
		writeProblem(w, r, problem(http.StatusNotFound, codeNotFound, file+" is not in the draft: add the version first"))
		return
	}
	if _, published := base[file]; published {
		writeProblem(w, r, problem(http.StatusConflict, codeConflict, file+" is a published version, which never changes: add a new version instead"))
		return
	}
	out, err := replaceData(content, body.Data, body.Description)
	if err != nil {
		writeProblem(w, r, problem(http.StatusUnprocessableEntity, codeInvalidRequest, err.Error(),
			engine.FieldError{Field: "data", Message: err.Error()}))
		return
	}
	if err := s.cfg.Revisions.PutDraftFile(r.Context(), id, file, out); err != nil {
		writeRevisionError(w, r, err)
		return
	}
	s.writeDraft(w, r, id, http.StatusOK)
}

var (
	dataLine        = regexp.MustCompile(`(?m)^data:.*$`)
	topLevelLine    = regexp.MustCompile(`(?m)^[^\s#]`)
	descriptionLine = regexp.MustCompile(`(?m)^description:.*(\n[ \t]+\S.*)*$`)
)

// replaceData writes data (JSON) as the data block of a table version file, keeping every other line
// (table, version, window, comments) as written; description, when given, replaces that line.
func replaceData(content []byte, data json.RawMessage, description *string) ([]byte, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil || len(n.Content) != 1 {
		return nil, fmt.Errorf("data is not a JSON value: %v", err)
	}
	node := n.Content[0]
	if node.Kind != yaml.MappingNode {
		return nil, errors.New("data must be an object")
	}
	plain(node)
	for i := 1; i < len(node.Content); i += 2 {
		compact(node.Content[i])
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: "data"}, node}}
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	block := bytes.TrimRight(buf.Bytes(), "\n")

	loc := dataLine.FindIndex(content)
	var out []byte
	if loc == nil {
		out = append(bytes.TrimRight(bytes.Clone(content), "\n"), '\n')
		out = append(out, block...)
		out = append(out, '\n')
	} else {
		rest := content[loc[1]:]
		end := len(rest)
		if next := topLevelLine.FindIndex(rest); next != nil {
			end = next[0]
		}
		out = append(out, content[:loc[0]]...)
		out = append(out, block...)
		out = append(out, '\n')
		out = append(out, rest[end:]...)
	}
	if description != nil {
		line, err := yaml.Marshal(map[string]string{"description": strings.TrimSpace(*description)})
		if err != nil {
			return nil, err
		}
		line = bytes.TrimRight(line, "\n")
		if descriptionLine.Match(out) {
			out = descriptionLine.ReplaceAllLiteral(out, line)
		} else if loc := dataLine.FindIndex(out); loc != nil {
			out = append(out[:loc[0]:loc[0]], append(append(line, '\n'), out[loc[0]:]...)...)
		}
	}
	return out, nil
}

// plain drops the JSON quoting and flow style: strings are quoted only where YAML would read them as
// something else ("0.04", "true"), as the table files write them.
func plain(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		plain(c)
	}
}

// compact writes rows and small objects on one line, as the table files do: the items of a list, a
// list of plain values, and an object of plain values.
func compact(n *yaml.Node) {
	switch n.Kind {
	case yaml.SequenceNode:
		scalars := true
		for _, c := range n.Content {
			if c.Kind == yaml.ScalarNode {
				continue
			}
			scalars = false
			flowStyle(c)
		}
		if scalars {
			n.Style = yaml.FlowStyle
		}
	case yaml.MappingNode:
		small := true
		for i := 1; i < len(n.Content); i += 2 {
			if c := n.Content[i]; c.Kind != yaml.ScalarNode && !(c.Kind == yaml.SequenceNode && allScalars(c)) {
				small = false
			}
		}
		if small {
			flowStyle(n)
			return
		}
		for i := 1; i < len(n.Content); i += 2 {
			compact(n.Content[i])
		}
	}
}

func allScalars(n *yaml.Node) bool {
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			return false
		}
	}
	return true
}

// fileDiff is one file's change with its lines.
type fileDiff struct {
	Path   string              `json:"path"`
	Status string              `json:"status"` // added, changed, removed
	Lines  []revision.DiffLine `json:"lines,omitempty"`
	// Omitted is set when the lines were left out (a diff of many files shows the first ones).
	Omitted bool `json:"omitted,omitempty"`
}

// maxDiffFiles bounds the files a diff shows line by line (the first revision adds every file).
const maxDiffFiles = 40

func diffFiles(from, to revision.Tree) []fileDiff {
	d := revision.DiffTrees(from, to)
	out := []fileDiff{}
	add := func(p, status string, a, b []byte) {
		f := fileDiff{Path: p, Status: status}
		if len(out) < maxDiffFiles {
			f.Lines = revision.LineDiff(a, b, 3)
		} else {
			f.Omitted = true
		}
		out = append(out, f)
	}
	for _, p := range d.Changed {
		add(p, "changed", from[p], to[p])
	}
	for _, p := range d.Added {
		add(p, "added", nil, to[p])
	}
	for _, p := range d.Removed {
		add(p, "removed", from[p], nil)
	}
	return out
}

func (s *server) draftDiff(w http.ResponseWriter, r *http.Request) {
	d, err := s.cfg.Revisions.GetDraft(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	tree, base, err := s.cfg.Revisions.DraftTree(r.Context(), d)
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"base": d.Base, "files": diffFiles(base, tree)})
}

func (s *server) revisionDiff(w http.ResponseWriter, r *http.Request) {
	rev, err := s.cfg.Revisions.Resolve(r.Context(), chi.URLParam(r, "rev"))
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	tree, err := s.cfg.Revisions.Tree(r.Context(), rev.Seq)
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	var parent revision.Tree
	if rev.Parent != 0 {
		if parent, err = s.cfg.Revisions.Tree(r.Context(), rev.Parent); err != nil {
			writeRevisionError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"seq": rev.Seq, "parent": rev.Parent, "files": diffFiles(parent, tree)})
}

// rollbackRevision publishes the tree of an earlier revision again as the latest.
func (s *server) rollbackRevision(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Message string `json:"message"`
		Author  string `json:"author"`
	}
	if !decodeBody(w, r, s.cfg.MaxBodyBytes, &body) {
		return
	}
	rev, err := s.cfg.Revisions.Resolve(r.Context(), chi.URLParam(r, "rev"))
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	if body.Author == "" {
		body.Author = callerName(r)
	}
	out, err := s.cfg.Revisions.Rollback(r.Context(), rev.Seq, revision.Meta{Author: body.Author, Message: strings.TrimSpace(body.Message)})
	if err != nil {
		writeRevisionError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}
