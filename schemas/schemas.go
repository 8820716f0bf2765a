// Package schemas generates the published JSON Schemas of a policy tree's files, so editors validate
// manifests, tests.yaml, rule-table versions and the fact catalog as they are typed:
//
//	schemas/manifest.schema.json                policies/<domain>/<decision>/<version>/manifest.yaml
//	schemas/tests.schema.json                   policies/<domain>/<decision>/<version>/tests.yaml
//	schemas/facts.schema.json                   facts/<domain>.yaml
//	schemas/rules/<domain>/<table>.schema.json  rules/<domain>/<table>/<version>.yaml
//	.vscode/settings.json                       yaml.schemas: which schema each file path takes
//
// The schemas are derived from the tree: a table file's schema wraps the table's own schema.yaml
// as its data, the manifest schema lists the catalog's providers and the tree's tables, and a test
// case's given rows name the catalog's tables and columns. `arbiter schemas` writes them; the
// package test regenerates them and fails when the committed ones differ.
//
// The engine's own checks stay the contract (arbiter check): the schemas say the same thing earlier,
// in the editor, and a schema accepting a file the engine refuses is a bug in the schemas.
package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"arbiter/internal/strictyaml"
)

// Base is the prefix of every published schema's $id. It names the schemas; nothing is served there.
const Base = "https://arbiter.invalid/schemas/"

// Dialect is the JSON Schema draft of every published schema (the one rule tables are written in).
const Dialect = "https://json-schema.org/draft/2020-12/schema"

// Paths of the generated files, relative to the tree's root.
const (
	ManifestFile = "schemas/manifest.schema.json"
	TestsFile    = "schemas/tests.schema.json"
	FactsFile    = "schemas/facts.schema.json"
	SettingsFile = ".vscode/settings.json"
)

// TableFile is the schema path of rule table id ("partner.exit" -> schemas/rules/partner/exit.schema.json).
func TableFile(id string) string {
	domain, name, _ := strings.Cut(id, ".")
	return "schemas/rules/" + domain + "/" + name + ".schema.json"
}

// ID is the $id of the schema at file (a path under schemas/).
func ID(file string) string { return Base + strings.TrimPrefix(file, "schemas/") }

type obj = map[string]any

// catalogYAML is the part of a facts/*.yaml file the schemas need.
type catalogYAML struct {
	Tables map[string]struct {
		PrimaryKey []string `yaml:"primary_key"`
		Columns    map[string]struct {
			Type    string    `yaml:"type"`
			Default yaml.Node `yaml:"default"`
		} `yaml:"columns"`
	} `yaml:"tables"`
	Providers map[string]yaml.Node `yaml:"providers"`
}

// ColumnTypes are the catalog's column types.
var ColumnTypes = []string{"text", "int", "bool", "decimal", "date", "timestamp", "text[]", "json"}

// Generate derives every schema file from the tree in fsys (facts/, rules/), keyed by path.
func Generate(fsys fs.FS) (map[string][]byte, error) {
	tables, err := ruleTables(fsys)
	if err != nil {
		return nil, err
	}
	cat, err := catalog(fsys)
	if err != nil {
		return nil, err
	}
	docs := map[string]any{
		ManifestFile: manifestSchema(tables, cat),
		TestsFile:    testsSchema(tables, cat),
		FactsFile:    factsSchema(),
	}
	ids := make([]string, 0, len(tables))
	for id := range tables {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		docs[TableFile(id)] = tableFileSchema(id, tables[id])
	}
	out := map[string][]byte{}
	for file, doc := range docs {
		if m, ok := doc.(obj); ok {
			m["$schema"], m["$id"] = Dialect, ID(file)
		}
		raw, err := encode(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		out[file] = raw
	}
	settings, err := encode(obj{"yaml.schemas": editorMapping(ids)})
	if err != nil {
		return nil, err
	}
	out[SettingsFile] = settings
	return out, nil
}

// editorMapping maps each schema (as a workspace path) to the files it validates, in the form of
// the YAML extension's yaml.schemas setting.
func editorMapping(tableIDs []string) obj {
	m := obj{
		"./" + ManifestFile: []string{"policies/*/*/*/manifest.yaml"},
		"./" + TestsFile:    []string{"policies/*/*/*/tests.yaml"},
		"./" + FactsFile:    []string{"facts/*.yaml"},
		Dialect:             []string{"rules/*/*/schema.yaml"},
	}
	for _, id := range tableIDs {
		domain, name, _ := strings.Cut(id, ".")
		m["./"+TableFile(id)] = []string{"rules/" + domain + "/" + name + "/[0-9]*.yaml"}
	}
	return m
}

func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ruleTables reads every rules/<domain>/<table>/schema.yaml as JSON values, by table id.
func ruleTables(fsys fs.FS) (map[string]any, error) {
	files, err := fs.Glob(fsys, "rules/*/*/schema.yaml")
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, file := range files {
		raw, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, err
		}
		doc, err := yamlValue(file, raw)
		if err != nil {
			return nil, err
		}
		parts := strings.Split(file, "/")
		out[parts[1]+"."+parts[2]] = doc
	}
	return out, nil
}

// YAMLValue decodes a YAML document to JSON values as the engine does (merge keys resolved,
// timestamps kept as text, numbers exact).
func YAMLValue(file string, raw []byte) (any, error) { return yamlValue(file, raw) }

func yamlValue(file string, raw []byte) (any, error) {
	n, err := strictyaml.Load(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	v, err := strictyaml.Value(n)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return v, nil
}

// catalogInfo is the fact catalog as the schemas use it.
type catalogInfo struct {
	providers []string
	tables    map[string]obj // table -> row schema
}

func catalog(fsys fs.FS) (*catalogInfo, error) {
	files, err := fs.Glob(fsys, "facts/*.yaml")
	if err != nil {
		return nil, err
	}
	info := &catalogInfo{tables: map[string]obj{}}
	for _, file := range files {
		raw, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, err
		}
		var c catalogYAML
		if err := yaml.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for name := range c.Providers {
			info.providers = append(info.providers, name)
		}
		for name, t := range c.Tables {
			props := obj{}
			for col, spec := range t.Columns {
				s := columnSchema(spec.Type)
				s["description"] = spec.Type + " column of " + name
				props[col] = s
			}
			// A row gives every primary-key column that has no default; other columns default.
			var required []string
			for _, pk := range t.PrimaryKey {
				if spec, ok := t.Columns[pk]; ok && spec.Default.Kind == 0 {
					required = append(required, pk)
				}
			}
			sort.Strings(required)
			row := obj{"type": "object", "additionalProperties": false, "properties": props}
			if len(required) > 0 {
				row["required"] = required
			}
			info.tables[name] = row
		}
	}
	sort.Strings(info.providers)
	return info, nil
}

// columnSchema is what a row of given may hold in a column of type t (null: the column's default).
func columnSchema(t string) obj {
	switch t {
	case "int":
		return obj{"type": []string{"integer", "null"}}
	case "bool":
		return obj{"type": []string{"boolean", "null"}}
	case "decimal":
		return obj{"type": []string{"string", "number", "null"}, "pattern": `^-?[0-9]+(\.[0-9]+)?$`}
	case "date":
		return obj{"type": []string{"string", "null"}, "pattern": `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`}
	case "timestamp":
		return obj{"type": []string{"string", "null"}, "format": "date-time"}
	case "text[]":
		return obj{"type": []string{"array", "null"}, "items": obj{"type": []string{"string", "number", "boolean"}}}
	case "json":
		return obj{}
	default: // text
		return obj{"type": []string{"string", "number", "boolean", "null"}}
	}
}

// relocate returns a copy of a schema placed at JSON pointer at within another document: its local
// references ("#/$defs/x") are rewritten to point below at, and $schema/$id are dropped.
func relocate(v any, at string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			switch {
			case k == "$schema" || k == "$id":
				continue
			case k == "$ref":
				if s, ok := val.(string); ok && strings.HasPrefix(s, "#") {
					out[k] = "#" + at + strings.TrimPrefix(s, "#")
					continue
				}
			}
			out[k] = relocate(val, at)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = relocate(val, at)
		}
		return out
	}
	return v
}

// pointerEscape escapes one JSON pointer token.
func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

var dateTime = obj{"type": "string", "format": "date-time", "description": "RFC 3339 with an offset, such as 2026-01-01T00:00:00+08:00 (Beijing time is the business calendar)."}

func tableFileSchema(id string, data any) obj {
	d := relocate(data, "/properties/data")
	if m, ok := d.(map[string]any); ok {
		if _, has := m["description"]; !has {
			m["description"] = "The table's data; it must satisfy rules/" + strings.Replace(id, ".", "/", 1) + "/schema.yaml."
		}
	}
	return obj{
		"title":                "arbiter rule table " + id + " (rules/" + strings.Replace(id, ".", "/", 1) + "/<version>.yaml)",
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"table", "version", "valid_from", "data"},
		"properties": obj{
			"table":       obj{"const": id, "description": "The table id, <domain>.<table> of the folder."},
			"version":     obj{"type": "string", "minLength": 1, "description": "The version, quoted; it must match the file name (2026.yaml: \"2026\")."},
			"valid_from":  withDesc(dateTime, "Start of the window (inclusive)."),
			"valid_to":    withDesc(dateTime, "End of the window (exclusive); omit for an open window. Windows of one table never overlap."),
			"description": obj{"type": "string"},
			"data":        d,
		},
	}
}

func withDesc(s obj, desc string) obj {
	out := obj{}
	for k, v := range s {
		out[k] = v
	}
	out["description"] = desc + " " + s["description"].(string)
	return out
}

func manifestSchema(tables map[string]any, cat *catalogInfo) obj {
	tableIDs := slices.Sorted(maps.Keys(tables))
	tableID := obj{"type": "string", "enum": tableIDs}
	return obj{
		"title":                "arbiter policy version manifest (policies/<domain>/<decision>/<version>/manifest.yaml)",
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"decision", "version", "valid_from", "language", "input_schema"},
		"properties": obj{
			"decision":    obj{"type": "string", "pattern": `^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$`, "description": "<domain>.<decision>; it must match the folders."},
			"version":     obj{"type": "string", "minLength": 1, "description": "The version, quoted; it must match the folder name."},
			"description": obj{"type": "string"},
			"valid_from":  withDesc(dateTime, "Start of the window (inclusive)."),
			"valid_to":    withDesc(dateTime, "End of the window (exclusive); omit for an open window."),
			"language":    obj{"enum": []string{"rego", "cel"}, "description": "rego: policy.rego and an entrypoint; cel: policy.cel.yaml."},
			"entrypoint":  obj{"type": "string", "pattern": `^data\.`, "description": "Rego only: the query whose value is the decision (data.arbiter.<domain>.<decision>.decision)."},
			"modules":     obj{"type": "array", "items": obj{"type": "string"}, "description": "Rego only: shared module files under policies/ this version uses."},
			"catalog":     obj{"type": "string", "description": "Where the rules come from (a section of the domain catalog)."},
			"rules":       obj{"type": "array", "items": obj{"type": "string", "minLength": 1}, "uniqueItems": true, "description": "Catalog rule ids in evaluation order: reasons are sorted by it."},
			"facts": obj{
				"type":          "object",
				"description":   "Facts the policy reads, by name (facts.<name>): a provider of the catalog and its key templates.",
				"propertyNames": obj{"pattern": `^[a-z][a-z0-9_]*$`},
				"additionalProperties": obj{
					"type": "object", "additionalProperties": false, "required": []string{"provider", "key"},
					"properties": obj{
						"provider": obj{"type": "string", "enum": cat.providers},
						"key": obj{"type": "object", "additionalProperties": obj{"type": "string"},
							"description": "Column -> template: {input.a.b}, {as_of:2006}, {facts.other.field}, alternatives joined by |."},
					},
				},
			},
			"tables": obj{
				"type":        "object",
				"description": "Rule tables the policy reads, by name (rules.<name>): a table id, or {table, at} to choose the version by another instant than as_of.",
				"additionalProperties": obj{"oneOf": []any{
					tableID,
					obj{"type": "object", "additionalProperties": false, "required": []string{"table", "at"},
						"properties": obj{"table": tableID, "at": obj{"type": "string", "description": "Template of the instant, such as \"{input.policy_year}-12-31T00:00:00+08:00\"."}}},
				}},
			},
			"input_schema": obj{"$ref": Dialect, "description": "JSON Schema of the request's input (formats money, decimal, date and date-time are checked)."},
			"commit": obj{
				"type": "object", "additionalProperties": false, "required": []string{"idempotency_key"},
				"description": "This decision records consumption in one transaction (see Commits in docs/authoring.md).",
				"properties": obj{
					"idempotency_key": obj{"type": "string"},
					"locks":           obj{"type": "array", "items": obj{"type": "string"}},
					"hold_on_refer":   obj{"type": "boolean"},
				},
			},
		},
		"allOf": []any{
			obj{"if": obj{"properties": obj{"language": obj{"const": "rego"}}, "required": []string{"language"}}, "then": obj{"required": []string{"entrypoint"}}},
			obj{"if": obj{"properties": obj{"language": obj{"const": "cel"}}, "required": []string{"language"}}, "then": obj{"not": obj{"required": []string{"entrypoint"}}}},
		},
	}
}

func testsSchema(tables map[string]any, cat *catalogInfo) obj {
	given := obj{}
	for _, name := range slices.Sorted(maps.Keys(cat.tables)) {
		given[name] = obj{"type": []string{"array", "null"}, "items": obj{"$ref": "#/$defs/rows/" + pointerEscape(name)}}
	}
	overrides, refs := obj{}, obj{}
	for _, id := range slices.Sorted(maps.Keys(tables)) {
		overrides[id] = relocate(tables[id], "/$defs/tables/"+pointerEscape(id))
		refs[id] = obj{"$ref": "#/$defs/tables/" + pointerEscape(id)}
	}
	stringList := obj{"type": "array", "items": obj{"type": "string"}}
	return obj{
		"title":                "arbiter catalog cases (policies/<domain>/<decision>/<version>/tests.yaml)",
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"cases"},
		"properties":           obj{"cases": obj{"type": "array", "items": obj{"$ref": "#/$defs/case"}}},
		"$defs": obj{
			"rows":   cat.tables,
			"tables": overrides,
			"case": obj{
				"type": "object", "additionalProperties": false, "required": []string{"name", "as_of", "want"},
				"properties": obj{
					"name":  obj{"type": "string", "pattern": `\b[A-Z][A-Z0-9]*(-[A-Z0-9]+)+\b`, "description": "Must cite a catalog rule id (EXIT-01)."},
					"as_of": withDesc(dateTime, "The instant decided at (decisions never read the wall clock)."),
					"input": obj{"description": "The request's input; it must satisfy the manifest's input_schema."},
					"given": obj{"type": []string{"object", "null"}, "additionalProperties": false, "properties": given,
						"description": "Rows by fact table for this case only (no fixtures/ rows are loaded)."},
					"tables": obj{"type": "object", "additionalProperties": false, "properties": refs,
						"description": "Replace a rule table's data for this case, by table id; it must satisfy the table's schema."},
					"dry_run": obj{"type": "boolean", "description": "Commit decisions: decide without recording."},
					"explain": obj{"type": "boolean"},
					"want": obj{
						"type": "object", "additionalProperties": false,
						"properties": obj{
							"outcome": obj{"type": "string", "description": "allow, deny, refer, or a policy's own outcome word."},
							"reasons": withDescList(stringList, "Reason codes in order; omit to not check."),
							"rules":   withDescList(stringList, "Catalog rule ids of the reasons, in order; omit to not check."),
							"outputs": obj{"type": "object", "description": "Listed keys only (recursively); decimals compared by value."},
							"error":   obj{"type": "string", "description": "An engine error code (fact_not_found, invalid_input, ...) instead of a decision."},
							"fields":  withDescList(stringList, "Fields the error must name."),
						},
						"oneOf": []any{obj{"required": []string{"outcome"}}, obj{"required": []string{"error"}}},
					},
				},
			},
		},
	}
}

func withDescList(s obj, desc string) obj {
	out := obj{"description": desc}
	for k, v := range s {
		out[k] = v
	}
	return out
}

func factsSchema() obj {
	names := stringArray()
	return obj{
		"title":                "arbiter fact catalog (facts/<domain>.yaml)",
		"type":                 "object",
		"additionalProperties": false,
		"properties": obj{
			"tables": obj{
				"type": "object", "description": "Fact tables by name: both stores read them; arbiter migrate creates them in PostgreSQL.",
				"propertyNames": obj{"pattern": `^[a-z][a-z0-9_]*$`},
				"additionalProperties": obj{
					"type": "object", "additionalProperties": false, "required": []string{"primary_key", "columns"},
					"properties": obj{
						"primary_key": names,
						"columns": obj{
							"type": "object", "minProperties": 1,
							"propertyNames": obj{"pattern": `^[a-z][a-z0-9_]*$`},
							"additionalProperties": obj{
								"type": "object", "additionalProperties": false, "required": []string{"type"},
								"properties": obj{
									"type":     obj{"enum": ColumnTypes},
									"default":  obj{"description": "The value of a row that gives none."},
									"required": obj{"type": "boolean", "description": "NOT NULL in PostgreSQL: every row gives a value."},
									"personal": obj{"type": "boolean", "description": "Masked (***) in answers and logged facts without the personal scope."},
								},
							},
						},
					},
				},
			},
			"providers": obj{
				"type": "object", "description": "Lookups by columns of one table, by provider name (<domain>.<name>), as manifests name them.",
				"additionalProperties": obj{
					"type": "object", "additionalProperties": false, "required": []string{"table", "by"},
					"properties": obj{
						"table":    obj{"type": "string"},
						"by":       names,
						"order_by": names,
						"one":      obj{"type": "boolean", "description": "At most one row: the fact is that row (or absent), not a list."},
					},
				},
			},
		},
	}
}

func stringArray() obj {
	return obj{"type": "array", "minItems": 1, "items": obj{"type": "string"}}
}
