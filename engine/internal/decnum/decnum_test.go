package decnum

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"integer", "500", "500", true},
		{"two places", "500.00", "500", true},
		{"negative", "-12.50", "-12.5", true},
		{"plus sign", "+1.5", "1.5", true},
		{"tiny", "0.10000000000000000001", "0.10000000000000000001", true},
		{"exponent", "1e3", "", false},
		{"leading point", ".5", "", false},
		{"trailing point", "5.", "", false},
		{"spaces", " 5", "", false},
		{"empty", "", "", false},
		{"words", "ten", "", false},
		{"too many digits", strings.Repeat("9", MaxDigits+1), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("Parse(%q) error = %v, want ok %v", tt.in, err, tt.ok)
			}
			if tt.ok && String(d) != tt.want {
				t.Fatalf("String(Parse(%q)) = %q, want %q", tt.in, String(d), tt.want)
			}
		})
	}
}

func TestParseNumberAcceptsExponents(t *testing.T) {
	d, err := ParseNumber("1.5e3")
	if err != nil || String(d) != "1500" {
		t.Fatalf("got %v %v", d, err)
	}
	if _, err := ParseNumber("1e99999"); err == nil {
		t.Fatal("a huge exponent must be refused")
	}
}

func TestStringIgnoresPackageGlobals(t *testing.T) {
	d := decimal.RequireFromString("1234.5600")
	if got := String(d); got != "1234.56" {
		t.Fatalf("String = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "-1.25", "1e3", ".5", "99999999999999999999.000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(String(d))
		if err != nil || !back.Equal(d) {
			t.Fatalf("%q parsed to %s, which does not parse back equal (%v)", s, String(d), err)
		}
	})
}
