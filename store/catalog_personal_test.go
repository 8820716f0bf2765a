package store_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"arbiter/store"
)

func TestCatalogPersonalColumns(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		table string
		want  []string
		err   string
	}{
		{
			name:  "marked columns in declaration order",
			yaml:  "tables:\n  p:\n    primary_key: [id]\n    columns:\n      id: {type: text}\n      phone: {type: text, personal: true}\n      city: {type: text}\n      name: {type: text, personal: true}\n",
			table: "p", want: []string{"phone", "name"},
		},
		{
			name:  "personal false is not personal",
			yaml:  "tables:\n  p:\n    primary_key: [id]\n    columns:\n      id: {type: text}\n      name: {type: text, personal: false}\n",
			table: "p", want: nil,
		},
		{
			name:  "unknown table has none",
			yaml:  "tables:\n  p:\n    primary_key: [id]\n    columns:\n      id: {type: text}\n",
			table: "q", want: nil,
		},
		{
			name: "personal must be a boolean",
			yaml: "tables:\n  p:\n    primary_key: [id]\n    columns:\n      id: {type: text}\n      name: {type: text, personal: yes please}\n",
			err:  "x.yaml:6: table p: column name: personal must be true or false",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := store.LoadCatalog(fstest.MapFS{"x.yaml": {Data: []byte(tt.yaml)}})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.PersonalColumns(tt.table); !slices.Equal(got, tt.want) {
				t.Fatalf("PersonalColumns(%s) = %v, want %v", tt.table, got, tt.want)
			}
		})
	}
}

func TestShippedCatalogMarksPeoplePersonal(t *testing.T) {
	c, err := store.LoadCatalog(os.DirFS("../facts"))
	if err != nil {
		t.Fatal(err)
	}
	for table, cols := range map[string][]string{
		"fh_persons":       {"name", "social_security_city", "employment_valid_from"},
		"benefit_partners": {"legal_name", "tax_id"},
		"mdf_invoices":     {"tax_id"},
	} {
		got := c.PersonalColumns(table)
		for _, col := range cols {
			if !slices.Contains(got, col) {
				t.Errorf("%s.%s is not marked personal (personal columns: %v)", table, col, got)
			}
		}
	}
}
