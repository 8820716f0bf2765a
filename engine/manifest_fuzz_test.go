package engine

import (
	"strings"
	"testing"

	"arbiter/engine/lang"
	"arbiter/internal/strictyaml"
)

// FuzzManifest decodes manifest.yaml as the loader does (strictyaml, then input_schema converted and
// compiled, fact keys parsed as templates): any input gives a manifest or problems naming the file,
// and nothing decoded is over budget. Seeds stay short: the fuzzer minimizes in quadratic time.
func FuzzManifest(f *testing.F) {
	for _, s := range []string{
		"decision: d.x\nversion: v1\nvalid_from: 2020-01-01T00:00:00+08:00\nlanguage: cel\nrules: [X-01]\n",
		"facts: {a: {provider: p, key: {id: \"{input.id}\"}}}\ntables: {r: d.r}\n",
		"input_schema: {type: object, required: [id], properties: {id: {type: string, format: money}}}\n",
		"decision: d.x\nvalid_to: 2020-01-01\ncommit: {idempotency_key: \"k:{input.id}\", locks: [\"{as_of:2006}\"]}\n",
		"input_schema: &s {type: object, properties: {a: *s}}\n",
		"input_schema: {$ref: \"http://example.invalid/s\"}\n",
		"bogus: 1\n", "rules: &r [a]\nmodules: *r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var m manifest
		var ps lang.Problems
		if !strictyaml.Decode("manifest.yaml", []byte(s), &m, &ps) {
			if ps.Len() == 0 {
				t.Fatal("refused without a problem")
			}
			for _, p := range ps.List {
				if p.File != "manifest.yaml" {
					t.Fatalf("a problem that does not name the file: %v", p)
				}
			}
			return
		}
		if m.InputSchema.Kind != 0 {
			doc, err := strictyaml.Value(&m.InputSchema)
			if err != nil {
				if strings.Contains(err.Error(), "beyond") || strings.Contains(err.Error(), "deeper") {
					t.Fatalf("a decoded manifest's input_schema is over budget: %v", err)
				}
			} else {
				_, _ = compileSchema("manifest.yaml", doc)
			}
		}
		for _, ref := range m.Facts {
			for _, k := range ref.Key {
				_, _ = parseTemplate(k)
			}
		}
		if m.Commit != nil {
			_, _ = parseTemplate(m.Commit.IdempotencyKey)
			for _, l := range m.Commit.Locks {
				_, _ = parseTemplate(l)
			}
		}
	})
}
