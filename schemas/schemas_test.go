package schemas_test

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"arbiter/engine"
	"arbiter/schemas"
)

var update = flag.Bool("update", false, "rewrite the published schemas from the tree")

const root = ".."

// TestPublishedSchemasAreCurrent regenerates every schema from the tree and compares it with the
// committed file; `go test ./schemas -update` (or `arbiter schemas`) rewrites them.
func TestPublishedSchemasAreCurrent(t *testing.T) {
	files, err := schemas.Generate(os.DirFS(root))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("generated %d files", len(files))
	}
	for file, want := range files {
		disk := filepath.Join(root, filepath.FromSlash(file))
		if *update {
			if err := os.MkdirAll(filepath.Dir(disk), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(disk, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(disk)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is not current (%v): run go test ./schemas -update (or arbiter schemas) and commit it", file, err)
		}
	}
	// A table removed from the tree leaves no stale schema behind.
	stale, _ := fs.Glob(os.DirFS(root), "schemas/rules/*/*.schema.json")
	for _, f := range stale {
		if _, ok := files[f]; !ok {
			if *update {
				_ = os.Remove(filepath.Join(root, f))
				continue
			}
			t.Errorf("%s belongs to no rule table of the tree: remove it", f)
		}
	}
}

// compiled compiles every published schema as an editor would load them, with the engine's formats.
func compiled(t *testing.T) (func(file string) *jsonschema.Schema, map[string][]byte) {
	t.Helper()
	files, err := schemas.Generate(os.DirFS(root))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	for _, f := range engine.SchemaFormats() {
		c.RegisterFormat(f)
	}
	for file, raw := range files {
		if !strings.HasPrefix(file, "schemas/") {
			continue
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if err := c.AddResource(schemas.ID(file), doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	cache := map[string]*jsonschema.Schema{}
	return func(file string) *jsonschema.Schema {
		t.Helper()
		if s, ok := cache[file]; ok {
			return s
		}
		url := schemas.ID(file)
		if file == schemas.Dialect {
			url = file
		}
		s, err := c.Compile(url)
		if err != nil {
			t.Fatalf("compile %s: %v", file, err)
		}
		cache[file] = s
		return s
	}, files
}

// schemaFor is the published schema a tree file takes ("" for none), as the editor mapping says.
func schemaFor(file string) string {
	parts := strings.Split(file, "/")
	switch {
	case len(parts) == 5 && parts[0] == "policies" && parts[4] == "manifest.yaml":
		return schemas.ManifestFile
	case len(parts) == 5 && parts[0] == "policies" && parts[4] == "tests.yaml":
		return schemas.TestsFile
	case len(parts) == 2 && parts[0] == "facts" && strings.HasSuffix(file, ".yaml"):
		return schemas.FactsFile
	case len(parts) == 4 && parts[0] == "rules" && parts[3] == "schema.yaml":
		return schemas.Dialect
	case len(parts) == 4 && parts[0] == "rules" && strings.HasSuffix(file, ".yaml"):
		return schemas.TableFile(parts[1] + "." + parts[2])
	}
	return ""
}

// TestShippedFilesValidate: every manifest, tests.yaml, rule-table version (and schema.yaml) and
// fact catalog of the tree validates against its published schema, and every path the editor
// mapping names matches files of the tree.
func TestShippedFilesValidate(t *testing.T) {
	schema, files := compiled(t)
	count := map[string]int{}
	tree := os.DirFS(root)
	err := fs.WalkDir(tree, ".", func(file string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if top := strings.Split(file, "/")[0]; file != "." && top != "policies" && top != "rules" && top != "facts" {
				return fs.SkipDir
			}
			return nil
		}
		which := schemaFor(file)
		if which == "" {
			return nil
		}
		raw, err := fs.ReadFile(tree, file)
		if err != nil {
			return err
		}
		doc, err := schemas.YAMLValue(file, raw)
		if err != nil {
			t.Errorf("%v", err)
			return nil
		}
		if err := schema(which).Validate(doc); err != nil {
			t.Errorf("%s does not validate against %s:\n%v", file, path.Base(which), err)
		}
		count[which]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, which := range []string{schemas.ManifestFile, schemas.TestsFile, schemas.FactsFile, schemas.Dialect} {
		if count[which] < 5 {
			t.Errorf("only %d files validated against %s", count[which], which)
		}
	}
	tables := 0
	for file := range files {
		if strings.HasPrefix(file, "schemas/rules/") {
			tables++
			if count[file] == 0 {
				t.Errorf("no version file validated against %s", file)
			}
		}
	}
	t.Logf("validated %v; %d table schemas", count, tables)
	// The editor mapping's globs name the same files schemaFor does.
	settings := string(files[schemas.SettingsFile])
	for _, glob := range []string{"policies/*/*/*/manifest.yaml", "policies/*/*/*/tests.yaml", "facts/*.yaml", "rules/*/*/schema.yaml", "rules/partner/exit/[0-9]*.yaml"} {
		if !strings.Contains(settings, `"`+glob+`"`) {
			t.Errorf("%s lacks %s", schemas.SettingsFile, glob)
		}
		matches, _ := fs.Glob(tree, glob)
		if len(matches) == 0 {
			t.Errorf("glob %s matches no file", glob)
		}
	}
}

// TestWrongDocumentsAreRefused: each schema refuses a document the engine refuses, naming the place.
func TestWrongDocumentsAreRefused(t *testing.T) {
	schema, _ := compiled(t)
	exitFile := schemas.TableFile("partner.exit")
	for _, tt := range []struct {
		name, schema, doc, where string
	}{
		{"manifest with a misspelt field", schemas.ManifestFile, manifest("valid_until: 2030-01-01T00:00:00+08:00\n"), "'valid_until'"},
		{"manifest in an unknown language", schemas.ManifestFile, strings.Replace(manifest(""), "language: rego", "language: python", 1), "/language"},
		{"rego manifest without entrypoint", schemas.ManifestFile, strings.Replace(manifest(""), "entrypoint: data.arbiter.partner.path_exit.decision\n", "", 1), "'entrypoint'"},
		{"manifest naming an unknown provider", schemas.ManifestFile, strings.Replace(manifest(""), "provider: partner.account", "provider: partner.acount", 1), "/facts/account/provider"},
		{"manifest naming an unknown table", schemas.ManifestFile, strings.Replace(manifest(""), "exit: partner.exit", "exit: partner.exits", 1), "/tables/exit"},
		{"manifest with a bad valid_from", schemas.ManifestFile, strings.Replace(manifest(""), "2020-01-01T00:00:00+08:00", "2020-01-01", 1), "/valid_from"},
		{"table file of another table", exitFile, strings.Replace(exitTable, "table: partner.exit", "table: partner.exits", 1), "/table"},
		{"table file with a status outside the enum", exitFile, strings.Replace(exitTable, "[active, expired]", "[active, gone]", 1), "/data/blocking_plan_statuses/1"},
		{"table file missing a required setting", exitFile, strings.Replace(exitTable, "  paths: [software]\n", "", 1), "'paths'"},
		{"table file without valid_from", exitFile, strings.Replace(exitTable, "valid_from: 2020-01-01T00:00:00+08:00\n", "", 1), "'valid_from'"},
		{"table file with an amount its $defs refuses", schemas.TableFile("mdf.caps"), strings.Replace(capsTable(t), `software: {role_certified: "50000.00"`, `software: {role_certified: "50000.001"`, 1), "/data/paths/software/role_certified"},
		{"case without as_of", schemas.TestsFile, "cases:\n  - name: EXIT-01 no instant\n    input: {account_id: A}\n    want: {outcome: deny}\n", "'as_of'"},
		{"case given an unknown column", schemas.TestsFile, testCase("given: {partner_accounts: [{id: A, pathh: software}]}"), "'pathh'"},
		{"case given a row without its key", schemas.TestsFile, testCase("given: {partner_accounts: [{path: software}]}"), "'id'"},
		{"case given an unknown table", schemas.TestsFile, testCase("given: {partner_acounts: []}"), "'partner_acounts'"},
		{"case overriding a table with bad data", schemas.TestsFile, testCase("tables: {partner.exit: {blocking_plan_statuses: [gone], cancellable_reseller_statuses: [], paths: []}}"), "/tables/partner.exit/blocking_plan_statuses/0"},
		{"case whose want has neither outcome nor error", schemas.TestsFile, "cases:\n  - name: EXIT-01 x\n    as_of: 2025-01-01T00:00:00+08:00\n    want: {reasons: []}\n", "/want"},
		{"catalog column of an unknown type", schemas.FactsFile, "tables:\n  t:\n    primary_key: [id]\n    columns:\n      id: {type: varchar}\n", "/tables/t/columns/id/type"},
		{"catalog provider without by", schemas.FactsFile, "providers:\n  a.b:\n    table: t\n", "'by'"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := schemas.YAMLValue(tt.name, []byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			err = schema(tt.schema).Validate(doc)
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.doc)
			}
			if !strings.Contains(err.Error(), tt.where) {
				t.Fatalf("the error does not name %s:\n%v", tt.where, err)
			}
		})
	}
}

// capsTable is the shipped mdf.caps version: its schema refers to #/$defs/money, which must still
// resolve once the schema is wrapped as a table file's data.
func capsTable(t *testing.T) string {
	raw, err := os.ReadFile(filepath.Join(root, "rules", "mdf", "caps", "2024.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `software: {role_certified: "50000.00"`) {
		t.Fatalf("rules/mdf/caps/2024.yaml changed shape:\n%s", raw)
	}
	return string(raw)
}

func manifest(extra string) string {
	return `decision: partner.path_exit
version: "2026.1"
valid_from: 2020-01-01T00:00:00+08:00
language: rego
entrypoint: data.arbiter.partner.path_exit.decision
rules: [EXIT-01]
facts:
  account:
    provider: partner.account
    key: {id: "{input.account_id}"}
tables:
  exit: partner.exit
input_schema:
  type: object
  properties:
    account_id: {type: string}
` + extra
}

const exitTable = `table: partner.exit
version: "2020"
valid_from: 2020-01-01T00:00:00+08:00
data:
  blocking_plan_statuses: [active, expired]
  cancellable_reseller_statuses: [exited]
  paths: [software]
`

func testCase(extra string) string {
	return "cases:\n  - name: EXIT-01 a case\n    as_of: 2025-01-01T00:00:00+08:00\n    input: {account_id: A}\n    " + extra + "\n    want: {outcome: deny}\n"
}
