package facts

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Rows are canonical rows by table name.
type Rows map[string][]map[string]any

// Merge appends other's rows to r.
func (r Rows) Merge(other Rows) {
	for t, rs := range other {
		r[t] = append(r[t], rs...)
	}
}

// ParseRows reads rows by table from YAML, checked against the catalog.
func ParseRows(c *Catalog, filename string, data []byte) (Rows, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	if n.Kind == 0 {
		return Rows{}, nil
	}
	return ParseRowsNode(c, filename, &n)
}

// ParseRowsNode reads rows by table from a YAML mapping node, reporting every problem with its line.
func ParseRowsNode(c *Catalog, filename string, n *yaml.Node) (Rows, error) {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return Rows{}, nil
		}
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	var problems []string
	bad := func(line int, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s:%d: %s", filename, line, fmt.Sprintf(format, args...)))
	}
	out := Rows{}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: rows must be a mapping of table names to lists of rows", filename, n.Line)
	}
	tables := map[string]*yaml.Node{}
	collectRow(n, tables)
	names := make([]string, 0, len(tables))
	for name := range tables {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := tables[name]
		t, ok := c.tables[name]
		if !ok {
			bad(v.Line, "unknown table %q", name)
			continue
		}
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		if v.Kind != yaml.SequenceNode {
			bad(v.Line, "table %s: want a list of rows", t.Name)
			continue
		}
		for _, rn := range v.Content {
			if rn.Kind == yaml.AliasNode {
				rn = rn.Alias
			}
			if rn.Kind != yaml.MappingNode {
				bad(rn.Line, "table %s: a row must be a mapping", t.Name)
				continue
			}
			given := map[string]*yaml.Node{}
			collectRow(rn, given)
			row := make(map[string]any, len(t.Columns))
			for name, cn := range given {
				col, ok := t.Column(name)
				if !ok {
					bad(cn.Line, "table %s has no column %q", t.Name, name)
					continue
				}
				val, err := canonicalNode(col.Type, cn)
				if err != nil {
					bad(cn.Line, "%s.%s: %v", t.Name, name, err)
					continue
				}
				row[name] = val
			}
			for _, col := range t.Columns {
				if _, ok := row[col.Name]; !ok {
					row[col.Name] = col.Default
				}
			}
			for _, pk := range t.PrimaryKey {
				if row[pk] == nil {
					bad(rn.Line, "table %s: primary key column %s is required", t.Name, pk)
				}
			}
			out[t.Name] = append(out[t.Name], row)
		}
	}
	if len(problems) > 0 {
		return nil, &RowsError{Problems: problems}
	}
	return out, nil
}

// collectRow gathers a row's columns, following YAML merge keys (<<: *base).
func collectRow(n *yaml.Node, into map[string]*yaml.Node) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" || k.Value == "<<" {
			base := v
			if base.Kind == yaml.AliasNode {
				base = base.Alias
			}
			inherited := map[string]*yaml.Node{}
			collectRow(base, inherited)
			for name, node := range inherited {
				if _, own := into[name]; !own {
					into[name] = node
				}
			}
			continue
		}
		into[k.Value] = v
	}
}

// RowsError lists every problem found in rows.
type RowsError struct{ Problems []string }

func (e *RowsError) Error() string { return strings.Join(e.Problems, "\n") }

// LoadRowsDir reads every *.yaml at the root of fsys; duplicate primary keys are an error.
func LoadRowsDir(c *Catalog, fsys fs.FS) (Rows, error) {
	files, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	out := Rows{}
	for _, f := range files {
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		rows, err := ParseRows(c, f, raw)
		if err != nil {
			return nil, err
		}
		out.Merge(rows)
	}
	if err := checkKeys(c, out); err != nil {
		return nil, err
	}
	return out, nil
}

func checkKeys(c *Catalog, rows Rows) error {
	for table, rs := range rows {
		t := c.tables[table]
		seen := map[string]bool{}
		for _, r := range rs {
			k := pkString(t, r)
			if seen[k] {
				return fmt.Errorf("table %s: duplicate primary key %s", table, k)
			}
			seen[k] = true
		}
	}
	return nil
}

func pkString(t *Table, r map[string]any) string {
	parts := make([]string, len(t.PrimaryKey))
	for i, pk := range t.PrimaryKey {
		parts[i] = fmt.Sprint(r[pk])
	}
	return strings.Join(parts, "\x00")
}
