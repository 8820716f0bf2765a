package celdec

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/types/known/structpb"
)

// DivisionPlaces is the number of decimal places a quotient is rounded to (half away from zero).
const DivisionPlaces = 16

// MaxPlaces bounds the places argument of the rounding and formatting methods.
const MaxPlaces = 64

// MaxDigits bounds the significant digits and the exponent magnitude of any decimal, so that an
// expression cannot build a number whose printing or arithmetic exhausts memory.
const MaxDigits = 1000

// Type is the CEL type `decimal`, for declaring variables and function signatures.
//
// It is an opaque type carrying the arithmetic and ordering traits, so the standard operators
// dispatch to the value's own methods.
var Type = types.NewOpaqueType("decimal").WithTraits(
	traits.AdderType | traits.SubtractorType | traits.MultiplierType | traits.DividerType |
		traits.ComparerType | traits.NegatorType)

// errDivByZero is returned by `/` when the divisor is zero.
var errDivByZero = errors.New("decimal division by zero")

// Value wraps d as a CEL decimal value.
func Value(d decimal.Decimal) ref.Val { return decVal{d} }

// FromVal returns the decimal held by a CEL decimal value; ok is false for any other value.
func FromVal(v ref.Val) (d decimal.Decimal, ok bool) {
	dv, ok := v.(decVal)
	return dv.d, ok
}

// Parse reads a plain decimal string: an optional sign, digits, and optionally a point followed by
// digits ("-12.50"). Exponents, spaces, "NaN" and empty parts (".5", "5.") are rejected.
func Parse(s string) (decimal.Decimal, error) {
	if !plain(s) {
		return decimal.Decimal{}, fmt.Errorf("%q is not a decimal number (want digits with an optional sign and point, e.g. \"-12.50\")", clip(s))
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%q is not a decimal number: %w", clip(s), err)
	}
	if err := checkSize(d); err != nil {
		return decimal.Decimal{}, err
	}
	return d, nil
}

// plain reports whether s matches [+-]?[0-9]+(\.[0-9]+)? within the size limit.
func plain(s string) bool {
	if len(s) == 0 || len(s) > 2*MaxDigits+2 {
		return false
	}
	if s[0] == '-' || s[0] == '+' {
		s = s[1:]
	}
	intPart, frac, hasPoint := strings.Cut(s, ".")
	return digits(intPart) && (!hasPoint || digits(frac))
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// clip shortens a long input for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// checkSize rejects decimals too large to print or compute with cheaply.
func checkSize(d decimal.Decimal) error {
	if e := d.Exponent(); e > MaxDigits || e < -MaxDigits || d.NumDigits() > MaxDigits {
		return fmt.Errorf("decimal exceeds %d digits", MaxDigits)
	}
	return nil
}

// String returns the canonical text of d: no exponent, no trailing fractional zeros ("500.00" is
// "500"). It equals decimal.Decimal.String under that package's default settings but does not
// depend on its global switches.
func String(d decimal.Decimal) string {
	exp := d.Exponent()
	if exp >= 0 {
		return d.StringFixed(0)
	}
	s := d.StringFixed(-exp)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// decVal is the CEL runtime value of type decimal.
type decVal struct{ d decimal.Decimal }

var (
	decimalReflect = reflect.TypeFor[decimal.Decimal]()
	stringReflect  = reflect.TypeFor[string]()
	jsonValueType  = reflect.TypeFor[*structpb.Value]()
)

// result turns an arithmetic result into a CEL value, enforcing the size limit.
func result(d decimal.Decimal) ref.Val {
	if err := checkSize(d); err != nil {
		return types.WrapErr(err)
	}
	return decVal{d}
}

// ConvertToNative implements ref.Val: a decimal converts to decimal.Decimal, a string or a JSON string.
func (v decVal) ConvertToNative(t reflect.Type) (any, error) {
	switch t {
	case decimalReflect:
		return v.d, nil
	case reflect.PointerTo(decimalReflect):
		d := v.d
		return &d, nil
	case jsonValueType:
		return structpb.NewStringValue(String(v.d)), nil
	}
	switch t.Kind() {
	case reflect.String:
		return reflect.ValueOf(String(v.d)).Convert(t).Interface(), nil
	case reflect.Interface:
		if decimalReflect.Implements(t) {
			return v.d, nil
		}
	}
	return nil, fmt.Errorf("decimal cannot be converted to %v", t)
}

// ConvertToType implements ref.Val: a decimal converts to string or to itself.
func (v decVal) ConvertToType(t ref.Type) ref.Val {
	switch t.TypeName() {
	case types.StringType.TypeName():
		return types.String(String(v.d))
	case Type.TypeName():
		return v
	case types.TypeType.TypeName():
		return Type
	}
	return types.NewErr("type conversion error from decimal to '%s'", t.TypeName())
}

// Equal implements ref.Val: decimals are equal by value (1.0 == 1.00); other types are never equal.
func (v decVal) Equal(other ref.Val) ref.Val {
	o, ok := other.(decVal)
	return types.Bool(ok && v.d.Equal(o.d))
}

// Type implements ref.Val.
func (v decVal) Type() ref.Type { return Type }

// Value implements ref.Val and returns the decimal.Decimal.
func (v decVal) Value() any { return v.d }

// Add implements traits.Adder.
func (v decVal) Add(other ref.Val) ref.Val {
	o, ok := other.(decVal)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	return result(v.d.Add(o.d))
}

// Subtract implements traits.Subtractor.
func (v decVal) Subtract(other ref.Val) ref.Val {
	o, ok := other.(decVal)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	return result(v.d.Sub(o.d))
}

// Multiply implements traits.Multiplier.
func (v decVal) Multiply(other ref.Val) ref.Val {
	o, ok := other.(decVal)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	return result(v.d.Mul(o.d))
}

// Divide implements traits.Divider: the quotient is rounded to DivisionPlaces, half away from zero.
func (v decVal) Divide(other ref.Val) ref.Val {
	o, ok := other.(decVal)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	if o.d.IsZero() {
		return types.WrapErr(errDivByZero)
	}
	return result(v.d.DivRound(o.d, DivisionPlaces))
}

// Compare implements traits.Comparer.
func (v decVal) Compare(other ref.Val) ref.Val {
	o, ok := other.(decVal)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	return types.Int(v.d.Cmp(o.d))
}

// Negate implements traits.Negater.
func (v decVal) Negate() ref.Val { return decVal{v.d.Neg()} }
