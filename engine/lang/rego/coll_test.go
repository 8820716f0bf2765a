package rego

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	oparego "github.com/open-policy-agent/opa/v1/rego"
)

func evalColl(t *testing.T, expr string) (any, error) {
	t.Helper()
	opts := append([]func(*oparego.Rego){oparego.Query("x := " + expr), oparego.StrictBuiltinErrors(true)}, Options()...)
	rs, err := oparego.New(opts...).Eval(context.Background())
	if err != nil {
		return nil, err
	}
	if len(rs) != 1 {
		t.Fatalf("%s: %d results", expr, len(rs))
	}
	return rs[0].Bindings["x"], nil
}

func TestCollections(t *testing.T) {
	const xs = `[{"id": "a", "m": "M1", "n": 1}, {"id": "b", "m": "M2", "n": 2}, {"id": "c", "m": "M1"}, {"id": "d", "n": null}]`
	tests := []struct {
		name string
		expr string
		want string
	}{
		{name: "group_by keeps order and leaves out objects without the field", expr: `coll.group_by(` + xs + `, "m")`,
			want: `{"M1": [{"id": "a", "m": "M1", "n": 1}, {"id": "c", "m": "M1"}], "M2": [{"id": "b", "m": "M2", "n": 2}]}`},
		{name: "group_by a null value", expr: `[o.id | some o in coll.group_by(` + xs + `, "n")[null]]`, want: `["d"]`},
		{name: "group_by empty", expr: `coll.group_by([], "m")`, want: `{}`},
		{name: "group_by a set", expr: `coll.group_by({{"k": 1}, {"k": 1, "v": 2}}, "k")`, want: `{"1": [{"k": 1}, {"k": 1, "v": 2}]}`},
		{name: "index_by", expr: `coll.index_by(` + xs + `, "id")["c"]`, want: `{"id": "c", "m": "M1"}`},
		{name: "index_by equal duplicates", expr: `coll.index_by([{"id": 1}, {"id": 1}], "id")`, want: `{"1": {"id": 1}}`},
		{name: "where_in array", expr: `[o.id | some o in coll.where_in(` + xs + `, "m", ["M1"])]`, want: `["a", "c"]`},
		{name: "where_in set", expr: `[o.id | some o in coll.where_in(` + xs + `, "n", {2, null})]`, want: `["b", "d"]`},
		{name: "where_in null values", expr: `coll.where_in(` + xs + `, "m", null)`, want: `[]`},
		{name: "where_not_in counts a missing field as not in", expr: `[o.id | some o in coll.where_not_in(` + xs + `, "m", ["M1"])]`, want: `["b", "d"]`},
		{name: "where_not_in null values", expr: `count(coll.where_not_in(` + xs + `, "m", null))`, want: `4`},
		{name: "max_of", expr: `dec.max_of(["10.5", 3, "10.50", "-1"])`, want: `"10.5"`},
		{name: "max_of one", expr: `dec.max_of({"0.01"})`, want: `"0.01"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := evalColl(t, tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			var want any
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normalize(got), want) {
				t.Errorf("%s = %v, want %v", tc.expr, got, want)
			}
		})
	}
}

// normalize turns json.Number results into float64, as json.Unmarshal reads the expectations.
func normalize(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func TestCollectionErrors(t *testing.T) {
	tests := []struct {
		name string
		expr string
		want string
	}{
		{name: "index_by conflicting duplicates", expr: `coll.index_by([{"id": 1, "v": 1}, {"id": 1, "v": 2}], "id")`, want: "two different objects"},
		{name: "group_by a non-object", expr: `coll.group_by(input.xs, "m")`, want: "not an object"},
		{name: "group_by a non-object, type-checked", expr: `coll.group_by([{"m": 1}, 2], "m")`, want: "invalid argument"},
		{name: "where_in values not a collection", expr: `coll.where_in([{"m": 1}], "m", input.x)`, want: "values must be"},
		{name: "max_of empty", expr: `dec.max_of([])`, want: "no values"},
		{name: "max_of not a decimal", expr: `dec.max_of(["1", "x"])`, want: "element 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]func(*oparego.Rego){oparego.Query("x := " + tc.expr), oparego.StrictBuiltinErrors(true), oparego.Input(map[string]any{"x": "text", "xs": []any{map[string]any{"m": 1}, 2}})}, Options()...)
			_, err := oparego.New(opts...).Eval(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
