package engine

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

var (
	decimalPattern = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`)
	moneyPattern   = regexp.MustCompile(`^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$`)
	printer        = message.NewPrinter(language.English)
)

// schemaFormats are the formats the engine adds to JSON Schema; amounts are strings on the wire.
var schemaFormats = []*jsonschema.Format{
	{Name: "decimal", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil // the type keyword decides; a format applies to strings only
		}
		if !decimalPattern.MatchString(s) {
			return errors.New("must be a decimal string such as \"12.50\"")
		}
		return nil
	}},
	{Name: "money", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		if strings.HasPrefix(s, "-") {
			return errors.New("must not be negative")
		}
		if !moneyPattern.MatchString(s) {
			if decimalPattern.MatchString(s) {
				return errors.New("must have at most 2 decimal places")
			}
			return errors.New("must be a non-negative amount string with at most 2 decimal places, such as \"12.50\"")
		}
		return nil
	}},
	{Name: "date", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return errors.New("must be a date YYYY-MM-DD")
		}
		return nil
	}},
	{Name: "date-time", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return errors.New("must be an RFC 3339 timestamp with an offset")
		}
		return nil
	}},
}

// compileSchema compiles a JSON Schema document (already decoded to JSON values).
func compileSchema(name string, doc any) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	for _, f := range schemaFormats {
		c.RegisterFormat(f)
	}
	url := "mem:///" + name
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return s, nil
}

// validateFields validates v and returns one FieldError per failing leaf, fields rooted at root.
func validateFields(s *jsonschema.Schema, v any, root string) []FieldError {
	err := s.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []FieldError{{Field: root, Message: err.Error()}}
	}
	var out []FieldError
	collectFieldErrors(ve, root, &out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return dedupeFields(out)
}

func collectFieldErrors(ve *jsonschema.ValidationError, root string, out *[]FieldError) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			collectFieldErrors(c, root, out)
		}
		return
	}
	base := fieldPath(root, ve.InstanceLocation)
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			*out = append(*out, FieldError{Field: fieldPath(base, []string{m}), Message: "is required"})
		}
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, FieldError{Field: fieldPath(base, []string{p}), Message: "is not an allowed field"})
		}
	case *kind.Format:
		msg := k.LocalizedString(printer)
		if k.Err != nil {
			msg = k.Err.Error()
		}
		*out = append(*out, FieldError{Field: base, Message: msg})
	default:
		*out = append(*out, FieldError{Field: base, Message: ve.ErrorKind.LocalizedString(printer)})
	}
}

func fieldPath(root string, loc []string) string {
	var b strings.Builder
	b.WriteString(root)
	for _, tok := range loc {
		if isIndex(tok) {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func dedupeFields(in []FieldError) []FieldError {
	out := in[:0]
	seen := make(map[FieldError]bool, len(in))
	for _, f := range in {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}
