package store

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"arbiter/internal/strictyaml"
)

// Rows are canonical rows by table: every declared column present, defaults applied.
type Rows map[string][]map[string]any

// Merge appends other's rows to r, table by table.
func (r Rows) Merge(other Rows) {
	for t, rs := range other {
		r[t] = append(r[t], rs...)
	}
}

// ParseRows reads rows by table from a YAML document, checked against the catalog; every problem is
// reported at once as filename:line.
func ParseRows(c *Catalog, filename string, data []byte) (Rows, error) {
	rows, _, err := parseRows(c, filename, data)
	return rows, err
}

func parseRows(c *Catalog, filename string, data []byte) (Rows, rowLines, error) {
	n, err := strictyaml.Load(data)
	if err != nil {
		return nil, nil, yamlError(filename, err)
	}
	return parseRowsNode(c, filename, n)
}

// rowLines are the lines rows start at, by table, in the order of Rows.
type rowLines map[string][]int

// ParseRowsNode reads rows by table from a YAML document or mapping node (a test case's given); a
// primary key given twice is an error.
func ParseRowsNode(c *Catalog, filename string, n *yaml.Node) (Rows, error) {
	rows, _, err := parseRowsNode(c, filename, n)
	return rows, err
}

func parseRowsNode(c *Catalog, filename string, n *yaml.Node) (Rows, rowLines, error) {
	out, lines := Rows{}, rowLines{}
	if n == nil || n.Kind == 0 {
		return out, lines, nil
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return out, lines, nil
		}
		n = n.Content[0]
	}
	n = resolveAlias(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return out, lines, nil
	}
	var ps problems
	if n.Kind != yaml.MappingNode {
		ps.add(filename, n.Line, "rows must be a mapping of table names to lists of rows, got %s", describeNode(n))
		return nil, nil, ps.err()
	}
	given := map[string]pair{} // a test case may merge (<<) another case's tables and override some
	if err := collectRow(n, given); err != nil {
		ps.add(filename, err.line, "%s", err.msg)
		return nil, nil, ps.err()
	}
	names := make([]string, 0, len(given))
	for name := range given {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		return given[names[i]].key.Line < given[names[j]].key.Line || (given[names[i]].key.Line == given[names[j]].key.Line && names[i] < names[j])
	})
	for _, name := range names {
		kv := given[name]
		t, ok := c.tables[kv.key.Value]
		if !ok {
			ps.add(filename, kv.key.Line, "unknown table %q", kv.key.Value)
			continue
		}
		if kv.value.Kind == yaml.ScalarNode && kv.value.ShortTag() == "!!null" {
			if _, seen := out[t.name]; !seen {
				out[t.name] = []map[string]any{}
			}
			continue
		}
		if kv.value.Kind != yaml.SequenceNode {
			ps.add(filename, kv.value.Line, "table %s: expected a list of rows, got %s", t.name, describeNode(kv.value))
			continue
		}
		at := map[string]int{} // primary key -> line
		for _, rn := range kv.value.Content {
			rn = resolveAlias(rn)
			row := t.parseRow(filename, rn, &ps)
			if row == nil {
				continue
			}
			k := t.pkString(row)
			if prev, dup := at[k]; dup {
				ps.add(filename, rn.Line, "table %s: primary key %s is already given at line %d", t.name, t.pkLabel(row), prev)
				continue
			}
			at[k] = rn.Line
			out[t.name] = append(out[t.name], row)
			lines[t.name] = append(lines[t.name], rn.Line)
		}
		if _, seen := out[t.name]; !seen {
			out[t.name] = []map[string]any{}
		}
	}
	if err := ps.err(); err != nil {
		return nil, nil, err
	}
	return out, lines, nil
}

// parseRow converts one YAML row; nil when it has problems (already recorded).
func (t *table) parseRow(file string, rn *yaml.Node, ps *problems) map[string]any {
	if rn.Kind != yaml.MappingNode {
		ps.add(file, rn.Line, "table %s: a row must be a mapping, got %s", t.name, describeNode(rn))
		return nil
	}
	before := len(ps.list)
	given := map[string]pair{}
	if err := collectRow(rn, given); err != nil {
		ps.add(file, err.line, "table %s: %s", t.name, err.msg)
		return nil
	}
	cols := make([]pair, 0, len(given))
	for _, kv := range given {
		cols = append(cols, kv)
	}
	sort.Slice(cols, func(i, j int) bool { // problems in the order they appear
		a, b := cols[i].key, cols[j].key
		return a.Line < b.Line || (a.Line == b.Line && (a.Column < b.Column || (a.Column == b.Column && a.Value < b.Value)))
	})
	row := make(map[string]any, len(t.columns))
	for _, kv := range cols {
		name := kv.key.Value
		cl, ok := t.byName[name]
		if !ok {
			ps.add(file, kv.key.Line, "table %s has no column %q", t.name, name)
			continue
		}
		v, err := cl.typ.fromNode(kv.value)
		if err != nil {
			ps.add(file, kv.value.Line, "%s.%s: %v", t.name, name, err)
			row[name] = errBadValue
			continue
		}
		row[name] = v
	}
	t.fillDefaults(row)
	for _, pk := range t.pk {
		if row[pk] == nil {
			ps.add(file, rn.Line, "table %s: primary key column %s is required", t.name, pk)
		}
	}
	if len(ps.list) > before {
		return nil
	}
	return row
}

// errBadValue marks a column whose value was refused, so that it is not reported missing as well.
var errBadValue = errors.New("bad value")

// collectRow gathers the keys of a mapping (a row's columns, a document's tables), following YAML
// merge keys (<<: *base): own keys win, and of several bases the first. A key given twice, a merge of
// something other than mappings and a merge that refers to itself (YAML allows an anchor inside its
// own node) are errors.
func collectRow(n *yaml.Node, into map[string]pair) *nodeError {
	return (&merger{active: map[*yaml.Node]bool{}, done: map[*yaml.Node]map[string]pair{}}).collect(n, into)
}

// merger follows merges once per node: aliases can name one base many times over (a merge of ten
// merges of ten merges ...), which must not cost exponential time.
type merger struct {
	active map[*yaml.Node]bool // nodes being collected: meeting one again is a cycle
	done   map[*yaml.Node]map[string]pair
}

func (m *merger) collect(n *yaml.Node, into map[string]pair) *nodeError {
	if m.active[n] || len(m.active) > 64 {
		return &nodeError{line: n.Line, msg: "a merge (<<) refers to itself"}
	}
	m.active[n] = true
	defer delete(m.active, n)
	var merged []*yaml.Node
	for _, kv := range pairs(n) {
		if isMergeKey(kv.key) {
			merged = append(merged, kv.value)
			continue
		}
		if prev, dup := into[kv.key.Value]; dup {
			return &nodeError{line: kv.key.Line, msg: fmt.Sprintf("%q is given twice (first at line %d)", kv.key.Value, prev.key.Line)}
		}
		into[kv.key.Value] = kv
	}
	for _, value := range merged {
		bases, err := mergeBases(value)
		if err != nil {
			return err
		}
		for _, b := range bases {
			inherited, seen := m.done[b]
			if !seen {
				inherited = map[string]pair{}
				if err := m.collect(b, inherited); err != nil {
					return err
				}
				m.done[b] = inherited
			}
			for name, kv := range inherited {
				if _, set := into[name]; !set {
					into[name] = kv
				}
			}
		}
	}
	return nil
}

func (t *table) fillDefaults(row map[string]any) {
	for _, cl := range t.columns {
		if _, ok := row[cl.name]; !ok {
			row[cl.name] = cl.def
		}
	}
}

// LoadRowsDir reads and merges every *.yaml at the root of fsys; a primary key given twice (in one
// file or across files) is an error.
func LoadRowsDir(c *Catalog, fsys fs.FS) (Rows, error) {
	files, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	out := Rows{}
	origin := map[string]map[string]string{} // table -> primary key -> file:line
	var errs problems
	for _, f := range files {
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs.add(f, 0, "cannot read: %v", err)
			continue
		}
		rows, lines, err := parseRows(c, f, raw)
		if err != nil {
			errs.list = append(errs.list, err)
			continue
		}
		for _, name := range sortedTables(rows) {
			t := c.tables[name]
			if origin[name] == nil {
				origin[name] = map[string]string{}
			}
			for i, r := range rows[name] {
				k := t.pkString(r)
				if prev, dup := origin[name][k]; dup {
					errs.add(f, lines[name][i], "table %s: primary key %s is already given at %s", name, t.pkLabel(r), prev)
					continue
				}
				origin[name][k] = fmt.Sprintf("%s:%d", f, lines[name][i])
				out[name] = append(out[name], r)
			}
		}
		for name := range rows {
			if _, ok := out[name]; !ok {
				out[name] = []map[string]any{}
			}
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// canonicalRows checks rows built in code against the catalog and converts them to canonical rows
// (defaults applied); a primary key given twice is an error.
func canonicalRows(c *Catalog, rows Rows) (Rows, error) {
	out := make(Rows, len(rows))
	var errs []string
	for _, name := range sortedTables(rows) {
		t, ok := c.tables[name]
		if !ok {
			errs = append(errs, fmt.Sprintf("unknown table %q", name))
			continue
		}
		seen := make(map[string]bool, len(rows[name]))
		list := make([]map[string]any, 0, len(rows[name]))
		for i, r := range rows[name] {
			row := make(map[string]any, len(t.columns))
			bad := false
			for col, v := range r {
				cl, ok := t.byName[col]
				if !ok {
					errs = append(errs, fmt.Sprintf("%s row %d: no column %q", name, i, col))
					bad = true
					continue
				}
				cv, err := cl.typ.coerce(v)
				if err != nil {
					errs = append(errs, fmt.Sprintf("%s row %d: %s: %v", name, i, col, err))
					bad = true
					continue
				}
				row[col] = cv
			}
			if bad {
				continue
			}
			t.fillDefaults(row)
			missing := false
			for _, pk := range t.pk {
				if row[pk] == nil {
					errs = append(errs, fmt.Sprintf("%s row %d: primary key column %s is required", name, i, pk))
					missing = true
				}
			}
			if missing {
				continue
			}
			k := t.pkString(row)
			if seen[k] {
				errs = append(errs, fmt.Sprintf("%s: primary key %s is given twice", name, t.pkLabel(row)))
				continue
			}
			seen[k] = true
			list = append(list, row)
		}
		out[name] = list
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("facts: rows: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

func sortedTables(rows Rows) []string {
	names := make([]string, 0, len(rows))
	for name := range rows {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// pkString is the index key of a row's primary key.
func (t *table) pkString(r map[string]any) string {
	var buf []byte
	for i, pk := range t.pk {
		if i > 0 {
			buf = append(buf, 0)
		}
		buf = appendKey(buf, r[pk])
	}
	return string(buf)
}

// pkLabel renders a primary key for messages: (id=K1) or (decision_id=D1, key=coupon:K1).
func (t *table) pkLabel(r map[string]any) string {
	parts := make([]string, len(t.pk))
	for i, pk := range t.pk {
		parts[i] = fmt.Sprintf("%s=%v", pk, r[pk])
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
