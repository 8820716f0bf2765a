package facts

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed catalog/*.yaml
var embedded embed.FS

// Column types a catalog may declare.
const (
	TypeText      = "text"
	TypeInt       = "int"
	TypeBool      = "bool"
	TypeDecimal   = "decimal"
	TypeDate      = "date"
	TypeTimestamp = "timestamp"
	TypeTextArray = "text[]"
	TypeJSON      = "json"
)

var columnTypes = map[string]bool{TypeText: true, TypeInt: true, TypeBool: true, TypeDecimal: true, TypeDate: true, TypeTimestamp: true, TypeTextArray: true, TypeJSON: true}

// Column is one declared column; Default is canonical (nil: NULL).
type Column struct {
	Name    string
	Type    string
	Default any
}

// Table is one declared fact table.
type Table struct {
	Name       string
	PrimaryKey []string
	Columns    []Column
	byName     map[string]int
}

// Column returns a column by name.
func (t *Table) Column(name string) (Column, bool) {
	i, ok := t.byName[name]
	if !ok {
		return Column{}, false
	}
	return t.Columns[i], true
}

// Provider is a lookup of rows of one table by columns.
type Provider struct {
	Name    string
	Table   string
	By      []string
	OrderBy []string
	One     bool
}

// Catalog declares the fact tables and the providers that read them.
type Catalog struct {
	tables    map[string]*Table
	providers map[string]Provider
}

type catalogFile struct {
	Tables    map[string]tableDecl    `yaml:"tables"`
	Providers map[string]providerDecl `yaml:"providers"`
}

type tableDecl struct {
	PrimaryKey []string  `yaml:"primary_key"`
	Columns    yaml.Node `yaml:"columns"`
}

type columnDecl struct {
	Type    string    `yaml:"type"`
	Default yaml.Node `yaml:"default"`
}

type providerDecl struct {
	Table   string   `yaml:"table"`
	By      []string `yaml:"by"`
	OrderBy []string `yaml:"order_by"`
	One     bool     `yaml:"one"`
}

// CatalogError lists every problem found in catalog files.
type CatalogError struct{ Problems []string }

func (e *CatalogError) Error() string {
	return fmt.Sprintf("fact catalog has %d problem(s):\n%s", len(e.Problems), strings.Join(e.Problems, "\n"))
}

// EmbeddedCatalog returns the catalog compiled into the binary.
func EmbeddedCatalog() (*Catalog, error) {
	sub, err := fs.Sub(embedded, "catalog")
	if err != nil {
		return nil, err
	}
	return LoadCatalog(sub)
}

// LoadCatalog reads every *.yaml at the root of fsys and reports every problem at once.
func LoadCatalog(fsys fs.FS) (*Catalog, error) {
	c := &Catalog{tables: map[string]*Table{}, providers: map[string]Provider{}}
	var problems []string
	bad := func(file string, line int, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s:%d: %s", file, line, fmt.Sprintf(format, args...)))
	}
	files, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	type pending struct {
		file string
		name string
		decl providerDecl
	}
	var provs []pending
	for _, f := range files {
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			bad(f, 0, "%v", err)
			continue
		}
		var cf catalogFile
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true)
		if err := dec.Decode(&cf); err != nil {
			bad(f, 0, "%v", err)
			continue
		}
		for name, td := range cf.Tables {
			line := td.Columns.Line
			if _, dup := c.tables[name]; dup {
				bad(f, line, "table %s is declared twice", name)
				continue
			}
			t := &Table{Name: name, PrimaryKey: td.PrimaryKey, byName: map[string]int{}}
			if td.Columns.Kind != yaml.MappingNode {
				bad(f, line, "table %s: columns must be a mapping", name)
				continue
			}
			for i := 0; i+1 < len(td.Columns.Content); i += 2 {
				k, v := td.Columns.Content[i], td.Columns.Content[i+1]
				var cd columnDecl
				if err := v.Decode(&cd); err != nil {
					bad(f, v.Line, "table %s column %s: %v", name, k.Value, err)
					continue
				}
				if !columnTypes[cd.Type] {
					bad(f, v.Line, "table %s column %s: unknown type %q", name, k.Value, cd.Type)
					continue
				}
				col := Column{Name: k.Value, Type: cd.Type}
				if cd.Default.Kind != 0 {
					dv, err := canonicalNode(cd.Type, &cd.Default)
					if err != nil {
						bad(f, v.Line, "table %s column %s: default: %v", name, k.Value, err)
						continue
					}
					col.Default = dv
				}
				t.byName[col.Name] = len(t.Columns)
				t.Columns = append(t.Columns, col)
			}
			if len(t.PrimaryKey) == 0 {
				bad(f, line, "table %s: primary_key is required", name)
			}
			for _, pk := range t.PrimaryKey {
				if _, ok := t.byName[pk]; !ok {
					bad(f, line, "table %s: primary key column %s is not declared", name, pk)
				}
			}
			c.tables[name] = t
		}
		for name, pd := range cf.Providers {
			provs = append(provs, pending{file: f, name: name, decl: pd})
		}
	}
	for _, p := range provs {
		if _, dup := c.providers[p.name]; dup {
			bad(p.file, 0, "provider %s is declared twice", p.name)
			continue
		}
		t, ok := c.tables[p.decl.Table]
		if !ok {
			bad(p.file, 0, "provider %s: table %q is not declared", p.name, p.decl.Table)
			continue
		}
		if len(p.decl.By) == 0 {
			bad(p.file, 0, "provider %s: by must name the lookup columns", p.name)
		}
		for _, col := range append(append([]string{}, p.decl.By...), p.decl.OrderBy...) {
			if _, ok := t.byName[col]; !ok {
				bad(p.file, 0, "provider %s: column %s is not a column of %s", p.name, col, t.Name)
			}
		}
		c.providers[p.name] = Provider{Name: p.name, Table: p.decl.Table, By: p.decl.By, OrderBy: p.decl.OrderBy, One: p.decl.One}
	}
	if len(problems) > 0 {
		return nil, &CatalogError{Problems: problems}
	}
	return c, nil
}

// Provider returns a provider by name.
func (c *Catalog) Provider(name string) (Provider, bool) {
	p, ok := c.providers[name]
	return p, ok
}

// Table returns a table by name.
func (c *Catalog) Table(name string) (*Table, bool) {
	t, ok := c.tables[name]
	return t, ok
}

// Tables lists the declared tables, sorted.
func (c *Catalog) Tables() []string {
	out := make([]string, 0, len(c.tables))
	for n := range c.tables {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

var _ = path.Join
