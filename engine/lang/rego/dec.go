package rego

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/open-policy-agent/opa/v1/ast"
	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/types"
	"github.com/shopspring/decimal"

	"arbiter/engine/internal/decnum"
)

// Limits shared with the CEL decimal type.
const (
	DivisionPlaces = decnum.DivisionPlaces
	MaxPlaces      = decnum.MaxPlaces
	MaxDigits      = decnum.MaxDigits
)

var (
	// operand is a decimal string or a number.
	operand = types.NewAny(types.S, types.N)
	// collection is what dec.sum accepts.
	collection = types.NewAny(types.NewArray(nil, operand), types.NewSet(operand))
)

// Options returns the rego options that register the dec.*, cal.*, coll.* and text.* built-in functions.
func Options() []func(*oparego.Rego) {
	return append(append(append(decimalOptions(), calendarOptions()...), collectionOptions()...), textOptions()...)
}

// maxOf returns the largest value of a non-empty array or set of decimals.
func maxOf(t *ast.Term) (decimal.Decimal, error) {
	var top *ast.Term
	var topValue decimal.Decimal
	visit := func(i int, e *ast.Term) error {
		d, err := value(e)
		if err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
		if top == nil || d.Cmp(topValue) > 0 {
			top, topValue = e, d
		}
		return nil
	}
	i := 0
	var err error
	switch v := t.Value.(type) {
	case *ast.Array:
		err = v.Iter(func(e *ast.Term) error { i++; return visit(i-1, e) })
	case ast.Set:
		err = v.Iter(func(e *ast.Term) error { i++; return visit(i-1, e) })
	default:
		return topValue, fmt.Errorf("values must be an array or a set, not %v", ast.ValueName(t.Value))
	}
	if err != nil {
		return topValue, err
	}
	if top == nil {
		return topValue, errors.New("no values")
	}
	return topValue, nil
}

func decimalOptions() []func(*oparego.Rego) {
	return []func(*oparego.Rego){
		binary("dec.add", "a + b", func(a, b decimal.Decimal) (decimal.Decimal, error) { return a.Add(b), nil }),
		binary("dec.sub", "a - b", func(a, b decimal.Decimal) (decimal.Decimal, error) { return a.Sub(b), nil }),
		binary("dec.mul", "a * b", func(a, b decimal.Decimal) (decimal.Decimal, error) { return a.Mul(b), nil }),
		binary("dec.div", "a / b, rounded to 16 places half away from zero", func(a, b decimal.Decimal) (decimal.Decimal, error) {
			if b.IsZero() {
				return decimal.Decimal{}, errDivByZero
			}
			return a.DivRound(b, DivisionPlaces), nil
		}),
		binary("dec.min", "the smaller of a and b (a when equal)", func(a, b decimal.Decimal) (decimal.Decimal, error) {
			if a.Cmp(b) <= 0 {
				return a, nil
			}
			return b, nil
		}),
		binary("dec.max", "the larger of a and b (a when equal)", func(a, b decimal.Decimal) (decimal.Decimal, error) {
			if a.Cmp(b) >= 0 {
				return a, nil
			}
			return b, nil
		}),

		oparego.Function2(decl("dec.cmp", "-1, 0 or 1 as a is less than, equal to or greater than b",
			types.N, types.Named("a", operand), types.Named("b", operand)),
			func(_ oparego.BuiltinContext, x, y *ast.Term) (*ast.Term, error) {
				a, b, err := operands(x, y)
				if err != nil {
					return nil, halt(err)
				}
				return ast.IntNumberTerm(a.Cmp(b)), nil
			}),
		predicate("dec.lt", "a < b", func(c int) bool { return c < 0 }),
		predicate("dec.lte", "a <= b", func(c int) bool { return c <= 0 }),
		predicate("dec.gt", "a > b", func(c int) bool { return c > 0 }),
		predicate("dec.gte", "a >= b", func(c int) bool { return c >= 0 }),
		predicate("dec.eq", "a == b by value (\"1.0\" equals \"1.00\")", func(c int) bool { return c == 0 }),

		withPlaces("dec.round", "a rounded to places, half away from zero", -MaxPlaces,
			func(d decimal.Decimal, p int32) string { return String(d.Round(p)) }),
		withPlaces("dec.round_bank", "a rounded to places, half to even", -MaxPlaces,
			func(d decimal.Decimal, p int32) string { return String(d.RoundBank(p)) }),
		withPlaces("dec.truncate", "a cut to places, toward zero", -MaxPlaces,
			func(d decimal.Decimal, p int32) string { return String(d.Truncate(p)) }),
		withPlaces("dec.fixed", "a as text with exactly places decimals, rounded half away from zero", 0,
			func(d decimal.Decimal, p int32) string { return d.StringFixed(p) }),

		unary("dec.neg", "-a", decimal.Decimal.Neg),
		unary("dec.abs", "|a|", decimal.Decimal.Abs),

		oparego.Function1(decl("dec.sum", "the sum of an array or set of decimals (0 when empty)",
			types.S, types.Named("values", collection)),
			func(_ oparego.BuiltinContext, x *ast.Term) (*ast.Term, error) {
				total, err := sum(x)
				if err != nil {
					return nil, halt(err)
				}
				return ast.StringTerm(String(total)), nil
			}),
		oparego.Function1(decl("dec.max_of", "the largest of a non-empty array or set of decimals",
			types.S, types.Named("values", collection)),
			func(_ oparego.BuiltinContext, x *ast.Term) (*ast.Term, error) {
				top, err := maxOf(x)
				if err != nil {
					return nil, halt(err)
				}
				return ast.StringTerm(String(top)), nil
			}),
		oparego.Function1(decl("dec.valid", "whether a is a decimal string or a number the dec functions accept",
			types.B, types.Named("a", types.A)),
			func(_ oparego.BuiltinContext, x *ast.Term) (*ast.Term, error) {
				_, err := value(x)
				return ast.BooleanTerm(err == nil), nil
			}),
	}
}

var errDivByZero = errors.New("division by zero")

// decl declares a deterministic built-in with typed arguments.
func decl(name, description string, result types.Type, args ...types.Type) *oparego.Function {
	declare(&ast.Builtin{Name: name, Description: description, Decl: types.NewFunction(args, result)})
	return &oparego.Function{
		Name:             name,
		Description:      description,
		Decl:             types.NewFunction(args, result),
		Nondeterministic: false,
	}
}

// halt makes an invalid argument fail the evaluation even without strict built-in errors: a
// silently undefined comparison could turn a deny into an allow.
func halt(err error) error { return oparego.NewHaltError(err) }

func binary(name, description string, fn func(a, b decimal.Decimal) (decimal.Decimal, error)) func(*oparego.Rego) {
	return oparego.Function2(decl(name, description, types.S, types.Named("a", operand), types.Named("b", operand)),
		func(_ oparego.BuiltinContext, x, y *ast.Term) (*ast.Term, error) {
			a, b, err := operands(x, y)
			if err != nil {
				return nil, halt(err)
			}
			d, err := fn(a, b)
			if err == nil {
				err = checkSize(d)
			}
			if err != nil {
				return nil, halt(err)
			}
			return ast.StringTerm(String(d)), nil
		})
}

func predicate(name, description string, holds func(cmp int) bool) func(*oparego.Rego) {
	return oparego.Function2(decl(name, description, types.B, types.Named("a", operand), types.Named("b", operand)),
		func(_ oparego.BuiltinContext, x, y *ast.Term) (*ast.Term, error) {
			a, b, err := operands(x, y)
			if err != nil {
				return nil, halt(err)
			}
			return ast.BooleanTerm(holds(a.Cmp(b))), nil
		})
}

func unary(name, description string, fn func(decimal.Decimal) decimal.Decimal) func(*oparego.Rego) {
	return oparego.Function1(decl(name, description, types.S, types.Named("a", operand)),
		func(_ oparego.BuiltinContext, x *ast.Term) (*ast.Term, error) {
			a, err := value(x)
			if err != nil {
				return nil, halt(err)
			}
			return ast.StringTerm(String(fn(a))), nil
		})
}

func withPlaces(name, description string, lo int64, fn func(decimal.Decimal, int32) string) func(*oparego.Rego) {
	return oparego.Function2(decl(name, description, types.S, types.Named("a", operand), types.Named("places", types.N)),
		func(_ oparego.BuiltinContext, x, places *ast.Term) (*ast.Term, error) {
			a, err := value(x)
			if err != nil {
				return nil, halt(fmt.Errorf("operand 1: %w", err))
			}
			p, err := placesArg(places, lo)
			if err != nil {
				return nil, halt(err)
			}
			return ast.StringTerm(fn(a, p)), nil
		})
}

func operands(x, y *ast.Term) (a, b decimal.Decimal, err error) {
	if a, err = value(x); err != nil {
		return a, b, fmt.Errorf("operand 1: %w", err)
	}
	if b, err = value(y); err != nil {
		return a, b, fmt.Errorf("operand 2: %w", err)
	}
	return a, b, nil
}

// value reads a decimal string, or a number by its literal text so that 0.1 stays exactly 0.1.
func value(t *ast.Term) (decimal.Decimal, error) {
	switch v := t.Value.(type) {
	case ast.String:
		return Parse(string(v))
	case ast.Number:
		return parseNumber(string(v))
	default:
		return decimal.Decimal{}, fmt.Errorf("want a decimal string or a number, got %s %v", ast.ValueName(t.Value), clip(t.String()))
	}
}

func sum(t *ast.Term) (decimal.Decimal, error) {
	total := decimal.Zero
	add := func(i int, e *ast.Term) error {
		d, err := value(e)
		if err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
		total = total.Add(d)
		return checkSize(total)
	}
	switch v := t.Value.(type) {
	case *ast.Array:
		for i := range v.Len() {
			if err := add(i, v.Elem(i)); err != nil {
				return total, err
			}
		}
	case ast.Set:
		i := 0
		err := v.Iter(func(e *ast.Term) error {
			i++
			return add(i-1, e)
		})
		if err != nil {
			return total, err
		}
	default:
		return total, fmt.Errorf("want an array or a set, got %s", ast.ValueName(t.Value))
	}
	return total, nil
}

func placesArg(t *ast.Term, lo int64) (int32, error) {
	n, ok := t.Value.(ast.Number)
	if !ok {
		return 0, fmt.Errorf("places must be a number, got %s", ast.ValueName(t.Value))
	}
	p, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		d, derr := parseNumber(string(n))
		if derr != nil || !d.IsInteger() || !d.BigInt().IsInt64() {
			return 0, fmt.Errorf("places must be a whole number, got %s", clip(string(n)))
		}
		p = d.IntPart()
	}
	if p < lo || p > MaxPlaces {
		return 0, fmt.Errorf("places %d is outside [%d, %d]", p, lo, MaxPlaces)
	}
	return int32(p), nil
}

// Parse reads a plain decimal string ("-12.50"); exponents, spaces and empty parts are rejected.
func Parse(s string) (decimal.Decimal, error) { return decnum.Parse(s) }

// String returns the canonical text of d ("500.00" is "500").
func String(d decimal.Decimal) string { return decnum.String(d) }

func parseNumber(s string) (decimal.Decimal, error) { return decnum.ParseNumber(s) }

func checkSize(d decimal.Decimal) error { return decnum.CheckSize(d) }

func clip(s string) string { return decnum.Clip(s) }
