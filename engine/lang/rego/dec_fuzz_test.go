package rego

import (
	"context"
	"testing"

	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/shopspring/decimal"
)

// FuzzDecBuiltins evaluates dec.add, dec.mul, dec.div and dec.round through prepared queries on
// random decimal strings and checks them against the decimal library: the same value when both
// operands parse and the result is within the size limits, an error otherwise, and canonical text.
// Seeds stay short (the fuzzer minimizes in quadratic time); TestErrors covers the size limits.
func FuzzDecBuiltins(f *testing.F) {
	for _, s := range []struct {
		a, b   string
		places int8
	}{
		{"0.1", "0.2", 2}, {"129.99", "0.1", 1}, {"1", "3", 0}, {"-2", "3", 16}, {"10", "0.00", 2},
		{"565086.49", "0.04", 2}, {"1e5", "1", 0}, {"abc", "1", 0}, {"2.345", "-2.345", -2}, {"99999999999999999999", "0.0000000000000000001", 64},
		{"0.00000000000000005", "7", -64}, {"+1.50", "-0", 65}, {"1.", ".5", 0}, {" 1", "1\n", 0},
	} {
		f.Add(s.a, s.b, s.places)
	}
	ctx := context.Background()
	queries := map[string]oparego.PreparedEvalQuery{}
	for name, q := range map[string]string{
		"add": "dec.add(input.a, input.b)", "mul": "dec.mul(input.a, input.b)",
		"div": "dec.div(input.a, input.b)", "round": "dec.round(input.a, input.places)",
	} {
		pq, err := oparego.New(append([]func(*oparego.Rego){oparego.Query(q), oparego.StrictBuiltinErrors(true)}, Options()...)...).PrepareForEval(ctx)
		if err != nil {
			f.Fatal(err)
		}
		queries[name] = pq
	}
	f.Fuzz(func(t *testing.T, a, b string, places int8) {
		in := map[string]any{"a": a, "b": b, "places": int(places)}
		eval := func(name string) (string, error) {
			rs, err := queries[name].Eval(ctx, oparego.EvalInput(in))
			if err != nil {
				return "", err
			}
			if len(rs) != 1 || len(rs[0].Expressions) != 1 {
				t.Fatalf("dec.%s(%q, %q): %d results", name, a, b, len(rs))
			}
			s, ok := rs[0].Expressions[0].Value.(string)
			if !ok {
				t.Fatalf("dec.%s(%q, %q) = %#v, not text", name, a, b, rs[0].Expressions[0].Value)
			}
			return s, nil
		}
		x, errA := Parse(a)
		y, errB := Parse(b)
		check := func(name string, want decimal.Decimal, wantErr error) {
			got, err := eval(name)
			if wantErr == nil {
				wantErr = checkSize(want)
			}
			if wantErr != nil {
				if err == nil {
					t.Fatalf("dec.%s(%q, %q) = %q, want an error (%v)", name, a, b, got, wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("dec.%s(%q, %q): %v", name, a, b, err)
			}
			if got != String(want) {
				t.Fatalf("dec.%s(%q, %q) = %q, want %q", name, a, b, got, String(want))
			}
			if back, err := Parse(got); err != nil || !back.Equal(want) {
				t.Fatalf("dec.%s(%q, %q) = %q does not read back: %v", name, a, b, got, err)
			}
		}
		operandErr := errA
		if operandErr == nil {
			operandErr = errB
		}
		var sum, product, quotient decimal.Decimal
		if operandErr == nil {
			sum, product = x.Add(y), x.Mul(y)
		}
		check("add", sum, operandErr)
		check("mul", product, operandErr)
		divErr := operandErr
		if divErr == nil && y.IsZero() {
			divErr = errDivByZero
		} else if divErr == nil {
			quotient = x.DivRound(y, DivisionPlaces)
		}
		check("div", quotient, divErr)

		got, err := eval("round")
		switch {
		case errA != nil || int(places) < -MaxPlaces || int(places) > MaxPlaces:
			if err == nil {
				t.Fatalf("dec.round(%q, %d) = %q, want an error", a, places, got)
			}
		case err != nil:
			t.Fatalf("dec.round(%q, %d): %v", a, places, err)
		case got != String(x.Round(int32(places))):
			t.Fatalf("dec.round(%q, %d) = %q, want %q", a, places, got, String(x.Round(int32(places))))
		}
	})
}
