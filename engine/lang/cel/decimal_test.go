package cel

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	celgo "cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
	"github.com/shopspring/decimal"
)

// newEnv builds an environment like the engine's: the library beside the common extensions.
func newEnv(t testing.TB) *celgo.Env {
	t.Helper()
	env, err := celgo.NewEnv(
		Library(),
		Library(), // installing twice must be harmless
		ext.Strings(), ext.Math(), ext.Lists(), ext.Sets(),
		celgo.OptionalTypes(),
		celgo.Variable("s", celgo.StringType),
		celgo.Variable("x", celgo.DynType),
		celgo.Variable("d", Type),
		celgo.Variable("facts", celgo.MapType(celgo.StringType, celgo.DynType)),
	)
	if err != nil {
		t.Fatalf("NewEnv: %v", err)
	}
	return env
}

// compile checks and plans expr, with and without constant folding.
func compileTest(t testing.TB, env *celgo.Env, expr string) []celgo.Program {
	t.Helper()
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		t.Fatalf("compile %s: %v", expr, iss.Err())
	}
	var prgs []celgo.Program
	for _, opts := range [][]celgo.ProgramOption{nil, {celgo.EvalOptions(celgo.OptOptimize)}} {
		prg, err := env.Program(ast, opts...)
		if err != nil {
			t.Fatalf("program %s: %v", expr, err)
		}
		prgs = append(prgs, prg)
	}
	return prgs
}

var vars = map[string]any{
	"s": "12.50",
	"x": "0.1",
	"d": Value(decimal.RequireFromString("-2.5")),
	"facts": map[string]any{
		"orders": []any{
			map[string]any{"amount": "10.10"},
			map[string]any{"amount": "0.20"},
			map[string]any{"amount": "5"},
		},
		"paid":  "500.00",
		"count": int64(3),
		"ratio": 0.5,
	},
}

func TestEval(t *testing.T) {
	env := newEnv(t)
	tests := []struct {
		name string
		expr string
		want any // bool, string, int64; decimals are compared by their canonical string
	}{
		{"sum of tenths is exact", `dec("0.1") + dec("0.2") == dec("0.3")`, true},
		{"price times rate", `dec("129.99") * dec("0.1") == dec("12.999")`, true},
		{"growth incentive rounds half up", `(dec("565086.49") * dec("0.04")).round(2).string() == "22603.46"`, true},
		{"product before rounding", `dec("565086.49") * dec("0.04")`, "22603.4596"},
		{"subtraction", `dec("10") - dec("0.01")`, "9.99"},
		{"negative result", `dec("0.01") - dec("10")`, "-9.99"},
		{"unary minus", `-dec("1.5")`, "-1.5"},
		{"unary minus of a variable", `-d`, "2.5"},
		{"dec of int", `dec(5) * dec("1.5")`, "7.5"},
		{"dec of negative int", `dec(-5)`, "-5"},
		{"dec of decimal is itself", `dec(dec("1.10"))`, "1.1"},
		{"dec of a dyn string", `dec(x) * dec(3)`, "0.3"},
		{"dec of a fact string", `dec(facts.paid) == dec(500)`, true},
		{"dec of a fact int", `dec(facts.count)`, "3"},
		{"leading plus", `dec("+1.5")`, "1.5"},
		{"trailing zeros are dropped", `dec("500.00").string()`, "500"},

		{"equal by value", `dec("1.0") == dec("1.00")`, true},
		{"not equal", `dec("1.0") != dec("1.01")`, true},
		{"not equal is false for equal values", `dec("2") != dec("2.000")`, false},
		{"decimal in list", `dec("1") in [dec("2"), dec("1.000")]`, true},
		{"decimal not equal to int through dyn", `dyn(dec("1")) == dyn(1)`, false},
		{"less", `dec("0.3") < dec("0.31")`, true},
		{"less is strict", `dec("0.3") < dec("0.30")`, false},
		{"less or equal", `dec("0.3") <= dec("0.30")`, true},
		{"greater", `dec("-1") > dec("-1.5")`, true},
		{"greater or equal", `dec("100") >= dec("99.999")`, true},
		{"greater or equal false", `dec("99.999") >= dec("100")`, false},

		{"division to sixteen places", `dec("1") / dec("3")`, "0.3333333333333333"},
		{"division rounds half away from zero", `dec("2") / dec("3")`, "0.6666666666666667"},
		{"negative division rounds away from zero", `dec("-2") / dec("3")`, "-0.6666666666666667"},
		{"exact division keeps no zeros", `dec("10") / dec("4")`, "2.5"},
		{"division below sixteen places is zero", `dec("0.00000000000000001") / dec("1")`, "0"},
		{"division then round", `(dec("100") / dec("3")).round(2)`, "33.33"},

		{"round half away from zero", `dec("2.345").round(2)`, "2.35"},
		{"round negative half away from zero", `dec("-2.345").round(2)`, "-2.35"},
		{"round to zero places", `dec("2.5").round(0)`, "3"},
		{"round negative to zero places", `dec("-2.5").round(0)`, "-3"},
		{"round to hundreds", `dec("1250").round(-2)`, "1300"},
		{"round below half", `dec("2.344").round(2)`, "2.34"},
		{"round bank half to even down", `dec("2.345").round_bank(2)`, "2.34"},
		{"round bank half to even up", `dec("2.355").round_bank(2)`, "2.36"},
		{"round bank negative", `dec("-2.5").round_bank(0)`, "-2"},
		{"round bank not half", `dec("2.3451").round_bank(2)`, "2.35"},
		{"truncate", `dec("2.349").truncate(2)`, "2.34"},
		{"truncate negative toward zero", `dec("-2.349").truncate(2)`, "-2.34"},
		{"truncate to tens", `dec("-5439").truncate(-1)`, "-5430"},
		{"ceil", `dec("2.1").ceil()`, "3"},
		{"ceil negative", `dec("-2.9").ceil()`, "-2"},
		{"floor", `dec("2.9").floor()`, "2"},
		{"floor negative", `dec("-2.1").floor()`, "-3"},
		{"abs", `dec("-0.5").abs()`, "0.5"},
		{"sign negative", `dec("-0.5").sign()`, int64(-1)},
		{"sign zero", `dec("0.00").sign()`, int64(0)},
		{"sign positive", `dec("7").sign()`, int64(1)},
		{"string", `dec("-0.50").string()`, "-0.5"},
		{"string_fixed pads", `dec("20").string_fixed(2)`, "20.00"},
		{"string_fixed rounds half away from zero", `dec("-1.005").string_fixed(2)`, "-1.01"},
		{"string_fixed zero places", `dec("1.5").string_fixed(0)`, "2"},
		{"is_zero", `dec("0.000").is_zero()`, true},
		{"is_zero false", `dec("0.001").is_zero()`, false},

		{"sum of decimals", `dec_sum([dec("0.1"), dec("0.2"), dec("0.3")])`, "0.6"},
		{"sum of an empty list", `dec_sum([])`, "0"},
		{"sum of mapped facts", `dec_sum(facts.orders.map(o, dec(o.amount)))`, "15.3"},
		{"sum of fact strings", `dec_sum(facts.orders.map(o, o.amount))`, "15.3"},
		{"sum of dyn list", `dec_sum([dyn(dec("1")), dyn("2.5"), dyn(3)])`, "6.5"},
		{"min", `dec_min(dec("1.5"), dec("-2"))`, "-2"},
		{"max", `dec_max(dec("1.5"), dec("-2"))`, "1.5"},
		{"min of equal values keeps the first", `dec_min(dec("1.50"), dec("1.5")).string_fixed(2)`, "1.50"},
		{"valid", `dec_valid("12.34")`, true},
		{"valid negative", `dec_valid("-0.5")`, true},
		{"invalid letters", `dec_valid("abc")`, false},
		{"invalid exponent", `dec_valid("1e5")`, false},
		{"invalid empty", `dec_valid("")`, false},
		{"invalid missing fraction", `dec_valid("5.")`, false},
		{"invalid missing integer", `dec_valid(".5")`, false},
		{"invalid space", `dec_valid(" 1")`, false},
		{"invalid through dyn int", `dec_valid(dyn(5))`, false},
		{"valid variable", `dec_valid(s)`, true},
		{"variable arithmetic", `(dec(s) * dec("3")).round(1)`, "37.5"},
		{"conditional on decimals", `dec(s) > dec("10") ? "big" : "small"`, "big"},
		{"decimal list output", `[dec("1.10"), dec("2")]`, []any{"1.1", "2"}},
		{"decimal map output", `{"a": dec("0.50")}`, map[string]any{"a": "0.5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, prg := range compileTest(t, env, tc.expr) {
				out, _, err := prg.Eval(vars)
				if err != nil {
					t.Fatalf("%s: %v", tc.expr, err)
				}
				got, err := Native(out)
				if err != nil {
					t.Fatalf("Native: %v", err)
				}
				if !jsonEqual(got, tc.want) {
					t.Errorf("%s = %#v, want %#v", tc.expr, got, tc.want)
				}
			}
		})
	}
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestEvalErrors(t *testing.T) {
	env := newEnv(t)
	tests := []struct {
		name string
		expr string
		want string
	}{
		{"bad literal", `dec("abc")`, `dec: "abc" is not a decimal number`},
		{"exponent literal", `dec("1e3")`, `is not a decimal number`},
		{"bad literal in a comparison", `dec("12,50") > dec("1")`, `"12,50" is not a decimal number`},
		{"division by zero", `dec("1") / dec("0.00")`, "decimal division by zero"},
		{"division by zero inside rounding", `(dec("1") / dec("0")).round(2)`, "decimal division by zero"},
		{"double through dyn", `dec(facts.ratio)`, "is a double, which is not exact"},
		{"bool through dyn", `dec(dyn(true))`, "cannot make a decimal from a value of type bool"},
		{"sum with a bad element", `dec_sum(["1", "x"])`, `dec_sum: element 1: dec: "x" is not a decimal number`},
		{"sum with a double", `dec_sum([dyn(1.5)])`, "element 0"},
		{"round places too large", `dec("1").round(65)`, "round: places 65 is outside [-64, 64]"},
		{"string_fixed negative places", `dec("1").string_fixed(-1)`, "string_fixed: places -1 is outside [0, 64]"},
		{"too many digits", `dec("1` + zeros(999) + `") * dec("1` + zeros(10) + `")`, "decimal exceeds 1000 digits"},
		{"too many places", `dec("0.` + zeros(600) + `1") * dec("0.` + zeros(600) + `1")`, "decimal exceeds 1000 digits"},
		{"literal too long", `dec("1` + zeros(1000) + `")`, "decimal exceeds 1000 digits"},
		{"min through dyn of wrong type", `dec_min(dyn(1), dyn(2))`, "no such overload"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, prg := range compileTest(t, env, tc.expr) {
				out, _, err := prg.Eval(vars)
				if err == nil {
					t.Fatalf("%s = %v, want an error containing %q", tc.expr, out, tc.want)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: error %q, want it to contain %q", tc.expr, err, tc.want)
				}
			}
		})
	}
}

func zeros(n int) string { return strings.Repeat("0", n) }

func TestCheckErrors(t *testing.T) {
	env := newEnv(t)
	tests := []struct {
		name string
		expr string
	}{
		{"decimal plus int", `dec("1") + 1`},
		{"int plus decimal", `1 + dec("1")`},
		{"decimal times double", `dec("1") * 1.5`},
		{"decimal compared to string", `dec("1") < "2"`},
		{"decimal equals int", `dec("1") == 1`},
		{"dec of double", `dec(1.5)`},
		{"dec of bool", `dec(true)`},
		{"round without places", `dec("1").round()`},
		{"round with string places", `dec("1").round("2")`},
		{"sum of a non-list", `dec_sum(dec("1"))`},
		{"min of strings", `dec_min("1", "2")`},
		{"valid of an int", `dec_valid(1)`},
		{"negate a string", `-"1"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, iss := env.Compile(tc.expr); iss.Err() == nil {
				t.Errorf("%s type-checked, want an error", tc.expr)
			}
		})
	}
}

func TestOutputType(t *testing.T) {
	env := newEnv(t)
	tests := []struct {
		name string
		expr string
		want *celgo.Type
	}{
		{"arithmetic", `dec("1") + dec("2") * dec("3") / dec("4") - dec("5")`, Type},
		{"rounding", `dec("1").round(2).round_bank(1).truncate(0).ceil().floor().abs()`, Type},
		{"negation", `-dec("1")`, Type},
		{"comparison", `dec("1") <= dec("2")`, celgo.BoolType},
		{"sign", `dec("1").sign()`, celgo.IntType},
		{"string", `dec("1").string()`, celgo.StringType},
		{"string_fixed", `dec("1").string_fixed(2)`, celgo.StringType},
		{"sum", `dec_sum([dec("1")])`, Type},
		{"min", `dec_min(dec("1"), dec("2"))`, Type},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ast, iss := env.Compile(tc.expr)
			if iss.Err() != nil {
				t.Fatal(iss.Err())
			}
			if !ast.OutputType().IsExactType(tc.want) {
				t.Errorf("%s has type %v, want %v", tc.expr, ast.OutputType(), tc.want)
			}
		})
	}
}

// TestEvalMany evaluates one program against many inputs, as the engine does.
func TestEvalMany(t *testing.T) {
	env := newEnv(t)
	prg := compileTest(t, env, `(dec(s) * dec("0.04")).round(2).string()`)[1]
	tests := []struct {
		name, in, want string
	}{
		{"growth incentive", "565086.49", "22603.46"},
		{"whole amount", "1000000", "40000"},
		{"half cent rounds up", "0.125", "0.01"},
		{"negative", "-0.125", "-0.01"},
		{"zero", "0", "0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := prg.Eval(map[string]any{"s": tc.in})
			if err != nil {
				t.Fatal(err)
			}
			if got := out.Value(); got != tc.want {
				t.Errorf("s=%s: got %v, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestNative(t *testing.T) {
	env := newEnv(t)
	ts := time.Date(2025, 3, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	tests := []struct {
		name string
		in   ref.Val
		want any
	}{
		{"decimal", Value(decimal.RequireFromString("500.00")), "500"},
		{"null", types.NullValue, nil},
		{"bool", types.True, true},
		{"int", types.Int(-3), int64(-3)},
		{"uint", types.Uint(3), uint64(3)},
		{"double", types.Double(0.5), 0.5},
		{"string", types.String("a"), "a"},
		{"timestamp in UTC", types.Timestamp{Time: ts}, "2025-02-28T16:00:00Z"},
		{"duration", types.Duration{Duration: 90 * time.Minute}, "5400s"},
		{"nested", types.DefaultTypeAdapter.NativeToValue(map[string]any{
			"list": []any{"x", int64(1), map[string]any{"n": nil}},
		}), map[string]any{"list": []any{"x", int64(1), map[string]any{"n": nil}}}},
		{"empty optional", types.OptionalNone, nil},
		{"present optional", types.OptionalOf(Value(decimal.NewFromInt(2))), "2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Native(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(got, tc.want) {
				t.Errorf("Native = %#v, want %#v", got, tc.want)
			}
			switch tc.want.(type) {
			case int64, uint64, string, bool, float64, nil:
				if got != tc.want {
					t.Errorf("Native = %#v (%T), want %#v (%T)", got, got, tc.want, tc.want)
				}
			}
		})
	}

	exprs := []struct {
		name string
		expr string
		want string
	}{
		{"list of decimals", `[dec("1.50"), dec("-2")]`, `["1.5","-2"]`},
		{"map of lists of decimals", `{"a": [dec("0.10")], "b": {"c": dec("3")}}`, `{"a":["0.1"],"b":{"c":"3"}}`},
		{"int keys", `{1: dec("1")}`, `{"1":"1"}`},
		{"timestamp", `timestamp("2025-03-01T00:00:00+08:00")`, `"2025-02-28T16:00:00Z"`},
		{"duration", `duration("1m30s")`, `"90s"`},
		{"mixed", `{"ok": true, "n": 2, "s": "x", "none": null}`, `{"n":2,"none":null,"ok":true,"s":"x"}`},
	}
	for _, tc := range exprs {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := compileTest(t, env, tc.expr)[0].Eval(vars)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Native(out)
			if err != nil {
				t.Fatal(err)
			}
			if js, _ := json.Marshal(got); string(js) != tc.want {
				t.Errorf("Native(%s) = %s, want %s", tc.expr, js, tc.want)
			}
		})
	}

	failures := []struct {
		name string
		in   ref.Val
		want string
	}{
		{"error", types.NewErr("boom"), "boom"},
		{"NaN", types.Double(nan()), "no JSON form"},
		{"bytes", types.Bytes("x"), "no JSON form"},
		{"error inside a list", types.DefaultTypeAdapter.NativeToValue([]ref.Val{types.NewErr("deep")}), "[0]: deep"},
		{"double key", types.DefaultTypeAdapter.NativeToValue(map[float64]string{1.5: "x"}), "map key of type double"},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Native(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Native = %v, %v; want an error containing %q", got, err, tc.want)
			}
		})
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

func TestNativeErrorUnwraps(t *testing.T) {
	_, err := Native(Value(decimal.NewFromInt(1)).(decVal).Divide(Value(decimal.Zero)))
	if !errors.Is(err, errDivByZero) {
		t.Errorf("Native(1/0) error = %v, want errDivByZero", err)
	}
}

func TestValueRoundTrip(t *testing.T) {
	d := decimal.RequireFromString("-12.345")
	got, ok := FromVal(Value(d))
	if !ok || !got.Equal(d) {
		t.Errorf("FromVal(Value(%s)) = %s, %v", d, got, ok)
	}
	if _, ok := FromVal(types.String("1")); ok {
		t.Error("FromVal(string) reported a decimal")
	}
	native, err := Value(d).ConvertToNative(decimalReflect)
	if err != nil || !native.(decimal.Decimal).Equal(d) {
		t.Errorf("ConvertToNative(decimal.Decimal) = %v, %v", native, err)
	}
	s, err := Value(d).ConvertToNative(stringReflect)
	if err != nil || s != "-12.345" {
		t.Errorf("ConvertToNative(string) = %v, %v", s, err)
	}
	if v := Value(d).ConvertToType(types.StringType); v != types.String("-12.345") {
		t.Errorf("ConvertToType(string) = %v", v)
	}
}

func TestStringMatchesDecimalString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"integer", "500", "500"},
		{"trailing zeros", "500.00", "500"},
		{"fraction", "0.050", "0.05"},
		{"negative", "-0.10", "-0.1"},
		{"zero with places", "0.000", "0"},
		{"negative zero", "-0.00", "0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := decimal.RequireFromString(tc.in)
			if got := String(d); got != tc.want || got != d.String() {
				t.Errorf("String(%s) = %q, decimal.String = %q, want %q", tc.in, got, d.String(), tc.want)
			}
		})
	}
	// A positive exponent, as left by rounding to tens.
	d := decimal.RequireFromString("1250").Round(-2)
	if got := String(d); got != "1300" {
		t.Errorf("String(1250 rounded to hundreds) = %q, want 1300", got)
	}
}

func FuzzDec(f *testing.F) {
	for _, s := range []string{"0", "0.1", "-12.50", "+3", "1e5", "abc", "", ".5", "5.", "00.000", "-0", "1_000", "١", "12345678901234567890.123456789", "\u22121"} {
		f.Add(s)
	}
	env := newEnv(f)
	prg := compileTest(f, env, `[dec_valid(s), dec(s).string()]`)[0]
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		out, _, evalErr := prg.Eval(map[string]any{"s": s})
		if (err == nil) != (evalErr == nil) {
			t.Fatalf("Parse(%q) error %v but dec(s) error %v", s, err, evalErr)
		}
		if err != nil {
			if !strings.Contains(evalErr.Error(), "dec: ") {
				t.Fatalf("dec(%q) error %q does not name the function", s, evalErr)
			}
			return
		}
		// The value is the exact rational the text denotes.
		want, ok := new(big.Rat).SetString(strings.TrimPrefix(s, "+"))
		if !ok || want.Cmp(d.Rat()) != 0 {
			t.Fatalf("Parse(%q) = %s, want %v", s, d, want)
		}
		// The canonical text parses back to the same value and is a fixed point.
		canon := String(d)
		back, err := Parse(canon)
		if err != nil || !back.Equal(d) || String(back) != canon {
			t.Fatalf("Parse(%q) -> %q -> %v, %v", s, canon, back, err)
		}
		got, err := Native(out)
		if err != nil {
			t.Fatal(err)
		}
		if list := got.([]any); list[0] != true || list[1] != canon {
			t.Fatalf("CEL %q: got %v, want [true %s]", s, list, canon)
		}
	})
}

func BenchmarkExpression(b *testing.B) {
	env := newEnv(b)
	prg := compileTest(b, env, `(dec(s) * dec("0.04")).round(2) > dec("1000.00")`)[1]
	act := map[string]any{"s": "565086.49"}
	b.ReportAllocs()
	for b.Loop() {
		out, _, err := prg.Eval(act)
		if err != nil || out != types.True {
			b.Fatal(out, err)
		}
	}
}
