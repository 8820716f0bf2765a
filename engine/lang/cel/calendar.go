package cel

import (
	"time"

	celgo "cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"arbiter/engine/internal/calendar"
)

// calendarFunctions adds calendar.Beijing-calendar helpers CEL lacks: whole calendar months and dates.
func calendarFunctions() celgo.EnvOption {
	return celgo.Lib(calendarLib{})
}

type calendarLib struct{}

func (calendarLib) LibraryName() string { return "arbiter.calendar" }

func (calendarLib) CompileOptions() []celgo.EnvOption {
	return []celgo.EnvOption{
		celgo.Function("add_months",
			celgo.Overload("add_months_timestamp_int", []*celgo.Type{celgo.TimestampType, celgo.IntType}, celgo.TimestampType,
				celgo.BinaryBinding(func(ts, n ref.Val) ref.Val {
					t, ok1 := ts.Value().(time.Time)
					m, ok2 := n.Value().(int64)
					if !ok1 || !ok2 {
						return types.NewErr("add_months: bad arguments")
					}
					return types.Timestamp{Time: calendar.AddMonths(t, int(m))}
				}))),
		celgo.Function("date_of",
			celgo.Overload("date_of_timestamp", []*celgo.Type{celgo.TimestampType}, celgo.StringType,
				celgo.UnaryBinding(func(ts ref.Val) ref.Val {
					t, ok := ts.Value().(time.Time)
					if !ok {
						return types.NewErr("date_of: bad argument")
					}
					return types.String(t.In(calendar.Beijing).Format(time.DateOnly))
				}))),
		celgo.Function("beijing_date",
			celgo.Overload("beijing_date_string", []*celgo.Type{celgo.StringType}, celgo.TimestampType,
				celgo.UnaryBinding(func(s ref.Val) ref.Val {
					str, _ := s.Value().(string)
					t, err := time.ParseInLocation(time.DateOnly, str, calendar.Beijing)
					if err != nil {
						return types.NewErr("beijing_date: %q is not a date YYYY-MM-DD", str)
					}
					return types.Timestamp{Time: t}
				}))),
	}
}

func (calendarLib) ProgramOptions() []celgo.ProgramOption { return nil }
