// Package decnum reads and prints the decimals both policy languages share, within size limits.
package decnum

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// DivisionPlaces is the number of decimal places a quotient is rounded to (half away from zero).
const DivisionPlaces = 16

// MaxPlaces bounds the places argument of rounding and formatting.
const MaxPlaces = 64

// MaxDigits bounds the significant digits and the exponent magnitude of any decimal, so that an
// expression cannot build a number whose printing or arithmetic exhausts memory.
const MaxDigits = 1000

// Parse reads a plain decimal string: an optional sign, digits, and optionally a point followed by
// digits ("-12.50"). Exponents, spaces, "NaN" and empty parts (".5", "5.") are rejected.
func Parse(s string) (decimal.Decimal, error) {
	if !plain(s) {
		return decimal.Decimal{}, fmt.Errorf("%q is not a decimal number (want digits with an optional sign and point, e.g. \"-12.50\")", Clip(s))
	}
	return parsed(s)
}

// ParseNumber reads the text of a JSON or Rego number, which may carry an exponent ("1.5e3").
func ParseNumber(s string) (decimal.Decimal, error) {
	mantissa, exp, hasExp := strings.Cut(strings.ToLower(s), "e")
	if hasExp && len(exp) > 0 && (exp[0] == '+' || exp[0] == '-') {
		exp = exp[1:]
	}
	if !plain(mantissa) || (hasExp && (!digits(exp) || len(exp) > 4)) {
		return decimal.Decimal{}, fmt.Errorf("number %s is not a decimal number", Clip(s))
	}
	return parsed(s)
}

func parsed(s string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%q is not a decimal number: %w", Clip(s), err)
	}
	if err := CheckSize(d); err != nil {
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

// Clip shortens a long input for an error message.
func Clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// CheckSize rejects decimals too large to print or compute with cheaply.
func CheckSize(d decimal.Decimal) error {
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
