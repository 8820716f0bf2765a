package engine

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
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

// Bounds of the schema formats. Amounts beyond them are refused at validation, before a policy
// spends time on them; dates beyond them are refused because the languages' time arithmetic works in
// nanoseconds since 1970 (years 1678 to 2262) and policies add years to the dates they are given.
const (
	// MaxIntegerDigits bounds the digits before the point of a decimal or money amount.
	MaxIntegerDigits = 18
	// MaxDecimalPlaces bounds the digits after the point of a decimal amount (money has 2).
	MaxDecimalPlaces = 18
)

var (
	// MinTime and MaxTime bound every date, date-time and as_of a decision accepts: [MinTime, MaxTime).
	MinTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// checkTimeRange refuses an instant outside [MinTime, MaxTime).
func checkTimeRange(t time.Time) error {
	if t.Before(MinTime) || !t.Before(MaxTime) {
		return fmt.Errorf("must be in the years %d to %d", MinTime.Year(), MaxTime.Year()-1)
	}
	return nil
}

// CheckAsOf reports why as_of cannot be decided for, or nil.
func CheckAsOf(t time.Time) error { return checkTimeRange(t) }

// checkDigits refuses an amount matching decimalPattern with too many digits on either side of the point.
func checkDigits(s string, places int) error {
	intPart, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if len(intPart) > MaxIntegerDigits {
		return fmt.Errorf("must have at most %d digits before the decimal point", MaxIntegerDigits)
	}
	if len(frac) > places {
		return fmt.Errorf("must have at most %d decimal places", places)
	}
	return nil
}

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
		return checkDigits(s, MaxDecimalPlaces)
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
				return checkDigits(s, 2)
			}
			return errors.New("must be a non-negative amount string with at most 2 decimal places, such as \"12.50\"")
		}
		return checkDigits(s, 2)
	}},
	{Name: "date", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return errors.New("must be a date YYYY-MM-DD")
		}
		return checkTimeRange(t)
	}},
	{Name: "date-time", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return errors.New("must be an RFC 3339 timestamp with an offset")
		}
		return checkTimeRange(t)
	}},
}

// SchemaFormats are the formats the engine checks besides JSON Schema's own (decimal, money, and
// date and date-time within the engine's time range), for tools that validate as the engine does.
func SchemaFormats() []*jsonschema.Format { return slices.Clone(schemaFormats) }

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
