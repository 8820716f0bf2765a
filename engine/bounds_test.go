package engine

import (
	"strings"
	"testing"
	"time"
)

func TestFormatBounds(t *testing.T) {
	formats := map[string]func(any) error{}
	for _, f := range schemaFormats {
		formats[f.Name] = f.Validate
	}
	for _, tt := range []struct {
		name, format, value string
		ok                  bool
	}{
		{"money at 18 integer digits", "money", strings.Repeat("9", 18) + ".99", true},
		{"money past 18 integer digits", "money", "1" + strings.Repeat("0", 18), false},
		{"money of 100k digits", "money", "1" + strings.Repeat("0", 100_000), false},
		{"money with 3 places", "money", "1.005", false},
		{"decimal at 18 places", "decimal", "-0." + strings.Repeat("1", 18), true},
		{"decimal past 18 places", "decimal", "0." + strings.Repeat("1", 19), false},
		{"decimal past 18 integer digits", "decimal", "-" + strings.Repeat("9", 19), false},
		{"decimal exponent", "decimal", "1e999999999", false},
		{"first supported date", "date", "1900-01-01", true},
		{"last supported date", "date", "2199-12-31", true},
		{"date past the range", "date", "2200-01-01", false},
		{"date past 2262", "date", "2300-06-01", false},
		{"date before the range", "date", "1899-12-31", false},
		{"year zero", "date", "0000-01-01", false},
		{"date-time in range", "date-time", "2199-12-31T23:59:59Z", true},
		{"date-time past 2262", "date-time", "2300-01-01T00:00:00+08:00", false},
		{"date-time year one", "date-time", "0001-01-01T00:00:00Z", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := formats[tt.format](tt.value)
			if (err == nil) != tt.ok {
				t.Fatalf("%s %.40q: got %v, want ok=%v", tt.format, tt.value, err, tt.ok)
			}
		})
	}
}

func TestCheckAsOf(t *testing.T) {
	for _, tt := range []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"zero instant", time.Time{}, false},
		{"1900", MinTime, true},
		{"just before 2200", MaxTime.Add(-time.Nanosecond), true},
		{"2200", MaxTime, false},
		{"past 2262", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckAsOf(tt.at); (err == nil) != tt.ok {
				t.Fatalf("CheckAsOf(%s) = %v, want ok=%v", tt.at, err, tt.ok)
			}
		})
	}
}
