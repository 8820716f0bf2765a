package cel

import (
	"fmt"

	celgo "cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"github.com/shopspring/decimal"
)

// Library installs the decimal type, the dec_* functions, the decimal methods and the operator
// overloads described in the package documentation.
func Library() celgo.EnvOption { return celgo.Lib(library{}) }

type library struct{}

// LibraryName implements celgo.SingletonLibrary, so installing the library twice is harmless.
func (library) LibraryName() string { return "arbiter.decimal" }

func (library) ProgramOptions() []celgo.ProgramOption { return nil }

func (library) CompileOptions() []celgo.EnvOption {
	dec := Type
	pair := []*celgo.Type{dec, dec}
	opts := []celgo.EnvOption{
		// The standard operators dispatch on the operand's traits through one function-level
		// binding, so these overloads only teach the type checker; decVal does the work.
		celgo.Function(operators.Add, celgo.Overload("add_decimal", pair, dec)),
		celgo.Function(operators.Subtract, celgo.Overload("subtract_decimal", pair, dec)),
		celgo.Function(operators.Multiply, celgo.Overload("multiply_decimal", pair, dec)),
		celgo.Function(operators.Divide, celgo.Overload("divide_decimal", pair, dec)),
		celgo.Function(operators.Negate, celgo.Overload("negate_decimal", []*celgo.Type{dec}, dec)),
		celgo.Function(operators.Less, celgo.Overload("less_decimal", pair, celgo.BoolType)),
		celgo.Function(operators.LessEquals, celgo.Overload("less_equals_decimal", pair, celgo.BoolType)),
		celgo.Function(operators.Greater, celgo.Overload("greater_decimal", pair, celgo.BoolType)),
		celgo.Function(operators.GreaterEquals, celgo.Overload("greater_equals_decimal", pair, celgo.BoolType)),

		// One binding for every argument type, so a dyn argument of the wrong runtime type
		// (a double, say) gets a message that says why rather than "no such overload".
		celgo.Function("dec",
			celgo.Overload("dec_string", []*celgo.Type{celgo.StringType}, dec),
			celgo.Overload("dec_int", []*celgo.Type{celgo.IntType}, dec),
			celgo.Overload("dec_decimal", []*celgo.Type{dec}, dec),
			celgo.SingletonUnaryBinding(construct)),
		celgo.Function("dec_valid",
			celgo.Overload("dec_valid_string", []*celgo.Type{celgo.StringType}, celgo.BoolType),
			celgo.SingletonUnaryBinding(func(v ref.Val) ref.Val {
				s, ok := v.(types.String)
				if !ok {
					return types.False
				}
				_, err := Parse(string(s))
				return types.Bool(err == nil)
			})),
		celgo.Function("dec_sum",
			celgo.Overload("dec_sum_list", []*celgo.Type{celgo.ListType(celgo.DynType)}, dec,
				celgo.UnaryBinding(sum))),
		celgo.Function("dec_min",
			celgo.Overload("dec_min_decimal_decimal", pair, dec,
				celgo.BinaryBinding(func(a, b ref.Val) ref.Val {
					if a.(decVal).d.Cmp(b.(decVal).d) <= 0 {
						return a
					}
					return b
				}))),
		celgo.Function("dec_max",
			celgo.Overload("dec_max_decimal_decimal", pair, dec,
				celgo.BinaryBinding(func(a, b ref.Val) ref.Val {
					if a.(decVal).d.Cmp(b.(decVal).d) >= 0 {
						return a
					}
					return b
				}))),
	}

	withPlaces := []struct {
		name     string
		min      int64
		fn       func(decimal.Decimal, int32) ref.Val
		overload string
	}{
		{"round", -MaxPlaces, func(d decimal.Decimal, p int32) ref.Val { return result(d.Round(p)) }, "decimal_round_int"},
		{"round_bank", -MaxPlaces, func(d decimal.Decimal, p int32) ref.Val { return result(d.RoundBank(p)) }, "decimal_round_bank_int"},
		{"truncate", -MaxPlaces, func(d decimal.Decimal, p int32) ref.Val { return result(d.Truncate(p)) }, "decimal_truncate_int"},
		{"string_fixed", 0, func(d decimal.Decimal, p int32) ref.Val { return types.String(d.StringFixed(p)) }, "decimal_string_fixed_int"},
	}
	for _, m := range withPlaces {
		out := dec
		if m.name == "string_fixed" {
			out = celgo.StringType
		}
		opts = append(opts, celgo.Function(m.name,
			celgo.MemberOverload(m.overload, []*celgo.Type{dec, celgo.IntType}, out,
				celgo.BinaryBinding(func(v, places ref.Val) ref.Val {
					p, err := placesArg(m.name, places, m.min)
					if err != nil {
						return types.WrapErr(err)
					}
					return m.fn(v.(decVal).d, p)
				}))))
	}

	unary := []struct {
		name string
		out  *celgo.Type
		fn   func(decimal.Decimal) ref.Val
	}{
		{"ceil", dec, func(d decimal.Decimal) ref.Val { return decVal{d.Ceil()} }},
		{"floor", dec, func(d decimal.Decimal) ref.Val { return decVal{d.Floor()} }},
		{"abs", dec, func(d decimal.Decimal) ref.Val { return decVal{d.Abs()} }},
		{"sign", celgo.IntType, func(d decimal.Decimal) ref.Val { return types.Int(d.Sign()) }},
		{"string", celgo.StringType, func(d decimal.Decimal) ref.Val { return types.String(String(d)) }},
		{"is_zero", celgo.BoolType, func(d decimal.Decimal) ref.Val { return types.Bool(d.IsZero()) }},
	}
	for _, m := range unary {
		opts = append(opts, celgo.Function(m.name,
			celgo.MemberOverload("decimal_"+m.name, []*celgo.Type{dec}, m.out,
				celgo.UnaryBinding(func(v ref.Val) ref.Val { return m.fn(v.(decVal).d) }))))
	}
	return opts
}

// construct implements dec(x) for a string, an int or a decimal.
func construct(v ref.Val) ref.Val {
	switch t := v.(type) {
	case decVal:
		return t
	case types.String:
		d, err := Parse(string(t))
		if err != nil {
			return types.NewErr("dec: %w", err)
		}
		return decVal{d}
	case types.Int:
		return decVal{decimal.NewFromInt(int64(t))}
	case types.Uint:
		return decVal{decimal.NewFromUint64(uint64(t))}
	case types.Double:
		return types.NewErr("dec: %v is a double, which is not exact; pass the amount as a decimal string", float64(t))
	}
	if types.IsUnknownOrError(v) {
		return v
	}
	return types.NewErr("dec: cannot make a decimal from a value of type %s", v.Type().TypeName())
}

// sum implements dec_sum(list): elements are decimals, decimal strings or ints.
func sum(v ref.Val) ref.Val {
	l, ok := v.(traits.Lister)
	if !ok {
		return types.MaybeNoSuchOverloadErr(v)
	}
	total := decimal.Zero
	n := int64(l.Size().(types.Int))
	for i := int64(0); i < n; i++ {
		e := construct(l.Get(types.Int(i)))
		d, ok := e.(decVal)
		if !ok {
			if err, isErr := e.(*types.Err); isErr {
				return types.NewErr("dec_sum: element %d: %w", i, err)
			}
			return e
		}
		total = total.Add(d.d)
		if err := checkSize(total); err != nil {
			return types.NewErr("dec_sum: %w", err)
		}
	}
	return decVal{total}
}

// placesArg validates a places argument.
func placesArg(fn string, v ref.Val, lo int64) (int32, error) {
	p, ok := v.(types.Int)
	if !ok {
		return 0, fmt.Errorf("%s: places must be an int", fn)
	}
	if int64(p) < lo || int64(p) > MaxPlaces {
		return 0, fmt.Errorf("%s: places %d is outside [%d, %d]", fn, int64(p), lo, MaxPlaces)
	}
	return int32(p), nil
}
