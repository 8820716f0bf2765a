package cel

import (
	"fmt"
	"reflect"
	"sync"
	"time"

	celgo "cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"arbiter/engine/internal/calendar"
)

// calendarFunctions adds the cal.* functions, the CEL face of package calendar: Beijing days and
// instants, day and month arithmetic, natural quarters and PRC working days over the calendar table.
func calendarFunctions() celgo.EnvOption {
	return celgo.Lib(calendarLib{})
}

type calendarLib struct{}

func (calendarLib) LibraryName() string { return "arbiter.calendar" }

// tableType is the calendar.prc_workdays rule table as a policy reads it (rules.<name>).
var tableType = celgo.MapType(celgo.StringType, celgo.DynType)

func (calendarLib) CompileOptions() []celgo.EnvOption {
	str, integer, ts := celgo.StringType, celgo.IntType, celgo.TimestampType
	return []celgo.EnvOption{
		celgo.Function("cal.beijing_date",
			celgo.Overload("cal_beijing_date_timestamp", []*celgo.Type{ts}, str,
				celgo.UnaryBinding(func(t ref.Val) ref.Val {
					return types.String(calendar.DateOf(t.(types.Timestamp).Time).String())
				}))),
		celgo.Function("cal.beijing_time",
			celgo.Overload("cal_beijing_time_timestamp", []*celgo.Type{ts}, str,
				celgo.UnaryBinding(func(t ref.Val) ref.Val {
					return types.String(calendar.BeijingTime(t.(types.Timestamp).Time))
				}))),
		celgo.Function("cal.beijing_instant",
			celgo.Overload("cal_beijing_instant_string", []*celgo.Type{str}, ts,
				celgo.UnaryBinding(func(s ref.Val) ref.Val {
					d, err := dateArg("cal.beijing_instant", 1, s)
					if err != nil {
						return err
					}
					return types.Timestamp{Time: d.Instant()}
				}))),
		dayOrInstantFunction("cal.add_days", calendar.Date.AddDays, calendar.AddDays),
		dayOrInstantFunction("cal.add_months", calendar.Date.AddMonths, calendar.AddMonths),
		dateIntFunction("cal.months_later", calendar.Date.MonthsLater),
		dateFunction("cal.quarter_start", str, func(d calendar.Date) ref.Val { return types.String(d.QuarterStart().String()) }),
		dateFunction("cal.quarter", integer, func(d calendar.Date) ref.Val { return types.Int(d.Quarter()) }),
		dateFunction("cal.year", integer, func(d calendar.Date) ref.Val { return types.Int(d.Year()) }),

		celgo.Function("cal.is_working_day",
			celgo.Overload("cal_is_working_day_map_string", []*celgo.Type{tableType, str}, celgo.BoolType,
				celgo.BinaryBinding(func(tab, x ref.Val) ref.Val {
					const name = "cal.is_working_day"
					w, err := workdaysArg(name, tab)
					if err != nil {
						return err
					}
					d, err := dateArg(name, 2, x)
					if err != nil {
						return err
					}
					ok, e := w.IsWorkingDay(d)
					if e != nil {
						return calErr(name, e)
					}
					return types.Bool(ok)
				}))),
		tableRangeFunction("cal.working_days", integer, func(w *calendar.Workdays, from, to calendar.Date) (ref.Val, error) {
			n, err := w.Count(from, to)
			return types.Int(n), err
		}),
		tableRangeFunction("cal.covers", celgo.BoolType, func(w *calendar.Workdays, from, to calendar.Date) (ref.Val, error) {
			return types.Bool(w.Covers(from, to)), nil
		}),
		tableStepFunction("cal.add_working_days", str, func(w *calendar.Workdays, d calendar.Date, n int) (ref.Val, error) {
			r, err := w.Add(d, n)
			return types.String(r.String()), err
		}),
		tableStepFunction("cal.can_add_working_days", celgo.BoolType, func(w *calendar.Workdays, d calendar.Date, n int) (ref.Val, error) {
			return types.Bool(w.CanAdd(d, n)), nil
		}),

		// Earlier spellings, kept for policies written before the cal.* names:
		// add_months = cal.add_months on timestamps, date_of = cal.beijing_date, beijing_date = cal.beijing_instant.
		celgo.Function("add_months",
			celgo.Overload("add_months_timestamp_int", []*celgo.Type{ts, integer}, ts,
				celgo.BinaryBinding(instantIntBinding("add_months", calendar.AddMonths)))),
		celgo.Function("date_of",
			celgo.Overload("date_of_timestamp", []*celgo.Type{ts}, str,
				celgo.UnaryBinding(func(t ref.Val) ref.Val {
					return types.String(calendar.DateOf(t.(types.Timestamp).Time).String())
				}))),
		celgo.Function("beijing_date",
			celgo.Overload("beijing_date_string", []*celgo.Type{str}, ts,
				celgo.UnaryBinding(func(s ref.Val) ref.Val {
					d, err := dateArg("beijing_date", 1, s)
					if err != nil {
						return err
					}
					return types.Timestamp{Time: d.Instant()}
				}))),
	}
}

func (calendarLib) ProgramOptions() []celgo.ProgramOption { return nil }

func calErr(name string, err error) ref.Val { return types.WrapErr(fmt.Errorf("%s: %w", name, err)) }

func dateFunction(name string, result *celgo.Type, fn func(calendar.Date) ref.Val) celgo.EnvOption {
	return celgo.Function(name,
		celgo.Overload(overloadID(name, "string"), []*celgo.Type{celgo.StringType}, result,
			celgo.UnaryBinding(func(x ref.Val) ref.Val {
				d, err := dateArg(name, 1, x)
				if err != nil {
					return err
				}
				return fn(d)
			})))
}

func dateIntFunction(name string, fn func(calendar.Date, int) calendar.Date) celgo.EnvOption {
	return celgo.Function(name,
		celgo.Overload(overloadID(name, "string_int"), []*celgo.Type{celgo.StringType, celgo.IntType}, celgo.StringType,
			celgo.BinaryBinding(dateIntBinding(name, fn))))
}

func dateIntBinding(name string, fn func(calendar.Date, int) calendar.Date) func(x, y ref.Val) ref.Val {
	return func(x, y ref.Val) ref.Val {
		d, err := dateArg(name, 1, x)
		if err != nil {
			return err
		}
		n, err := intArg(name, 2, y)
		if err != nil {
			return err
		}
		r := fn(d, n)
		if e := r.CheckYear(); e != nil {
			return calErr(name, e)
		}
		return types.String(r.String())
	}
}

func instantIntBinding(name string, fn func(time.Time, int) time.Time) func(x, y ref.Val) ref.Val {
	return func(x, y ref.Val) ref.Val {
		n, err := intArg(name, 2, y)
		if err != nil {
			return err
		}
		r := fn(x.(types.Timestamp).Time, n)
		if y := r.UTC().Year(); y < 1 || y > 9999 {
			return calErr(name, fmt.Errorf("%d is outside the timestamp years 0001-9999", y))
		}
		return types.Timestamp{Time: r}
	}
}

// dayOrInstantFunction declares name(string, int) on days and name(timestamp, int) on instants.
func dayOrInstantFunction(name string, onDay func(calendar.Date, int) calendar.Date, onInstant func(time.Time, int) time.Time) celgo.EnvOption {
	return celgo.Function(name,
		celgo.Overload(overloadID(name, "string_int"), []*celgo.Type{celgo.StringType, celgo.IntType}, celgo.StringType,
			celgo.BinaryBinding(dateIntBinding(name, onDay))),
		celgo.Overload(overloadID(name, "timestamp_int"), []*celgo.Type{celgo.TimestampType, celgo.IntType}, celgo.TimestampType,
			celgo.BinaryBinding(instantIntBinding(name, onInstant))))
}

func tableRangeFunction(name string, result *celgo.Type, fn func(w *calendar.Workdays, from, to calendar.Date) (ref.Val, error)) celgo.EnvOption {
	return celgo.Function(name,
		celgo.Overload(overloadID(name, "map_string_string"), []*celgo.Type{tableType, celgo.StringType, celgo.StringType}, result,
			celgo.FunctionBinding(func(args ...ref.Val) ref.Val {
				w, err := workdaysArg(name, args[0])
				if err != nil {
					return err
				}
				from, err := dateArg(name, 2, args[1])
				if err != nil {
					return err
				}
				to, err := dateArg(name, 3, args[2])
				if err != nil {
					return err
				}
				r, e := fn(w, from, to)
				if e != nil {
					return calErr(name, e)
				}
				return r
			})))
}

func tableStepFunction(name string, result *celgo.Type, fn func(w *calendar.Workdays, d calendar.Date, n int) (ref.Val, error)) celgo.EnvOption {
	return celgo.Function(name,
		celgo.Overload(overloadID(name, "map_string_int"), []*celgo.Type{tableType, celgo.StringType, celgo.IntType}, result,
			celgo.FunctionBinding(func(args ...ref.Val) ref.Val {
				w, err := workdaysArg(name, args[0])
				if err != nil {
					return err
				}
				d, err := dateArg(name, 2, args[1])
				if err != nil {
					return err
				}
				n, err := intArg(name, 3, args[2])
				if err != nil {
					return err
				}
				r, e := fn(w, d, n)
				if e != nil {
					return calErr(name, e)
				}
				return r
			})))
}

func overloadID(name, sig string) string {
	id := []byte(name)
	for i, c := range id {
		if c == '.' {
			id[i] = '_'
		}
	}
	return string(id) + "_" + sig
}

func dateArg(name string, i int, v ref.Val) (calendar.Date, ref.Val) {
	s, ok := v.(types.String)
	if !ok {
		return calendar.Date{}, calErr(name, fmt.Errorf("operand %d: want a date YYYY-MM-DD, got %s", i, v.Type().TypeName()))
	}
	d, err := calendar.ParseDate(string(s))
	if err != nil {
		return d, calErr(name, fmt.Errorf("operand %d: %w", i, err))
	}
	return d, nil
}

// maxDays bounds day and month counts far beyond any business use, so that arithmetic cannot overflow.
const maxDays = 1_000_000

func intArg(name string, i int, v ref.Val) (int, ref.Val) {
	n, ok := v.(types.Int)
	if !ok || n < -maxDays || n > maxDays {
		return 0, calErr(name, fmt.Errorf("operand %d: want a whole number within ±%d, got %v", i, maxDays, v))
	}
	return int(n), nil
}

// workdaysCache keeps the parsed calendar tables by the identity of the Go map the engine hands
// over: rule tables are shared by every decision in a window. An entry holds its map, so the
// address cannot be reused for another table while it is cached.
var workdaysCache struct {
	sync.Mutex
	m map[uintptr]cachedWorkdays
}

type cachedWorkdays struct {
	table map[string]any
	w     *calendar.Workdays
}

const maxCachedTables = 16

func workdaysArg(name string, v ref.Val) (*calendar.Workdays, ref.Val) {
	raw, ok := v.Value().(map[string]any)
	if !ok {
		native, err := Native(v)
		if err != nil {
			return nil, calErr(name, fmt.Errorf("operand 1: %w", err))
		}
		w, err := calendar.ParseWorkdays(native)
		if err != nil {
			return nil, calErr(name, fmt.Errorf("operand 1: %w", err))
		}
		return w, nil
	}
	key := reflect.ValueOf(raw).Pointer()
	workdaysCache.Lock()
	c, ok := workdaysCache.m[key]
	workdaysCache.Unlock()
	if ok {
		return c.w, nil
	}
	w, err := calendar.ParseWorkdays(raw)
	if err != nil {
		return nil, calErr(name, fmt.Errorf("operand 1: %w", err))
	}
	workdaysCache.Lock()
	if workdaysCache.m == nil || len(workdaysCache.m) >= maxCachedTables {
		workdaysCache.m = make(map[uintptr]cachedWorkdays)
	}
	workdaysCache.m[key] = cachedWorkdays{table: raw, w: w}
	workdaysCache.Unlock()
	return w, nil
}
