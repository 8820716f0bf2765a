package revision

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const rates2024 = `table: demo.rates
version: "2024"
valid_from: 2024-01-01T00:00:00+08:00
data:
  rate: "0.1"
`

func TestCheckImmutable(t *testing.T) {
	published := map[string][][]byte{
		"rules/demo/rates/2024.yaml":         {[]byte(rates2024)},
		"rules/demo/rates/schema.yaml":       {[]byte("type: object\n")},
		"policies/demo/sum/v1/manifest.yaml": {[]byte("decision: demo.sum\n")},
		"policies/demo/sum/v1/policy.rego":   {[]byte("package x\n")},
		"policies/demo/sum/v1/tests.yaml":    {nil},
		"policies/demo/_lib/v1/money.rego":   {[]byte("package lib\n")},
		"facts/demo.yaml":                    {[]byte("tables: {}\n")},
	}
	base := Tree{
		"rules/demo/rates/2024.yaml":         []byte(rates2024),
		"rules/demo/rates/schema.yaml":       []byte("type: object\n"),
		"policies/demo/sum/v1/manifest.yaml": []byte("decision: demo.sum\n"),
		"policies/demo/sum/v1/policy.rego":   []byte("package x\n"),
		"policies/demo/sum/v1/tests.yaml":    []byte("cases: []\n"),
		"policies/demo/_lib/v1/money.rego":   []byte("package lib\n"),
		"facts/demo.yaml":                    []byte("tables: {}\n"),
	}
	tests := []struct {
		name    string
		edit    func(Tree)
		refused string // a file the refusal must name; empty: accepted
	}{
		{name: "unchanged", edit: func(Tree) {}},
		{name: "table version changed", edit: func(t Tree) {
			t["rules/demo/rates/2024.yaml"] = []byte(strings.Replace(rates2024, `"0.1"`, `"0.2"`, 1))
		}, refused: "rules/demo/rates/2024.yaml"},
		{name: "window closed", edit: func(t Tree) {
			t["rules/demo/rates/2024.yaml"] = []byte(strings.Replace(rates2024, "valid_from: 2024-01-01T00:00:00+08:00",
				"valid_from: 2024-01-01T00:00:00+08:00\nvalid_to: 2025-01-01T00:00:00+08:00", 1))
		}},
		{name: "new table version", edit: func(t Tree) { t["rules/demo/rates/2025.yaml"] = []byte("x: 1\n") }},
		{name: "schema changed", edit: func(t Tree) { t["rules/demo/rates/schema.yaml"] = []byte("type: object\nrequired: [rate]\n") }},
		{name: "policy source changed", edit: func(t Tree) { t["policies/demo/sum/v1/policy.rego"] = []byte("package y\n") },
			refused: "policies/demo/sum/v1/policy.rego"},
		{name: "shared module changed", edit: func(t Tree) { t["policies/demo/_lib/v1/money.rego"] = []byte("package lib2\n") },
			refused: "policies/demo/_lib/v1/money.rego"},
		{name: "file added to a published version", edit: func(t Tree) { t["policies/demo/sum/v1/extra.rego"] = []byte("package z\n") },
			refused: "policies/demo/sum/v1/extra.rego"},
		{name: "file removed from a published version", edit: func(t Tree) { delete(t, "policies/demo/sum/v1/policy.rego") },
			refused: "policies/demo/sum/v1/policy.rego"},
		{name: "whole version removed", edit: func(t Tree) {
			for _, p := range []string{"manifest.yaml", "policy.rego", "tests.yaml"} {
				delete(t, "policies/demo/sum/v1/"+p)
			}
		}},
		{name: "tests of a published version gain a case", edit: func(t Tree) {
			t["policies/demo/sum/v1/tests.yaml"] = []byte("cases: [{name: new}]\n")
		}},
		{name: "new policy version", edit: func(t Tree) { t["policies/demo/sum/v2/manifest.yaml"] = []byte("decision: demo.sum\n") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next := base.Clone()
			tc.edit(next)
			err := CheckImmutable(published, next)
			var ie *ImmutabilityError
			if tc.refused == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an ImmutabilityError", err)
			}
			if !strings.Contains(err.Error(), tc.refused) {
				t.Fatalf("err = %v, want it to name %s", err, tc.refused)
			}
		})
	}
}

func TestNewVersionClosesThePreviousWindow(t *testing.T) {
	tree := Tree{"rules/demo/rates/2024.yaml": []byte(rates2024), "rules/demo/rates/schema.yaml": []byte("type: object\n")}
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	written, err := NewVersion(tree, "rules/demo/rates", "2025", from)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(written, ",") != "rules/demo/rates/2024.yaml,rules/demo/rates/2025.yaml" {
		t.Fatalf("written = %v", written)
	}
	if !strings.Contains(string(tree["rules/demo/rates/2024.yaml"]), "valid_to: 2025-01-01T00:00:00+08:00") {
		t.Fatalf("2024 not closed:\n%s", tree["rules/demo/rates/2024.yaml"])
	}
	next := string(tree["rules/demo/rates/2025.yaml"])
	if !strings.Contains(next, `version: "2025"`) || !strings.Contains(next, "valid_from: 2025-01-01T00:00:00+08:00") || strings.Contains(next, "valid_to") {
		t.Fatalf("2025 version:\n%s", next)
	}
	published := map[string][][]byte{"rules/demo/rates/2024.yaml": {[]byte(rates2024)}}
	if err := CheckImmutable(published, tree); err != nil {
		t.Fatalf("closing the window is refused: %v", err)
	}
	if _, err := NewVersion(tree, "rules/demo/rates", "2024b", from); err == nil {
		t.Fatal("a version not after the latest was accepted")
	}
}

func TestSnapshotLeavesOutExamplesAndFixtures(t *testing.T) {
	fsys := Tree{
		"rules/demo/rates/2024.yaml":         []byte("a"),
		"rules/demo/rates/2026.example.yaml": []byte("b"),
		"rules/demo/rates/2027.draft.yaml":   []byte("c"),
		"policies/demo/x/v9.example/a.rego":  []byte("d"),
		"fixtures/rows.yaml":                 []byte("e"),
		"facts/demo.yaml":                    []byte("f"),
	}.FS()
	got, err := Snapshot(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if want := "facts/demo.yaml,rules/demo/rates/2024.yaml"; strings.Join(got.Paths(), ",") != want {
		t.Fatalf("paths = %v, want %s", got.Paths(), want)
	}
}

func TestNewVersionOfAPolicyCopiesTheFolder(t *testing.T) {
	tree := Tree{
		"policies/demo/sum/v1/manifest.yaml":   []byte("decision: demo.sum\nversion: v1\nvalid_from: 2020-01-01T00:00:00+08:00\nlanguage: cel\n"),
		"policies/demo/sum/v1/policy.cel.yaml": []byte("rules: []\n"),
		"policies/demo/sum/v1/tests.yaml":      []byte("cases: []\n"),
	}
	written, err := NewVersion(tree, "policies/demo/sum", "v2", time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	if err != nil {
		t.Fatal(err)
	}
	want := "policies/demo/sum/v1/manifest.yaml,policies/demo/sum/v2/manifest.yaml,policies/demo/sum/v2/policy.cel.yaml,policies/demo/sum/v2/tests.yaml"
	if strings.Join(written, ",") != want {
		t.Fatalf("written = %v", written)
	}
	m := string(tree["policies/demo/sum/v2/manifest.yaml"])
	if !strings.Contains(m, `version: "v2"`) || !strings.Contains(m, "valid_from: 2026-01-01T00:00:00+08:00") {
		t.Fatalf("v2 manifest:\n%s", m)
	}
	if !strings.Contains(string(tree["policies/demo/sum/v1/manifest.yaml"]), "valid_to: 2026-01-01T00:00:00+08:00") {
		t.Fatalf("v1 not closed:\n%s", tree["policies/demo/sum/v1/manifest.yaml"])
	}
}
