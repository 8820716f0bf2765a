package cel

import (
	"errors"
	"fmt"
	"reflect"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/types/known/structpb"

	"arbiter/engine/internal/decnum"
)

// Limits shared with the Rego builtins.
const (
	DivisionPlaces = decnum.DivisionPlaces
	MaxPlaces      = decnum.MaxPlaces
	MaxDigits      = decnum.MaxDigits
)

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

// Parse reads a plain decimal string ("-12.50"); exponents, spaces and empty parts are rejected.
func Parse(s string) (decimal.Decimal, error) { return decnum.Parse(s) }

// String returns the canonical text of d ("500.00" is "500").
func String(d decimal.Decimal) string { return decnum.String(d) }

func checkSize(d decimal.Decimal) error { return decnum.CheckSize(d) }

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
