package rego

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	oparego "github.com/open-policy-agent/opa/v1/rego"
)

func TestGBKLen(t *testing.T) {
	tests := []struct {
		name string
		expr string
		want string
	}{
		{name: "ascii is one byte a character", expr: `text.gbk_len("Arbiter Ltd.")`, want: `12`},
		{name: "a Chinese character is two bytes", expr: `text.gbk_len("华为云计算技术有限公司")`, want: `22`},
		{name: "mixed", expr: `text.gbk_len("ABC（中国）有限公司")`, want: `19`},
		{name: "empty", expr: `text.gbk_len("")`, want: `0`},
		{name: "valid", expr: `text.gbk_valid("示例 Ltd.")`, want: `true`},
		{name: "an emoji is not GBK", expr: `text.gbk_valid("a😀")`, want: `false`},
		{name: "a replacement character is not GBK", expr: `text.gbk_valid("\ufffd")`, want: `false`},
		{name: "50 Chinese characters are 100 bytes", expr: `text.gbk_len("` + strings.Repeat("云", 50) + `")`, want: `100`},
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
				t.Errorf("%s = %v, want %s", tc.expr, got, tc.want)
			}
		})
	}
}

func TestGBKLenErrors(t *testing.T) {
	tests := []struct {
		name, expr, want string
	}{
		{name: "a character outside GBK", expr: `text.gbk_len("a😀")`, want: "GBK cannot encode"},
		{name: "not a string", expr: `text.gbk_len(input.x)`, want: "want a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]func(*oparego.Rego){oparego.Query("x := " + tc.expr), oparego.StrictBuiltinErrors(true), oparego.Input(map[string]any{"x": 3})}, Options()...)
			_, err := oparego.New(opts...).Eval(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%s: error %v, want one containing %q", tc.expr, err, tc.want)
			}
		})
	}
}
