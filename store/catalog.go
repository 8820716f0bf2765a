package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"

	"gopkg.in/yaml.v3"

	"arbiter/engine/lang"
	"arbiter/internal/strictyaml"
)

// Catalog is the validated set of fact tables and the providers that read them.
type Catalog struct {
	tables    map[string]*table
	providers map[string]*provider
	names     []string // sorted table names
	digest    string
}

// Provider is a named lookup of rows of one table by equality on columns.
type Provider struct {
	Name    string
	Table   string
	By      []string
	OrderBy []string
	One     bool
}

type table struct {
	name    string
	file    string
	line    int
	pk      []string
	columns []*column // declaration order
	byName  map[string]*column
}

type column struct {
	name       string
	typ        colType
	def        any
	hasDefault bool
	required   bool // NOT NULL in PostgreSQL without a default (see ddl.go)
}

type provider struct {
	Provider
	table   *table
	by      []*column
	orderBy []*column // order_by then the primary key columns not already listed
	file    string
	line    int
}

var identPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// LoadCatalog reads every *.yaml at the root of fsys; all problems are reported at once, each with file:line.
func LoadCatalog(fsys fs.FS) (*Catalog, error) {
	files, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("no catalog files (*.yaml) found")
	}
	sort.Strings(files)
	c := &Catalog{tables: map[string]*table{}, providers: map[string]*provider{}}
	var ps problems
	var decls []providerDecl
	h := sha256.New()
	for _, file := range files {
		raw, err := fs.ReadFile(fsys, file)
		if err != nil {
			ps.add(file, 0, "cannot read: %v", err)
			continue
		}
		fmt.Fprintf(h, "%s\x00%d\x00", file, len(raw))
		h.Write(raw)
		decls = append(decls, c.parseFile(file, raw, &ps)...)
	}
	for _, d := range decls {
		c.addProvider(d, &ps)
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	for name := range c.tables {
		c.names = append(c.names, name)
	}
	sort.Strings(c.names)
	c.digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return c, nil
}

// Digest identifies the catalog files the catalog was read from.
func (c *Catalog) Digest() string { return c.digest }

// Provider returns the provider called name.
func (c *Catalog) Provider(name string) (Provider, bool) {
	p, ok := c.providers[name]
	if !ok {
		return Provider{}, false
	}
	out := p.Provider
	out.By = slices.Clone(p.By)
	out.OrderBy = slices.Clone(p.OrderBy)
	return out, true
}

// Tables returns the names of the declared tables, sorted.
func (c *Catalog) Tables() []string { return slices.Clone(c.names) }

type providerDecl struct {
	name, file string
	line       int
	node       *yaml.Node
}

func (c *Catalog) parseFile(file string, raw []byte, ps *problems) []providerDecl {
	doc, err := strictyaml.Load(raw)
	if err != nil {
		ps.list = append(ps.list, yamlError(file, err))
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil // an empty file declares nothing
	}
	root := resolveAlias(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		ps.add(file, root.Line, "expected a mapping with tables and providers")
		return nil
	}
	var decls []providerDecl
	for _, kv := range pairs(root) {
		switch kv.key.Value {
		case "tables":
			if !expectMapping(file, kv.value, "tables", ps) {
				continue
			}
			for _, t := range pairs(kv.value) {
				c.parseTable(file, t.key, t.value, ps)
			}
		case "providers":
			if !expectMapping(file, kv.value, "providers", ps) {
				continue
			}
			for _, p := range pairs(kv.value) {
				decls = append(decls, providerDecl{name: p.key.Value, file: file, line: p.key.Line, node: p.value})
			}
		default:
			ps.add(file, kv.key.Line, "unknown field %q (expected tables, providers)", kv.key.Value)
		}
	}
	return decls
}

func (c *Catalog) parseTable(file string, key, n *yaml.Node, ps *problems) {
	name := key.Value
	if !identPattern.MatchString(name) {
		ps.add(file, key.Line, "table %q: names are lower-case identifiers", name)
	}
	if prev, ok := c.tables[name]; ok {
		ps.add(file, key.Line, "table %s is already declared at %s:%d", name, prev.file, prev.line)
		return
	}
	t := &table{name: name, file: file, line: key.Line, byName: map[string]*column{}}
	if !expectMapping(file, n, "table "+name, ps) {
		return
	}
	var pkNode *yaml.Node
	sawColumns := false
	for _, kv := range pairs(n) {
		switch kv.key.Value {
		case "primary_key":
			pkNode = kv.value
			t.pk = stringList(file, kv.value, "table "+name+": primary_key", ps)
		case "columns":
			sawColumns = true
			if !expectMapping(file, kv.value, "table "+name+": columns", ps) {
				continue
			}
			for _, col := range pairs(kv.value) {
				if cl := parseColumn(file, name, col.key, col.value, ps); cl != nil {
					if _, dup := t.byName[cl.name]; dup {
						ps.add(file, col.key.Line, "table %s: column %s is declared twice", name, cl.name)
						continue
					}
					t.columns = append(t.columns, cl)
					t.byName[cl.name] = cl
				}
			}
		default:
			ps.add(file, kv.key.Line, "table %s: unknown field %q (expected primary_key, columns)", name, kv.key.Value)
		}
	}
	if !sawColumns || len(t.columns) == 0 {
		ps.add(file, key.Line, "table %s: columns are required", name)
	}
	if len(t.pk) == 0 {
		line := key.Line
		if pkNode != nil {
			line = pkNode.Line
		}
		ps.add(file, line, "table %s: primary_key is required", name)
	}
	pkSeen := map[string]bool{}
	for _, col := range t.pk {
		cl, ok := t.byName[col]
		switch {
		case pkSeen[col]:
			ps.add(file, pkNode.Line, "table %s: primary_key lists column %s twice", name, col)
		case !ok:
			ps.add(file, pkNode.Line, "table %s: primary_key column %s is not declared", name, col)
		case !cl.typ.keyable():
			ps.add(file, pkNode.Line, "table %s: primary_key column %s is %s, which cannot be a key", name, col, cl.typ)
		}
		pkSeen[col] = true
	}
	c.tables[name] = t
}

func parseColumn(file, tableName string, key, n *yaml.Node, ps *problems) *column {
	where := "table " + tableName + ": column " + key.Value
	if !identPattern.MatchString(key.Value) {
		ps.add(file, key.Line, "%s: names are lower-case identifiers", where)
	}
	if !expectMapping(file, n, where, ps) {
		return nil
	}
	cl := &column{name: key.Value}
	var defNode *yaml.Node
	for _, kv := range pairs(n) {
		switch kv.key.Value {
		case "type":
			t, ok := typeNames[kv.value.Value]
			if !ok || kv.value.Kind != yaml.ScalarNode {
				ps.add(file, kv.value.Line, "%s: unknown type %q (expected text, int, bool, decimal, date, timestamp, text[], json)", where, kv.value.Value)
				continue
			}
			cl.typ = t
		case "default":
			defNode = kv.value
		case "required":
			cl.required = parseRequired(file, where, kv.value, ps)
		default:
			ps.add(file, kv.key.Line, "%s: unknown field %q (expected type, default, required)", where, kv.key.Value)
		}
	}
	if cl.typ == 0 {
		if !hasKey(n, "type") {
			ps.add(file, n.Line, "%s: type is required", where)
		}
		return nil
	}
	if defNode != nil {
		v, err := cl.typ.fromNode(defNode)
		if err != nil {
			ps.add(file, defNode.Line, "%s: default: %v", where, err)
		} else {
			cl.def, cl.hasDefault = v, v != nil
		}
	}
	return cl
}

func (c *Catalog) addProvider(d providerDecl, ps *problems) {
	where := "provider " + d.name
	if prev, ok := c.providers[d.name]; ok {
		ps.add(d.file, d.line, "provider %s is already declared at %s:%d", d.name, prev.file, prev.line)
		return
	}
	if !expectMapping(d.file, d.node, where, ps) {
		return
	}
	p := &provider{Provider: Provider{Name: d.name}, file: d.file, line: d.line}
	var byNode, orderNode, tableNode *yaml.Node
	sawBy := false
	for _, kv := range pairs(d.node) {
		switch kv.key.Value {
		case "table":
			tableNode = kv.value
			p.Table = kv.value.Value
		case "by":
			byNode, sawBy = kv.value, true
			p.By = stringList(d.file, kv.value, where+": by", ps)
		case "order_by":
			orderNode = kv.value
			p.OrderBy = stringList(d.file, kv.value, where+": order_by", ps)
		case "one":
			if kv.value.Kind != yaml.ScalarNode || kv.value.ShortTag() != "!!bool" {
				ps.add(d.file, kv.value.Line, "%s: one must be true or false", where)
				continue
			}
			p.One = kv.value.Value == "true"
		default:
			ps.add(d.file, kv.key.Line, "%s: unknown field %q (expected table, by, order_by, one)", where, kv.key.Value)
		}
	}
	if tableNode == nil {
		ps.add(d.file, d.line, "%s: table is required", where)
		return
	}
	if !sawBy {
		ps.add(d.file, d.line, "%s: by is required (the columns a lookup gives)", where)
	}
	t, ok := c.tables[p.Table]
	if !ok {
		ps.add(d.file, tableNode.Line, "%s: unknown table %q", where, p.Table)
		return
	}
	p.table = t
	seen := map[string]bool{}
	for _, name := range p.By {
		cl, ok := t.byName[name]
		switch {
		case !ok:
			ps.add(d.file, byNode.Line, "%s: by: table %s has no column %q", where, t.name, name)
		case !cl.typ.keyable():
			ps.add(d.file, byNode.Line, "%s: by: column %s is %s, which cannot be looked up by equality", where, name, cl.typ)
		case seen[name]:
			ps.add(d.file, byNode.Line, "%s: by: column %s is listed twice", where, name)
		default:
			p.by = append(p.by, cl)
		}
		seen[name] = true
	}
	seen = map[string]bool{}
	for _, name := range p.OrderBy {
		cl, ok := t.byName[name]
		switch {
		case !ok:
			ps.add(d.file, orderNode.Line, "%s: order_by: table %s has no column %q", where, t.name, name)
		case !cl.typ.keyable():
			ps.add(d.file, orderNode.Line, "%s: order_by: column %s is %s, which has no order", where, name, cl.typ)
		case !seen[name]:
			p.orderBy = append(p.orderBy, cl)
		}
		seen[name] = true
	}
	for _, name := range t.pk {
		if cl, ok := t.byName[name]; ok && !seen[name] {
			p.orderBy = append(p.orderBy, cl)
			seen[name] = true
		}
	}
	c.providers[d.name] = p
}

// problems collects load errors, each rendered as file:line: message.
type problems struct{ list []error }

type fileError struct {
	file string
	line int
	msg  string
}

func (e *fileError) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.msg)
	}
	return fmt.Sprintf("%s: %s", e.file, e.msg)
}

func (p *problems) add(file string, line int, format string, args ...any) {
	p.list = append(p.list, &fileError{file: file, line: line, msg: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return errors.Join(p.list...)
}

type pair struct{ key, value *yaml.Node }

func pairs(n *yaml.Node) []pair {
	n = resolveAlias(n)
	out := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, pair{resolveAlias(n.Content[i]), resolveAlias(n.Content[i+1])})
	}
	return out
}

func hasKey(n *yaml.Node, key string) bool {
	for _, kv := range pairs(n) {
		if kv.key.Value == key {
			return true
		}
	}
	return false
}

func expectMapping(file string, n *yaml.Node, where string, ps *problems) bool {
	if n.Kind != yaml.MappingNode {
		ps.add(file, n.Line, "%s: expected a mapping, got %s", where, describeNode(n))
		return false
	}
	return true
}

func stringList(file string, n *yaml.Node, where string, ps *problems) []string {
	if n.Kind != yaml.SequenceNode {
		ps.add(file, n.Line, "%s: expected a list of column names, got %s", where, describeNode(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, e := range n.Content {
		e = resolveAlias(e)
		if e.Kind != yaml.ScalarNode || e.ShortTag() != "!!str" {
			ps.add(file, e.Line, "%s: expected a column name, got %s", where, describeNode(e))
			continue
		}
		out = append(out, e.Value)
	}
	return out
}

// yamlError renders a strictyaml error as file:line: a syntax error is "invalid YAML", a breach of the
// budget "over budget".
func yamlError(file string, err error) error {
	var ye *strictyaml.Error
	if !errors.As(err, &ye) {
		return &fileError{file: file, msg: "invalid YAML: " + err.Error()}
	}
	if ye.Code == lang.ProblemBudget {
		return &fileError{file: file, line: ye.Line, msg: "over budget: " + ye.Msg}
	}
	return &fileError{file: file, line: ye.Line, msg: "invalid YAML: " + ye.Msg}
}
