package rego

import (
	"fmt"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/types"

	"arbiter/engine/internal/calendar"
)

var (
	// instant is an RFC 3339 timestamp or nanoseconds since the Unix epoch.
	instant = types.NewAny(types.S, types.N)
	// table is the calendar.prc_workdays rule table as the policy reads it (input.rules.<name>).
	table = types.NewObject(nil, types.NewDynamicProperty(types.S, types.A))
)

// calendarOptions registers the cal.* built-in functions, the Rego face of package calendar.
func calendarOptions() []func(*oparego.Rego) {
	return []func(*oparego.Rego){
		oparego.Function1(decl("cal.beijing_date", "the Beijing calendar day (YYYY-MM-DD) of an instant",
			types.S, types.Named("t", instant)),
			func(_ oparego.BuiltinContext, x *ast.Term) (*ast.Term, error) {
				t, err := instantArg(1, x)
				if err != nil {
					return nil, halt(err)
				}
				return ast.StringTerm(calendar.DateOf(t).String()), nil
			}),
		oparego.Function1(decl("cal.beijing_time", "an instant as Beijing wall-clock text to the second, 2006-01-02T15:04:05+08:00",
			types.S, types.Named("t", instant)),
			func(_ oparego.BuiltinContext, x *ast.Term) (*ast.Term, error) {
				t, err := instantArg(1, x)
				if err != nil {
					return nil, halt(err)
				}
				return ast.StringTerm(calendar.BeijingTime(t)), nil
			}),
		oparego.Function1(decl("cal.beijing_instant", "the first instant (Beijing midnight) of a day, in nanoseconds since the epoch",
			types.N, types.Named("d", types.S)),
			func(_ oparego.BuiltinContext, x *ast.Term) (*ast.Term, error) {
				d, err := dateArg(1, x)
				if err != nil {
					return nil, halt(err)
				}
				r, err := nanos(d.Instant())
				if err != nil {
					return nil, halt(err)
				}
				return r, nil
			}),
		dayOrInstant("cal.add_days",
			"n days after a day (YYYY-MM-DD, giving a day) or an instant in nanoseconds (giving nanoseconds, n x 24 h); before it when n is negative",
			calendar.Date.AddDays, calendar.AddDays),
		dayOrInstant("cal.add_months",
			"n whole months after a day (YYYY-MM-DD, giving a day) or an instant in nanoseconds (giving nanoseconds), in Beijing time, clamped to the end of a shorter month",
			calendar.Date.AddMonths, calendar.AddMonths),
		dateInt("cal.months_later", "CONV-6: the same day n months after d, or the 1st of the following month when that day does not exist",
			calendar.Date.MonthsLater),
		dateFn("cal.quarter_start", "the first day of d's natural quarter", types.S,
			func(d calendar.Date) *ast.Term { return ast.StringTerm(d.QuarterStart().String()) }),
		dateFn("cal.quarter", "d's natural quarter, 1 to 4", types.N,
			func(d calendar.Date) *ast.Term { return ast.IntNumberTerm(d.Quarter()) }),
		dateFn("cal.year", "d's calendar year", types.N,
			func(d calendar.Date) *ast.Term { return ast.IntNumberTerm(d.Year()) }),

		oparego.Function2(decl("cal.is_working_day", "whether d is a PRC working day by the calendar table; an unpublished year is an error",
			types.B, types.Named("table", table), types.Named("d", types.S)),
			func(_ oparego.BuiltinContext, tab, x *ast.Term) (*ast.Term, error) {
				w, err := workdaysArg(tab)
				if err != nil {
					return nil, halt(err)
				}
				d, err := dateArg(2, x)
				if err != nil {
					return nil, halt(err)
				}
				ok, err := w.IsWorkingDay(d)
				if err != nil {
					return nil, halt(err)
				}
				return ast.BooleanTerm(ok), nil
			}),
		tableRange("cal.working_days", "the number of PRC working days in [from, to), 0 when to is not after from; a day in an unpublished year is an error",
			types.N, func(w *calendar.Workdays, from, to calendar.Date) (*ast.Term, error) {
				n, err := w.Count(from, to)
				if err != nil {
					return nil, err
				}
				return ast.IntNumberTerm(n), nil
			}),
		tableRange("cal.covers", "whether the calendar table publishes every year of the days [from, to), so that cal.working_days can count them",
			types.B, func(w *calendar.Workdays, from, to calendar.Date) (*ast.Term, error) {
				return ast.BooleanTerm(w.Covers(from, to)), nil
			}),
		tableStep("cal.add_working_days", "the n-th PRC working day after d (before it when n is negative, d when 0); an unpublished year on the way is an error",
			types.S, func(w *calendar.Workdays, d calendar.Date, n int) (*ast.Term, error) {
				r, err := w.Add(d, n)
				if err != nil {
					return nil, err
				}
				return ast.StringTerm(r.String()), nil
			}),
		tableStep("cal.can_add_working_days", "whether cal.add_working_days(table, d, n) has an answer: every year it needs is published",
			types.B, func(w *calendar.Workdays, d calendar.Date, n int) (*ast.Term, error) {
				return ast.BooleanTerm(w.CanAdd(d, n)), nil
			}),
	}
}

func dayOrInstant(name, description string, onDay func(calendar.Date, int) calendar.Date, onInstant func(time.Time, int) time.Time) func(*oparego.Rego) {
	either := types.NewAny(types.S, types.N)
	return oparego.Function2(decl(name, description, either, types.Named("x", either), types.Named("n", types.N)),
		func(_ oparego.BuiltinContext, x, y *ast.Term) (*ast.Term, error) {
			n, err := intArg(2, y)
			if err != nil {
				return nil, halt(err)
			}
			if _, ok := x.Value.(ast.Number); ok {
				t, err := instantArg(1, x)
				if err != nil {
					return nil, halt(err)
				}
				r, err := nanos(onInstant(t, n))
				if err != nil {
					return nil, halt(err)
				}
				return r, nil
			}
			d, err := dateArg(1, x)
			if err != nil {
				return nil, halt(err)
			}
			r := onDay(d, n)
			if err := r.CheckYear(); err != nil {
				return nil, halt(err)
			}
			return ast.StringTerm(r.String()), nil
		})
}

func dateFn(name, description string, result types.Type, fn func(calendar.Date) *ast.Term) func(*oparego.Rego) {
	return oparego.Function1(decl(name, description, result, types.Named("d", types.S)),
		func(_ oparego.BuiltinContext, x *ast.Term) (*ast.Term, error) {
			d, err := dateArg(1, x)
			if err != nil {
				return nil, halt(err)
			}
			return fn(d), nil
		})
}

func dateInt(name, description string, fn func(calendar.Date, int) calendar.Date) func(*oparego.Rego) {
	return oparego.Function2(decl(name, description, types.S, types.Named("d", types.S), types.Named("n", types.N)),
		func(_ oparego.BuiltinContext, x, y *ast.Term) (*ast.Term, error) {
			d, err := dateArg(1, x)
			if err != nil {
				return nil, halt(err)
			}
			n, err := intArg(2, y)
			if err != nil {
				return nil, halt(err)
			}
			r := fn(d, n)
			if err := r.CheckYear(); err != nil {
				return nil, halt(err)
			}
			return ast.StringTerm(r.String()), nil
		})
}

func tableRange(name, description string, result types.Type, fn func(w *calendar.Workdays, from, to calendar.Date) (*ast.Term, error)) func(*oparego.Rego) {
	return tableCall(decl(name, description, result, types.Named("table", table), types.Named("from", types.S), types.Named("to", types.S)), dateArg, fn)
}

func tableStep(name, description string, result types.Type, fn func(w *calendar.Workdays, d calendar.Date, n int) (*ast.Term, error)) func(*oparego.Rego) {
	return tableCall(decl(name, description, result, types.Named("table", table), types.Named("d", types.S), types.Named("n", types.N)), intArg, fn)
}

// tableCall registers a builtin over the calendar table, a date and a third argument read by third.
func tableCall[A any](f *oparego.Function, third func(int, *ast.Term) (A, error), fn func(*calendar.Workdays, calendar.Date, A) (*ast.Term, error)) func(*oparego.Rego) {
	return oparego.Function3(f, func(_ oparego.BuiltinContext, tab, x, y *ast.Term) (*ast.Term, error) {
		w, err := workdaysArg(tab)
		if err != nil {
			return nil, halt(err)
		}
		d, err := dateArg(2, x)
		if err != nil {
			return nil, halt(err)
		}
		a, err := third(3, y)
		if err != nil {
			return nil, halt(err)
		}
		r, err := fn(w, d, a)
		if err != nil {
			return nil, halt(err)
		}
		return r, nil
	})
}

func dateArg(i int, t *ast.Term) (calendar.Date, error) {
	s, ok := t.Value.(ast.String)
	if !ok {
		return calendar.Date{}, fmt.Errorf("operand %d: want a date YYYY-MM-DD, got %s", i, ast.ValueName(t.Value))
	}
	d, err := calendar.ParseDate(string(s))
	if err != nil {
		return d, fmt.Errorf("operand %d: %w", i, err)
	}
	return d, nil
}

func instantArg(i int, t *ast.Term) (time.Time, error) {
	switch v := t.Value.(type) {
	case ast.String:
		at, err := time.Parse(time.RFC3339Nano, string(v))
		if err != nil {
			return at, fmt.Errorf("operand %d: %q is not an RFC 3339 timestamp", i, clip(string(v)))
		}
		return at, nil
	case ast.Number:
		ns, ok := v.Int64()
		if !ok {
			return time.Time{}, fmt.Errorf("operand %d: %s is not whole nanoseconds", i, clip(string(v)))
		}
		return time.Unix(0, ns), nil
	}
	return time.Time{}, fmt.Errorf("operand %d: want an RFC 3339 timestamp or nanoseconds, got %s", i, ast.ValueName(t.Value))
}

// nanos is t in nanoseconds since the epoch, which int64 holds only for the years 1678 to 2262.
func nanos(t time.Time) (*ast.Term, error) {
	if y := t.UTC().Year(); y < 1678 || y > 2261 {
		return nil, fmt.Errorf("%s is outside the nanosecond range of years 1678-2261", t.UTC().Format(time.RFC3339))
	}
	return ast.IntNumberTerm(int(t.UnixNano())), nil
}

// maxDays bounds day and month counts far beyond any business use, so that arithmetic cannot overflow.
const maxDays = 1_000_000

func intArg(i int, t *ast.Term) (int, error) {
	v, ok := t.Value.(ast.Number)
	if !ok {
		return 0, fmt.Errorf("operand %d: want a whole number, got %s", i, ast.ValueName(t.Value))
	}
	n, ok := v.Int()
	if !ok || n < -maxDays || n > maxDays {
		return 0, fmt.Errorf("operand %d: %s is not a whole number within ±%d", i, clip(string(v)), maxDays)
	}
	return n, nil
}

// workdaysCache keeps the parsed calendar tables by the table value itself: rule tables are cached
// per RulesKey, so every decision in a window hands over the same object. Holding the key keeps its
// address from being reused for another table.
var workdaysCache struct {
	sync.Mutex
	m map[ast.Value]*calendar.Workdays
}

const maxCachedTables = 16

func workdaysArg(t *ast.Term) (*calendar.Workdays, error) {
	obj, ok := t.Value.(ast.Object)
	if !ok {
		return nil, fmt.Errorf("operand 1: want the calendar table (an object), got %s", ast.ValueName(t.Value))
	}
	workdaysCache.Lock()
	w, ok := workdaysCache.m[obj]
	workdaysCache.Unlock()
	if ok {
		return w, nil
	}
	raw, err := ast.JSON(obj)
	if err != nil {
		return nil, fmt.Errorf("operand 1: %w", err)
	}
	w, err = calendar.ParseWorkdays(raw)
	if err != nil {
		return nil, fmt.Errorf("operand 1: %w", err)
	}
	workdaysCache.Lock()
	if workdaysCache.m == nil || len(workdaysCache.m) >= maxCachedTables {
		workdaysCache.m = make(map[ast.Value]*calendar.Workdays)
	}
	workdaysCache.m[obj] = w
	workdaysCache.Unlock()
	return w, nil
}
