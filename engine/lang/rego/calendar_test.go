package rego

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	oparego "github.com/open-policy-agent/opa/v1/rego"

	"arbiter/engine/lang"
)

// calendarInput is a two-year excerpt of calendar.prc_workdays around National Day 2025 and New Year 2026.
const calendarInput = `{"cal": {
	"weekend": ["Saturday", "Sunday"],
	"years": {
		"2025": {"holidays": ["2025-10-01", "2025-10-02", "2025-10-03", "2025-10-06", "2025-10-07", "2025-10-08"],
		         "makeup_workdays": ["2025-09-28", "2025-10-11"]},
		"2026": {"holidays": ["2026-01-01", "2026-01-02", "2026-01-03"], "makeup_workdays": ["2026-01-04"]}
	}
}}`

func evalCalendar(t *testing.T, query, in string, strict bool) (any, error) {
	t.Helper()
	pq, err := oparego.New(append([]func(*oparego.Rego){oparego.Query(query), oparego.StrictBuiltinErrors(strict)}, Options()...)...).
		PrepareForEval(context.Background())
	if err != nil {
		t.Fatalf("prepare %s: %v", query, err)
	}
	rs, err := pq.Eval(context.Background(), oparego.EvalInput(input(t, in)))
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, nil
	}
	return rs[0].Expressions[0].Value, nil
}

func TestCalendarBuiltins(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  string // JSON
	}{
		{"Beijing date of a UTC timestamp", `cal.beijing_date("2024-12-31T16:00:00Z")`, `"2025-01-01"`},
		{"Beijing date a second earlier", `cal.beijing_date("2024-12-31T15:59:59Z")`, `"2024-12-31"`},
		{"Beijing date of nanoseconds", `cal.beijing_date(time.parse_rfc3339_ns("2024-12-31T16:00:00Z"))`, `"2025-01-01"`},
		{"Beijing time", `cal.beijing_time("2025-01-31T16:30:00.25Z")`, `"2025-02-01T00:30:00+08:00"`},
		{"Beijing time of nanoseconds", `cal.beijing_time(0)`, `"1970-01-01T08:00:00+08:00"`},
		{"Beijing instant", `cal.beijing_instant("2025-01-01") == time.parse_rfc3339_ns("2024-12-31T16:00:00Z")`, `true`},
		{"add days", `cal.add_days("2024-12-30", 3)`, `"2025-01-02"`},
		{"subtract days", `cal.add_days("2024-03-01", -2)`, `"2024-02-28"`},
		{"add days to nanoseconds is n x 24 h", `cal.add_days(time.parse_rfc3339_ns("2025-01-31T16:30:00Z"), 2) - time.parse_rfc3339_ns("2025-01-31T16:30:00Z")`, `172800000000000`},
		{"add months clamps a day", `cal.add_months("2024-11-30", 3)`, `"2025-02-28"`},
		{"add months to nanoseconds", `cal.beijing_time(cal.add_months(time.parse_rfc3339_ns("2025-01-31T15:59:59Z"), 1))`, `"2025-02-28T23:59:59+08:00"`},
		{"months later rolls over (CONV-6)", `cal.months_later("2025-11-30", 3)`, `"2026-03-01"`},
		{"quarter start", `cal.quarter_start("2025-06-30")`, `"2025-04-01"`},
		{"quarter", `cal.quarter("2025-08-15")`, `3`},
		{"year", `cal.year("2025-08-15")`, `2025`},
		{"make-up Sunday works", `cal.is_working_day(input.cal, "2025-09-28")`, `true`},
		{"National Day rests", `cal.is_working_day(input.cal, "2025-10-08")`, `false`},
		{"an ordinary Saturday rests", `cal.is_working_day(input.cal, "2025-10-18")`, `false`},
		{"count around National Day", `cal.working_days(input.cal, "2025-09-26", "2025-10-13")`, `7`},
		{"count of an empty range", `cal.working_days(input.cal, "2025-10-13", "2025-09-26")`, `0`},
		{"five working days after", `cal.add_working_days(input.cal, "2025-09-26", 5)`, `"2025-10-10"`},
		{"across New Year", `cal.add_working_days(input.cal, "2025-12-29", 5)`, `"2026-01-06"`},
		{"working days before", `cal.add_working_days(input.cal, "2025-10-13", -2)`, `"2025-10-10"`},
		{"covers published years", `cal.covers(input.cal, "2025-12-01", "2026-12-31")`, `true`},
		{"does not cover 2027", `cal.covers(input.cal, "2026-12-01", "2027-01-02")`, `false`},
		{"an empty range is covered", `cal.covers(input.cal, "2030-01-02", "2030-01-01")`, `true`},
		{"can add within published years", `cal.can_add_working_days(input.cal, "2025-01-03", -2)`, `true`},
		{"cannot add into 2024", `cal.can_add_working_days(input.cal, "2025-01-03", -3)`, `false`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := evalCalendar(t, tc.query, calendarInput, true)
			if err != nil {
				t.Fatalf("%s: %v", tc.query, err)
			}
			js, _ := json.Marshal(got)
			if string(js) != tc.want {
				t.Errorf("%s = %s, want %s", tc.query, js, tc.want)
			}
		})
	}
}

func TestCalendarErrors(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  string
	}{
		{"not a day", `cal.add_days(input.d, 1)`, `cal.add_days: operand 1: "2025-02-30" is not a date YYYY-MM-DD`},
		{"a timestamp where a day is due", `cal.quarter_start(input.ts)`, `cal.quarter_start: operand 1: "2025-03-01T00:00:00Z" is not a date`},
		{"a fractional count", `cal.add_days("2025-03-01", input.half)`, "cal.add_days: operand 2: 1.5 is not a whole number"},
		{"not a timestamp", `cal.beijing_date(input.d)`, `cal.beijing_date: operand 1: "2025-02-30" is not an RFC 3339 timestamp`},
		{"an unpublished year", `cal.is_working_day(input.cal, "2027-01-04")`, "cal.is_working_day: the working-day calendar does not publish 2027"},
		{"a count reaching 2024", `cal.working_days(input.cal, "2024-12-30", "2025-01-06")`, "cal.working_days: the working-day calendar does not publish 2024"},
		{"a step into 2024", `cal.add_working_days(input.cal, "2025-01-03", -3)`, "cal.add_working_days: the working-day calendar does not publish 2024"},
		{"a bad table", `cal.working_days(input.bad, "2025-01-01", "2025-01-06")`, "cal.working_days: operand 1: the calendar table's weekend lists Sat"},
		{"an instant beyond nanoseconds", `cal.beijing_instant("2300-01-01")`, "cal.beijing_instant: 2299-12-31T16:00:00Z is outside the nanosecond range"},
		{"months beyond nanoseconds", `cal.add_months(0, 4000)`, "cal.add_months: 2303-05-01T00:00:00Z is outside the nanosecond range"},
		{"days beyond four-digit years", `cal.add_days("9999-12-31", 1)`, "cal.add_days: year 10000 is outside 0000-9999"},
		{"a bad day against the table", `cal.add_working_days(input.cal, "2025-13-01", 1)`, `cal.add_working_days: operand 2: "2025-13-01" is not a date`},
	}
	in := strings.TrimSuffix(calendarInput, "}") + `, "d": "2025-02-30", "ts": "2025-03-01T00:00:00Z", "half": 1.5,
		"bad": {"weekend": ["Sat"], "years": {}}}`
	for _, tc := range tests {
		for _, strict := range []bool{true, false} {
			name := tc.name
			if !strict {
				name += " without strict errors"
			}
			t.Run(name, func(t *testing.T) {
				got, err := evalCalendar(t, tc.query, in, strict)
				if err == nil {
					t.Fatalf("%s = %v, want an error containing %q", tc.query, got, tc.want)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: error %q, want it to contain %q", tc.query, err, tc.want)
				}
			})
		}
	}
}

func TestCalendarTypeCheck(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  string
	}{
		{"number for a day", `cal.quarter_start(20250301)`, "cal.quarter_start"},
		{"boolean for a day or instant", `cal.add_days(true, 1)`, "cal.add_days"},
		{"string count", `cal.add_days("2025-03-01", "1")`, "cal.add_days"},
		{"string for the table", `cal.working_days("prc", "2025-03-01", "2025-03-08")`, "cal.working_days"},
		{"missing count", `cal.add_working_days({}, "2025-03-01")`, "cal.add_working_days"},
		{"boolean instant", `cal.beijing_date(true)`, "cal.beijing_date"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oparego.New(append([]func(*oparego.Rego){oparego.Query(tc.query)}, Options()...)...).PrepareForEval(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "rego_type_error") {
				t.Errorf("prepare %s: %v, want a type error naming %s", tc.query, err, tc.want)
			}
		})
	}
}

// A cached table must never answer for a different table value.
func TestCalendarTableCache(t *testing.T) {
	other := strings.Replace(calendarInput, `"2025-10-08"`, `"2025-10-09"`, 1)
	for i := 0; i < 3; i++ {
		for _, tc := range []struct {
			in   string
			want bool
		}{{calendarInput, false}, {other, true}} {
			got, err := evalCalendar(t, `cal.is_working_day(input.cal, "2025-10-08")`, tc.in, true)
			if err != nil || got != tc.want {
				t.Fatalf("round %d: is_working_day = %v, %v; want %v", i, got, err, tc.want)
			}
		}
	}
	v, err := ast.InterfaceToValue(input(t, calendarInput))
	if err != nil {
		t.Fatal(err)
	}
	term := ast.NewTerm(v.(ast.Object).Get(ast.StringTerm("cal")).Value)
	a, errA := workdaysArg(term)
	b, errB := workdaysArg(term)
	if errA != nil || errB != nil || a != b {
		t.Errorf("the same table value parsed twice: %p %p (%v, %v)", a, b, errA, errB)
	}
}

// Decisions over the same rule-table versions (one RulesKey) parse the calendar table once.
func TestCalendarTableCachedAcrossDecisions(t *testing.T) {
	fsys := fstest.MapFS{"p/policy.rego": {Data: []byte(`package p

decision := {"outputs": {"due": cal.add_working_days(input.rules.calendar, input.request.day, 5)}}
`)}}
	prog, problems := Compiler{}.Compile(context.Background(), lang.Source{FS: fsys, Dir: "p", Entrypoint: "data.p.decision"})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	table := input(t, calendarInput).(map[string]any)["cal"]
	doc := lang.Doc{Request: map[string]any{"day": "2025-09-26"}, Facts: map[string]any{},
		Rules: map[string]any{"calendar": table}, RulesKey: "t|calendar.prc_workdays@test", Now: time.Now()}
	workdaysCache.Lock()
	workdaysCache.m = nil
	workdaysCache.Unlock()
	for i := 0; i < 3; i++ {
		r, err := prog.Eval(context.Background(), doc)
		if err != nil {
			t.Fatal(err)
		}
		if r.Outputs["due"] != "2025-10-10" {
			t.Fatalf("due = %v, want 2025-10-10", r.Outputs["due"])
		}
	}
	workdaysCache.Lock()
	n := len(workdaysCache.m)
	workdaysCache.Unlock()
	if n != 1 {
		t.Errorf("three decisions over one RulesKey cached %d parsed tables, want 1", n)
	}
}
