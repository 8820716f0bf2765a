package rego

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/types"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// textOptions registers the text.* built-in functions: measurements of text that the interpreter has
// no native for. They hold no business rule.
func textOptions() []func(*oparego.Rego) {
	return []func(*oparego.Rego){
		oparego.Function1(decl("text.gbk_len", "the number of bytes of s encoded in GBK (ASCII 1, Chinese characters 2); a character GBK cannot encode is an error",
			types.N, types.Named("s", types.S)),
			func(_ oparego.BuiltinContext, s *ast.Term) (*ast.Term, error) {
				str, ok := s.Value.(ast.String)
				if !ok {
					return nil, halt(fmt.Errorf("text.gbk_len: operand 1: want a string, got %v", ast.ValueName(s.Value)))
				}
				n, err := gbkLen(string(str))
				if err != nil {
					return nil, halt(err)
				}
				return ast.IntNumberTerm(n), nil
			}),
		oparego.Function1(decl("text.gbk_valid", "whether GBK encodes every character of s (so that text.gbk_len has an answer)",
			types.B, types.Named("s", types.S)),
			func(_ oparego.BuiltinContext, s *ast.Term) (*ast.Term, error) {
				str, ok := s.Value.(ast.String)
				if !ok {
					return nil, halt(fmt.Errorf("text.gbk_valid: operand 1: want a string, got %v", ast.ValueName(s.Value)))
				}
				_, err := gbkLen(string(str))
				return ast.BooleanTerm(err == nil), nil
			}),
	}
}

// gbkLen is the GBK byte length of s.
func gbkLen(s string) (int, error) {
	b, err := simplifiedchinese.GBK.NewEncoder().String(s)
	if err != nil {
		return 0, fmt.Errorf("text.gbk_len: operand 1: %q has a character GBK cannot encode", s)
	}
	return len(b), nil
}
