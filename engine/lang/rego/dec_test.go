package rego

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/shopspring/decimal"
)

const module = `package test

r.add := dec.add("0.1", "0.2")
r.add_numbers := dec.add(0.1, 0.2)
r.sub := dec.sub("10", "0.01")
r.sub_negative := dec.sub("0.01", "10")
r.mul := dec.mul("129.99", "0.1")
r.mul_numbers := dec.mul(129.99, 0.1)
r.mul_mixed := dec.mul("129.99", 0.1)
r.mul_exponent := dec.mul(1.5e3, "2")
r.long_number := dec.add(0.10000000000000000001, 0)
r.incentive := dec.round(dec.mul("565086.49", "0.04"), 2)
r.incentive_raw := dec.mul("565086.49", "0.04")
r.div := dec.div("1", "3")
r.div_up := dec.div("2", "3")
r.div_negative := dec.div("-2", "3")
r.div_exact := dec.div("10", "4")
r.cmp_less := dec.cmp("0.3", "0.31")
r.cmp_equal := dec.cmp("1.0", 1)
r.cmp_greater := dec.cmp(2, "1.99")
r.lt := dec.lt("0.3", "0.31")
r.lt_equal := dec.lt("0.3", "0.30")
r.lte := dec.lte("0.3", "0.30")
r.gt := dec.gt("-1", "-1.5")
r.gte := dec.gte("99.999", "100")
r.eq := dec.eq("1.0", "1.00")
r.eq_number := dec.eq(0.1, "0.10")
r.eq_false := dec.eq("0.1", "0.11")
r.round := dec.round("2.345", 2)
r.round_negative := dec.round("-2.345", 2)
r.round_zero_places := dec.round("2.5", 0)
r.round_hundreds := dec.round("1250", -2)
r.round_bank := dec.round_bank("2.345", 2)
r.round_bank_up := dec.round_bank("2.355", 2)
r.round_bank_negative := dec.round_bank("-2.5", 0)
r.truncate := dec.truncate("2.349", 2)
r.truncate_negative := dec.truncate("-2.349", 2)
r.fixed := dec.fixed("20", 2)
r.fixed_rounds := dec.fixed("-1.005", 2)
r.fixed_zero := dec.fixed(1.5, 0)
r.neg := dec.neg("1.50")
r.neg_negative := dec.neg(-3)
r.abs := dec.abs("-0.5")
r.min := dec.min("1.5", "-2")
r.max := dec.max("1.5", -2)
r.sum := dec.sum(["0.1", "0.2", 0.3])
r.sum_empty := dec.sum([])
r.sum_set := dec.sum({"1", "2.5"})
r.sum_comprehension := dec.sum([o.amount | some o in input.orders])
r.valid := dec.valid("12.34")
r.valid_number := dec.valid(12.34)
r.valid_bad := dec.valid("abc")
r.valid_exponent_string := dec.valid("1e5")
r.valid_null := dec.valid(null)
r.valid_object := dec.valid({"a": 1})
r.canonical := dec.add("500.00", "0")
r.input_number := dec.round(dec.mul(input.base, input.rate), 2)

allow if dec.gte(dec.add(input.paid, "0"), "500")
`

func prepare(t testing.TB, query string, opts ...func(*oparego.Rego)) oparego.PreparedEvalQuery {
	t.Helper()
	opts = append([]func(*oparego.Rego){oparego.Query(query), oparego.Module("test.rego", module)}, opts...)
	opts = append(opts, Options()...)
	pq, err := oparego.New(opts...).PrepareForEval(context.Background())
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	return pq
}

// input is decoded the way the engine decodes requests: numbers keep their text.
func input(t testing.TB, js string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(js))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

const goodInput = `{"orders": [{"amount": "10.10"}, {"amount": 0.2}, {"amount": "5"}],
	"base": 565086.49, "rate": 0.04, "paid": "500.00"}`

func TestBuiltins(t *testing.T) {
	pq := prepare(t, "data.test.r")
	rs, err := pq.Eval(context.Background(), oparego.EvalInput(input(t, goodInput)))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 {
		t.Fatalf("got %d results", len(rs))
	}
	got := rs[0].Expressions[0].Value.(map[string]any)
	tests := []struct {
		name string
		want any
	}{
		{"add", "0.3"},
		{"add_numbers", "0.3"},
		{"sub", "9.99"},
		{"sub_negative", "-9.99"},
		{"mul", "12.999"},
		{"mul_numbers", "12.999"},
		{"mul_mixed", "12.999"},
		{"mul_exponent", "3000"},
		{"long_number", "0.10000000000000000001"},
		{"incentive", "22603.46"},
		{"incentive_raw", "22603.4596"},
		{"div", "0.3333333333333333"},
		{"div_up", "0.6666666666666667"},
		{"div_negative", "-0.6666666666666667"},
		{"div_exact", "2.5"},
		{"cmp_less", json.Number("-1")},
		{"cmp_equal", json.Number("0")},
		{"cmp_greater", json.Number("1")},
		{"lt", true},
		{"lt_equal", false},
		{"lte", true},
		{"gt", true},
		{"gte", false},
		{"eq", true},
		{"eq_number", true},
		{"eq_false", false},
		{"round", "2.35"},
		{"round_negative", "-2.35"},
		{"round_zero_places", "3"},
		{"round_hundreds", "1300"},
		{"round_bank", "2.34"},
		{"round_bank_up", "2.36"},
		{"round_bank_negative", "-2"},
		{"truncate", "2.34"},
		{"truncate_negative", "-2.34"},
		{"fixed", "20.00"},
		{"fixed_rounds", "-1.01"},
		{"fixed_zero", "2"},
		{"neg", "-1.5"},
		{"neg_negative", "3"},
		{"abs", "0.5"},
		{"min", "-2"},
		{"max", "1.5"},
		{"sum", "0.6"},
		{"sum_empty", "0"},
		{"sum_set", "3.5"},
		{"sum_comprehension", "15.3"},
		{"valid", true},
		{"valid_number", true},
		{"valid_bad", false},
		{"valid_exponent_string", false},
		{"valid_null", false},
		{"valid_object", false},
		{"canonical", "500"},
		{"input_number", "22603.46"},
	}
	if len(got) != len(tests) {
		t.Errorf("module defines %d results, table checks %d", len(got), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := got[tc.name]
			if !ok {
				t.Fatalf("r.%s is undefined", tc.name)
			}
			if v != tc.want {
				t.Errorf("r.%s = %#v, want %#v", tc.name, v, tc.want)
			}
		})
	}
}

// TestPreparedManyInputs evaluates one prepared query against many inputs.
func TestPreparedManyInputs(t *testing.T) {
	pq := prepare(t, "data.test.allow")
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"exactly the threshold", `{"paid": "500.00"}`, true},
		{"a cent below", `{"paid": "499.99"}`, false},
		{"above as a number", `{"paid": 500.01}`, true},
		{"tiny fraction below", `{"paid": "499.9999999999999999999"}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := pq.Eval(context.Background(), oparego.EvalInput(input(t, tc.in)))
			if err != nil {
				t.Fatal(err)
			}
			got := len(rs) == 1 && rs[0].Expressions[0].Value == true
			if got != tc.want {
				t.Errorf("allow = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name  string
		query string
		in    string
		want  string
	}{
		{"bad string", `dec.add(input.a, "1")`, `{"a": "abc"}`, `dec.add: operand 1: "abc" is not a decimal number`},
		{"second operand", `dec.lt("1", input.a)`, `{"a": "1,5"}`, `dec.lt: operand 2: "1,5" is not a decimal number`},
		{"exponent string", `dec.mul(input.a, "1")`, `{"a": "1e5"}`, `"1e5" is not a decimal number`},
		{"boolean", `dec.sub(input.a, "1")`, `{"a": true}`, "want a decimal string or a number, got boolean true"},
		{"null", `dec.abs(input.a)`, `{"a": null}`, "dec.abs: want a decimal string or a number, got null"},
		{"division by zero", `dec.div("1", input.a)`, `{"a": "0.00"}`, "dec.div: division by zero"},
		{"sum element", `dec.sum(input.a)`, `{"a": ["1", "x"]}`, `dec.sum: element 1: "x" is not a decimal number`},
		{"sum of an object", `dec.sum(input.a)`, `{"a": {"x": "1"}}`, "dec.sum: want an array or a set, got object"},
		{"places out of range", `dec.round("1", input.a)`, `{"a": 65}`, "dec.round: places 65 is outside [-64, 64]"},
		{"fractional places", `dec.round("1", input.a)`, `{"a": 1.5}`, "places must be a whole number"},
		{"negative fixed places", `dec.fixed("1", input.a)`, `{"a": -1}`, "dec.fixed: places -1 is outside [0, 64]"},
		{"places as a string", `dec.truncate("1", input.a)`, `{"a": "2"}`, "places must be a number, got string"},
		{"too many digits", `dec.mul(input.a, input.a)`, `{"a": "1` + strings.Repeat("0", 600) + `"}`, "decimal exceeds 1000 digits"},
		{"huge exponent", `dec.add(input.a, "1")`, `{"a": 1e5000}`, "dec.add: operand 1: decimal exceeds 1000 digits"},
	}
	for _, tc := range tests {
		for _, strict := range []bool{true, false} {
			name := tc.name
			if !strict {
				name += " without strict errors"
			}
			t.Run(name, func(t *testing.T) {
				r := oparego.New(append([]func(*oparego.Rego){oparego.Query(tc.query), oparego.StrictBuiltinErrors(strict)}, Options()...)...)
				pq, err := r.PrepareForEval(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				rs, err := pq.Eval(context.Background(), oparego.EvalInput(input(t, tc.in)))
				if err == nil {
					t.Fatalf("%s = %v, want an error containing %q", tc.query, rs, tc.want)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: error %q, want it to contain %q", tc.query, err, tc.want)
				}
			})
		}
	}
}

func TestTypeCheck(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  string
	}{
		{"boolean operand", `dec.add(true, "1")`, "dec.add"},
		{"missing operand", `dec.add("1")`, "dec.add"},
		{"string places", `dec.round("1", "2")`, "dec.round"},
		{"sum of a string", `dec.sum("1")`, "dec.sum"},
		{"sum of booleans", `dec.sum([true])`, "dec.sum"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oparego.New(append([]func(*oparego.Rego){oparego.Query(tc.query)}, Options()...)...).PrepareForEval(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "rego_type_error") {
				t.Errorf("prepare %s: %v, want a type error naming %s", tc.query, err, tc.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, in, want string
		number         bool
	}{
		{"plain", "12.50", "12.5", false},
		{"signed", "+3", "3", false},
		{"negative", "-0.010", "-0.01", false},
		{"number", "0.1", "0.1", true},
		{"number exponent", "1.5e3", "1500", true},
		{"number negative exponent", "15E-1", "1.5", true},
		{"number signed exponent", "2e+2", "200", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parse := Parse
			if tc.number {
				parse = parseNumber
			}
			d, err := parse(tc.in)
			if err != nil || String(d) != tc.want {
				t.Errorf("parse(%q) = %s, %v; want %s", tc.in, String(d), err, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "abc", ".5", "5.", "1e5", " 1", "1 ", "--1", "1.2.3", "NaN", "Infinity", "0x10", "1_000", "\u22121"} {
		t.Run("reject "+bad, func(t *testing.T) {
			if d, err := Parse(bad); err == nil {
				t.Errorf("Parse(%q) = %s, want an error", bad, d)
			}
		})
	}
	for _, bad := range []string{"1e", "e5", "1e5.5", "1e99999", "1.e5"} {
		t.Run("reject number "+bad, func(t *testing.T) {
			if d, err := parseNumber(bad); err == nil {
				t.Errorf("parseNumber(%q) = %s, want an error", bad, d)
			}
		})
	}
	// String is decimal.String without its global switches.
	for _, s := range []string{"500.00", "-0.10", "0", "123456789.000000001"} {
		d := decimal.RequireFromString(s)
		if String(d) != d.String() {
			t.Errorf("String(%s) = %s, decimal says %s", s, String(d), d.String())
		}
	}
}

func BenchmarkPreparedEval(b *testing.B) {
	pq := prepare(b, "data.test.allow")
	ctx := context.Background()
	opt := oparego.EvalInput(input(b, `{"paid": "565086.49"}`))
	b.ReportAllocs()
	for b.Loop() {
		rs, err := pq.Eval(ctx, opt)
		if err != nil || len(rs) != 1 || rs[0].Expressions[0].Value != true {
			b.Fatal(rs, err)
		}
	}
}
