package calendar

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"arbiter/internal/strictyaml"
)

func date(t *testing.T, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// shipped parses a version of the shipped calendar.prc_workdays table the way the engine loads it.
func shipped(t *testing.T, version string) *Workdays {
	t.Helper()
	raw, err := os.ReadFile("../../../rules/calendar/prc_workdays/" + version + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Data yaml.Node `yaml:"data"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	data, err := strictyaml.Value(&file.Data)
	if err != nil {
		t.Fatal(err)
	}
	w, err := ParseWorkdays(data)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"a day", "2025-03-01", true},
		{"leap day", "2024-02-29", true},
		{"no such day", "2025-02-30", false},
		{"not a leap year", "2025-02-29", false},
		{"single-digit month", "2025-3-01", false},
		{"a timestamp", "2025-03-01T00:00:00+08:00", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDate(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseDate(%q) = %v, %v; want ok=%v", tc.in, d, err, tc.ok)
			}
			if tc.ok && d.String() != tc.in {
				t.Errorf("ParseDate(%q).String() = %s", tc.in, d)
			}
		})
	}
}

func TestBeijing(t *testing.T) {
	tests := []struct {
		name, instant, date, text string
	}{
		{"last second of a Beijing day in UTC", "2024-12-31T15:59:59Z", "2024-12-31", "2024-12-31T23:59:59+08:00"},
		{"Beijing midnight in UTC", "2024-12-31T16:00:00Z", "2025-01-01", "2025-01-01T00:00:00+08:00"},
		{"an instant written in Beijing time", "2025-03-01T00:00:00+08:00", "2025-03-01", "2025-03-01T00:00:00+08:00"},
		{"fractions are cut to the second", "2025-03-01T01:02:03.999+08:00", "2025-03-01", "2025-03-01T01:02:03+08:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			at, err := time.Parse(time.RFC3339Nano, tc.instant)
			if err != nil {
				t.Fatal(err)
			}
			if got := DateOf(at).String(); got != tc.date {
				t.Errorf("DateOf(%s) = %s, want %s", tc.instant, got, tc.date)
			}
			if got := BeijingTime(at); got != tc.text {
				t.Errorf("BeijingTime(%s) = %s, want %s", tc.instant, got, tc.text)
			}
			if got := DateOf(at).Instant(); !got.Equal(date(t, tc.date).Instant()) || got.After(at) || at.Sub(got) >= 24*time.Hour {
				t.Errorf("DateOf(%s).Instant() = %s, want the day's Beijing midnight", tc.instant, got)
			}
		})
	}
	if got := date(t, "2025-01-01").Instant().UTC().Format(time.RFC3339); got != "2024-12-31T16:00:00Z" {
		t.Errorf("Instant of 2025-01-01 = %s, want 2024-12-31T16:00:00Z", got)
	}
}

func TestDateArithmetic(t *testing.T) {
	tests := []struct {
		name string
		fn   func(Date) Date
		in   string
		want string
	}{
		{"add days across a year", func(d Date) Date { return d.AddDays(3) }, "2024-12-30", "2025-01-02"},
		{"subtract days across a leap day", func(d Date) Date { return d.AddDays(-2) }, "2024-03-01", "2024-02-28"},
		{"months clamp to a shorter month", func(d Date) Date { return d.AddMonths(3) }, "2024-11-30", "2025-02-28"},
		{"months clamp to a leap February", func(d Date) Date { return d.AddMonths(1) }, "2024-01-31", "2024-02-29"},
		{"months backwards clamp", func(d Date) Date { return d.AddMonths(-1) }, "2025-03-31", "2025-02-28"},
		{"months keep an existing day", func(d Date) Date { return d.AddMonths(12) }, "2024-02-15", "2025-02-15"},
		{"CONV-6 rolls to the next month's first", func(d Date) Date { return d.MonthsLater(3) }, "2025-11-30", "2026-03-01"},
		{"CONV-6 from 31 January", func(d Date) Date { return d.MonthsLater(1) }, "2025-01-31", "2025-03-01"},
		{"CONV-6 leap year keeps 29 February", func(d Date) Date { return d.MonthsLater(1) }, "2024-01-29", "2024-02-29"},
		{"CONV-6 an existing day", func(d Date) Date { return d.MonthsLater(3) }, "2025-04-10", "2025-07-10"},
		{"quarter start of a quarter's last day", func(d Date) Date { return d.QuarterStart() }, "2025-06-30", "2025-04-01"},
		{"quarter start of the first day", func(d Date) Date { return d.QuarterStart() }, "2025-10-01", "2025-10-01"},
		{"quarter start in Q1", func(d Date) Date { return d.QuarterStart() }, "2025-03-31", "2025-01-01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.fn(date(t, tc.in)).String(); got != tc.want {
				t.Errorf("%s -> %s, want %s", tc.in, got, tc.want)
			}
		})
	}
	if q := date(t, "2025-08-15").Quarter(); q != 3 {
		t.Errorf("Quarter(2025-08-15) = %d, want 3", q)
	}
	if n := date(t, "2024-12-30").DaysUntil(date(t, "2025-03-01")); n != 61 {
		t.Errorf("DaysUntil = %d, want 61", n)
	}
}

func TestAddMonthsInstant(t *testing.T) {
	at := time.Date(2025, 1, 31, 23, 59, 59, 0, Beijing)
	if got := AddDays(at, 3).Sub(at); got != 72*time.Hour {
		t.Errorf("AddDays(3) moved %s, want 72h", got)
	}
	if got := BeijingTime(AddMonths(at, 1)); got != "2025-02-28T23:59:59+08:00" {
		t.Errorf("AddMonths = %s", got)
	}
	// 2025-01-31T16:30Z is already 1 February in Beijing: months count from the Beijing day.
	utc := time.Date(2025, 1, 31, 16, 30, 0, 0, time.UTC)
	if got := BeijingTime(AddMonths(utc, 1)); got != "2025-03-01T00:30:00+08:00" {
		t.Errorf("AddMonths of a UTC instant = %s", got)
	}
}

func TestWorkingDays(t *testing.T) {
	w := shipped(t, "2026")
	days := []struct {
		name    string
		day     string
		working bool
	}{
		{"an ordinary Monday", "2025-03-03", true},
		{"an ordinary Saturday", "2025-03-08", false},
		{"New Year's Day 2025", "2025-01-01", false},
		{"Spring Festival 2025 make-up Sunday", "2025-01-26", true},
		{"Spring Festival 2025 eve, a Tuesday", "2025-01-28", false},
		{"Spring Festival 2025 make-up Saturday", "2025-02-08", true},
		{"National Day 2025 make-up Sunday", "2025-09-28", true},
		{"National Day 2025 Wednesday", "2025-10-01", false},
		{"National Day 2025 last holiday, a Wednesday", "2025-10-08", false},
		{"National Day 2025 make-up Saturday", "2025-10-11", true},
		{"Spring Festival 2026 make-up Saturday", "2026-02-14", true},
		{"Spring Festival 2026 Monday", "2026-02-23", false},
		{"after Spring Festival 2026", "2026-02-24", true},
		{"New Year 2026 Friday", "2026-01-02", false},
		{"New Year 2026 make-up Sunday", "2026-01-04", true},
		{"a 2024 National Day make-up Saturday", "2024-10-12", true},
	}
	for _, tc := range days {
		t.Run(tc.name, func(t *testing.T) {
			got, err := w.IsWorkingDay(date(t, tc.day))
			if err != nil || got != tc.working {
				t.Errorf("IsWorkingDay(%s) = %v, %v; want %v", tc.day, got, err, tc.working)
			}
		})
	}

	counts := []struct {
		name     string
		from, to string
		want     int
	}{
		{"an ordinary week", "2025-03-03", "2025-03-10", 5},
		{"around National Day 2025", "2025-09-26", "2025-10-13", 7},
		{"Spring Festival 2025 fortnight", "2025-01-25", "2025-02-09", 6},
		{"across New Year into 2026 with its make-up Sunday", "2025-12-29", "2026-01-06", 5},
		{"empty", "2025-03-03", "2025-03-03", 0},
		{"reversed", "2025-03-10", "2025-03-03", 0},
	}
	for _, tc := range counts {
		t.Run("count "+tc.name, func(t *testing.T) {
			got, err := w.Count(date(t, tc.from), date(t, tc.to))
			if err != nil || got != tc.want {
				t.Errorf("Count(%s, %s) = %d, %v; want %d", tc.from, tc.to, got, err, tc.want)
			}
		})
	}

	adds := []struct {
		name string
		from string
		n    int
		want string
	}{
		{"five after a Friday before National Day", "2025-09-26", 5, "2025-10-10"},
		{"five after New Year's week", "2025-12-29", 5, "2026-01-06"},
		{"five before, after Spring Festival 2026", "2026-03-02", -5, "2026-02-24"},
		{"five before, back into 2024", "2025-01-06", -5, "2024-12-27"},
		{"one after Spring Festival 2025 eve", "2025-01-27", 1, "2025-02-05"},
		{"zero is the day itself", "2025-10-01", 0, "2025-10-01"},
		{"one after a make-up Saturday", "2025-10-11", 1, "2025-10-13"},
	}
	for _, tc := range adds {
		t.Run("add "+tc.name, func(t *testing.T) {
			got, err := w.Add(date(t, tc.from), tc.n)
			if err != nil || got.String() != tc.want {
				t.Errorf("Add(%s, %d) = %s, %v; want %s", tc.from, tc.n, got, err, tc.want)
			}
			if !w.CanAdd(date(t, tc.from), tc.n) {
				t.Errorf("CanAdd(%s, %d) = false", tc.from, tc.n)
			}
		})
	}
}

func TestUnpublishedYears(t *testing.T) {
	w := shipped(t, "2025") // publishes 2024 and 2025 only
	tests := []struct {
		name string
		run  func() error
	}{
		{"a day of 2026", func() error { _, err := w.IsWorkingDay(date(t, "2026-01-05")); return err }},
		{"a count ending in 2026", func() error { _, err := w.Count(date(t, "2025-12-29"), date(t, "2026-01-06")); return err }},
		{"a count starting in 2023", func() error { _, err := w.Count(date(t, "2023-12-29"), date(t, "2024-01-06")); return err }},
		{"adding into 2026", func() error { _, err := w.Add(date(t, "2025-12-29"), 5); return err }},
		{"subtracting into 2023", func() error { _, err := w.Add(date(t, "2024-01-03"), -5); return err }},
		{"zero days from a 2026 day", func() error { _, err := w.Add(date(t, "2026-03-02"), 0); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if !errors.Is(err, ErrNotPublished) {
				t.Fatalf("error %v, want ErrNotPublished", err)
			}
		})
	}
	if w.Covers(date(t, "2025-12-29"), date(t, "2026-01-06")) {
		t.Error("Covers a range ending in 2026")
	}
	if !w.Covers(date(t, "2025-12-20"), date(t, "2026-01-01")) {
		t.Error("Covers: [2025-12-20, 2026-01-01) lies in 2025 only")
	}
	if w.CanAdd(date(t, "2024-01-03"), -5) {
		t.Error("CanAdd reaches into 2023")
	}
	if !w.CanAdd(date(t, "2024-01-03"), -1) {
		t.Error("CanAdd: one working day before 2024-01-03 is 2024-01-02")
	}
	if got := w.Years(); len(got) != 2 || got[0] != 2024 || got[1] != 2025 {
		t.Errorf("Years = %v", got)
	}
}

func TestParseWorkdaysErrors(t *testing.T) {
	year := func(h, m []any) map[string]any { return map[string]any{"holidays": h, "makeup_workdays": m} }
	tests := []struct {
		name  string
		table any
		want  string
	}{
		{"not an object", []any{}, "must be an object"},
		{"no weekend", map[string]any{"years": map[string]any{}}, "weekend must be a list"},
		{"bad weekday", map[string]any{"weekend": []any{"Sat"}, "years": map[string]any{}}, "Sat, which is not a weekday name"},
		{"no years", map[string]any{"weekend": []any{}}, "years must be an object"},
		{"bad year key", map[string]any{"weekend": []any{}, "years": map[string]any{"25": year(nil, nil)}}, `year "25"`},
		{"missing makeup list", map[string]any{"weekend": []any{}, "years": map[string]any{"2025": map[string]any{"holidays": []any{}}}}, "needs a list makeup_workdays"},
		{"bad date", map[string]any{"weekend": []any{}, "years": map[string]any{"2025": year([]any{"2025-02-30"}, []any{})}}, `"2025-02-30" is not a date`},
		{"date of another year", map[string]any{"weekend": []any{}, "years": map[string]any{"2025": year([]any{"2024-10-01"}, []any{})}}, "lists 2024-10-01 under year 2025"},
		{"holiday and make-up day", map[string]any{"weekend": []any{}, "years": map[string]any{"2025": year([]any{"2025-10-01"}, []any{"2025-10-01"})}}, "both as a holiday and as a make-up"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseWorkdays(tc.table)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseWorkdays: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
