package cel

import (
	"strings"
	"testing"
	"time"

	celgo "cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types/ref"
)

func calendarEnv(t testing.TB) *celgo.Env {
	t.Helper()
	env, err := celgo.NewEnv(
		calendarFunctions(),
		celgo.Variable("rules", celgo.MapType(celgo.StringType, celgo.DynType)),
		celgo.Variable("now", celgo.TimestampType),
		celgo.Variable("x", celgo.DynType),
	)
	if err != nil {
		t.Fatalf("NewEnv: %v", err)
	}
	return env
}

// calendarTable is a two-year excerpt of calendar.prc_workdays around National Day 2025 and New Year 2026.
func calendarTable() map[string]any {
	return map[string]any{
		"weekend": []any{"Saturday", "Sunday"},
		"years": map[string]any{
			"2025": map[string]any{
				"holidays":        []any{"2025-10-01", "2025-10-02", "2025-10-03", "2025-10-06", "2025-10-07", "2025-10-08"},
				"makeup_workdays": []any{"2025-09-28", "2025-10-11"},
			},
			"2026": map[string]any{
				"holidays":        []any{"2026-01-01", "2026-01-02", "2026-01-03"},
				"makeup_workdays": []any{"2026-01-04"},
			},
		},
	}
}

func evalCEL(t *testing.T, env *celgo.Env, expr string, vars map[string]any) (ref.Val, error) {
	t.Helper()
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		t.Fatalf("compile %s: %v", expr, iss.Err())
	}
	prg, err := env.Program(ast)
	if err != nil {
		t.Fatalf("program %s: %v", expr, err)
	}
	out, _, err := prg.Eval(vars)
	return out, err
}

func calendarVars() map[string]any {
	return map[string]any{
		"rules": map[string]any{"calendar": calendarTable(), "bad": map[string]any{"weekend": []any{"Sat"}, "years": map[string]any{}}},
		"now":   time.Date(2024, 12, 31, 16, 0, 0, 0, time.UTC),
		"x":     "2025-02-30",
	}
}

func TestCalendarFunctions(t *testing.T) {
	env := calendarEnv(t)
	tests := []struct {
		name string
		expr string
		want any
	}{
		{"Beijing date of now", `cal.beijing_date(now)`, "2025-01-01"},
		{"Beijing date a second earlier", `cal.beijing_date(now - duration("1s"))`, "2024-12-31"},
		{"Beijing time", `cal.beijing_time(timestamp("2025-01-31T16:30:00.25Z"))`, "2025-02-01T00:30:00+08:00"},
		{"Beijing instant", `cal.beijing_instant("2025-01-01") == now`, true},
		{"add days", `cal.add_days("2024-12-30", 3)`, "2025-01-02"},
		{"add days to an instant", `cal.add_days(now, -2) == now - duration("48h")`, true},
		{"add months to a day", `cal.add_months("2024-11-30", 3)`, "2025-02-28"},
		{"add months to an instant", `cal.beijing_time(cal.add_months(timestamp("2025-01-31T15:59:59Z"), 1))`, "2025-02-28T23:59:59+08:00"},
		{"months later (CONV-6)", `cal.months_later("2025-11-30", 3)`, "2026-03-01"},
		{"quarter start", `cal.quarter_start("2025-06-30")`, "2025-04-01"},
		{"quarter", `cal.quarter("2025-08-15")`, int64(3)},
		{"year", `cal.year("2025-08-15")`, int64(2025)},
		{"make-up Sunday works", `cal.is_working_day(rules.calendar, "2025-09-28")`, true},
		{"National Day rests", `cal.is_working_day(rules.calendar, "2025-10-08")`, false},
		{"count around National Day", `cal.working_days(rules.calendar, "2025-09-26", "2025-10-13")`, int64(7)},
		{"five working days after", `cal.add_working_days(rules.calendar, "2025-09-26", 5)`, "2025-10-10"},
		{"across New Year", `cal.add_working_days(rules.calendar, "2025-12-29", 5)`, "2026-01-06"},
		{"working days before", `cal.add_working_days(rules.calendar, "2025-10-13", -2)`, "2025-10-10"},
		{"covers", `cal.covers(rules.calendar, "2025-12-01", "2027-01-01")`, true},
		{"does not cover 2027", `cal.covers(rules.calendar, "2026-12-01", "2027-01-02")`, false},
		{"cannot add into 2024", `cal.can_add_working_days(rules.calendar, "2025-01-03", -3)`, false},
		{"a table written in CEL", `cal.is_working_day({"weekend": ["Sunday"], "years": {"2025": {"holidays": [], "makeup_workdays": []}}}, "2025-03-08")`, true},
		{"earlier spelling date_of", `date_of(now)`, "2025-01-01"},
		{"earlier spelling beijing_date", `beijing_date("2025-01-01") == now`, true},
		{"earlier spelling add_months", `date_of(add_months(beijing_date("2024-11-30"), 3))`, "2025-02-28"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := evalCEL(t, env, tc.expr, calendarVars())
			if err != nil {
				t.Fatalf("%s: %v", tc.expr, err)
			}
			if out.Value() != tc.want {
				t.Errorf("%s = %v (%T), want %v", tc.expr, out.Value(), out.Value(), tc.want)
			}
		})
	}
}

func TestCalendarFunctionErrors(t *testing.T) {
	env := calendarEnv(t)
	tests := []struct {
		name string
		expr string
		want string
	}{
		{"not a day", `cal.add_days(x, 1)`, `cal.add_days: operand 1: "2025-02-30" is not a date YYYY-MM-DD`},
		{"a timestamp where a day is due", `cal.quarter("2025-03-01T00:00:00Z")`, `cal.quarter: operand 1: "2025-03-01T00:00:00Z" is not a date`},
		{"an unpublished year", `cal.is_working_day(rules.calendar, "2027-01-04")`, "cal.is_working_day: the working-day calendar does not publish 2027"},
		{"a count reaching 2024", `cal.working_days(rules.calendar, "2024-12-30", "2025-01-06")`, "cal.working_days: the working-day calendar does not publish 2024"},
		{"a step into 2024", `cal.add_working_days(rules.calendar, "2025-01-03", -3)`, "cal.add_working_days: the working-day calendar does not publish 2024"},
		{"a bad table", `cal.working_days(rules.bad, "2025-01-01", "2025-01-06")`, "cal.working_days: operand 1: the calendar table's weekend lists Sat"},
		{"a huge count", `cal.add_days("2025-01-01", 9000000000)`, "cal.add_days: operand 2: want a whole number"},
		{"months beyond timestamps", `cal.add_months(now, 1000000)`, "cal.add_months: 85358 is outside the timestamp years"},
		{"months beyond four-digit years", `cal.months_later("9999-12-31", 1)`, "cal.months_later: year 10000 is outside 0000-9999"},
		{"a bad instant day", `cal.beijing_instant("2025-1-1")`, `cal.beijing_instant: operand 1: "2025-1-1" is not a date`},
		{"a string through dyn where an instant is due", `cal.beijing_time(x)`, "no such overload"},
		{"a string through dyn for months on an instant", `date_of(add_months(x, 1))`, "no such overload"},
		{"an int through dyn where a day is due", `cal.quarter(dyn(3))`, "no such overload"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := evalCEL(t, env, tc.expr, calendarVars())
			if err == nil {
				t.Fatalf("%s = %v, want an error containing %q", tc.expr, out, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: error %q, want it to contain %q", tc.expr, err, tc.want)
			}
		})
	}
}

func TestCalendarCheckErrors(t *testing.T) {
	env := calendarEnv(t)
	for _, expr := range []string{
		`cal.add_days(20250301, 1)`,
		`cal.add_days("2025-03-01", "1")`,
		`cal.working_days("prc", "2025-03-01", "2025-03-08")`,
		`cal.add_working_days(rules.calendar, "2025-03-01")`,
		`cal.beijing_date("2025-03-01")`,
		`cal.beijing_time("2025-03-01T00:00:00Z")`,
	} {
		t.Run(expr, func(t *testing.T) {
			if _, iss := env.Compile(expr); iss.Err() == nil {
				t.Errorf("%s type-checked, want an error", expr)
			}
		})
	}
}

// A cached table must never answer for a different table value.
func TestCalendarTableCache(t *testing.T) {
	env := calendarEnv(t)
	other := calendarTable()
	other["years"].(map[string]any)["2025"].(map[string]any)["holidays"] = []any{"2025-10-09"}
	shared := calendarVars()
	for i := 0; i < 3; i++ {
		for _, tc := range []struct {
			vars map[string]any
			want bool
		}{
			{shared, false},
			{map[string]any{"rules": map[string]any{"calendar": other}}, true},
			{calendarVars(), false},
		} {
			out, err := evalCEL(t, env, `cal.is_working_day(rules.calendar, "2025-10-08")`, tc.vars)
			if err != nil || out.Value() != tc.want {
				t.Fatalf("round %d: is_working_day = %v, %v; want %v", i, out, err, tc.want)
			}
		}
	}
}
