package engine

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"arbiter/engine/internal/calendar"
)

// manifest is the decoded manifest.yaml of one policy version.
type manifest struct {
	Decision    string             `yaml:"decision"`
	Version     string             `yaml:"version"`
	Description string             `yaml:"description"`
	ValidFrom   time.Time          `yaml:"valid_from"`
	ValidTo     *time.Time         `yaml:"valid_to"`
	Language    string             `yaml:"language"`
	Entrypoint  string             `yaml:"entrypoint"`
	Modules     []string           `yaml:"modules"`
	Catalog     string             `yaml:"catalog"`
	Rules       []string           `yaml:"rules"`
	Facts       map[string]factRef `yaml:"facts"`
	Tables      map[string]string  `yaml:"tables"`
	InputSchema yaml.Node          `yaml:"input_schema"`
	Commit      *commitSpec        `yaml:"commit"`
}

type factRef struct {
	Provider string            `yaml:"provider"`
	Key      map[string]string `yaml:"key"`
}

type commitSpec struct {
	IdempotencyKey string   `yaml:"idempotency_key"`
	Locks          []string `yaml:"locks"`
}

// window is a half-open effective interval [From, To); a nil To is open-ended.
type window struct {
	From time.Time
	To   *time.Time
}

func (w window) contains(t time.Time) bool {
	return !t.Before(w.From) && (w.To == nil || t.Before(*w.To))
}

func (w window) overlaps(o window) bool {
	aEndsBeforeB := w.To != nil && !w.To.After(o.From)
	bEndsBeforeA := o.To != nil && !o.To.After(w.From)
	return !aEndsBeforeB && !bEndsBeforeA
}

func (w window) String() string {
	to := "open"
	if w.To != nil {
		to = w.To.Format(time.RFC3339)
	}
	return fmt.Sprintf("[%s, %s)", w.From.Format(time.RFC3339), to)
}

// template is a key template such as "coupon:{input.coupon_id}" or "{as_of:2006}".
type template struct {
	raw   string
	parts []templatePart
}

type templatePart struct {
	literal string
	path    []string // input path, when set
	fact    []string // fact name then path, when set: a key taken from another fact
	layout  string   // as_of layout, when set
	isAsOf  bool
}

var placeholder = regexp.MustCompile(`\{([^{}]*)\}`)

func parseTemplate(s string) (template, error) {
	t := template{raw: s}
	last := 0
	for _, m := range placeholder.FindAllStringSubmatchIndex(s, -1) {
		if m[0] > last {
			t.parts = append(t.parts, templatePart{literal: s[last:m[0]]})
		}
		expr := s[m[2]:m[3]]
		switch {
		case strings.HasPrefix(expr, "input."):
			path := strings.Split(strings.TrimPrefix(expr, "input."), ".")
			for _, p := range path {
				if p == "" {
					return t, fmt.Errorf("template %q: empty path segment", s)
				}
			}
			t.parts = append(t.parts, templatePart{path: path})
		case strings.HasPrefix(expr, "facts."):
			path := strings.Split(strings.TrimPrefix(expr, "facts."), ".")
			if len(path) < 2 || slices.Contains(path, "") {
				return t, fmt.Errorf("template %q: {%s} must name a fact and a field, such as {facts.account.tier}", s, expr)
			}
			t.parts = append(t.parts, templatePart{fact: path})
		case strings.HasPrefix(expr, "as_of:"):
			t.parts = append(t.parts, templatePart{isAsOf: true, layout: strings.TrimPrefix(expr, "as_of:")})
		default:
			return t, fmt.Errorf("template %q: placeholder {%s} must be {input.<path>}, {facts.<name>.<path>} or {as_of:<layout>}", s, expr)
		}
		last = m[1]
	}
	if last < len(s) {
		t.parts = append(t.parts, templatePart{literal: s[last:]})
	}
	if strings.ContainsAny(strings.Join(literals(t.parts), ""), "{}") {
		return t, fmt.Errorf("template %q: unbalanced braces", s)
	}
	return t, nil
}

func literals(ps []templatePart) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.literal)
	}
	return out
}

// field names the single input field this template is made of, or "" when it is composite.
func (t template) field() string {
	if len(t.parts) == 1 && t.parts[0].path != nil {
		return "input." + strings.Join(t.parts[0].path, ".")
	}
	return ""
}

// firstField names the first input field a template reads, for error messages.
func (t template) firstField() string {
	for _, p := range t.parts {
		if p.path != nil {
			return "input." + strings.Join(p.path, ".")
		}
	}
	return ""
}

// facts lists the facts a template reads its key from.
func (t template) facts() []string {
	var out []string
	for _, p := range t.parts {
		if p.fact != nil {
			out = append(out, p.fact[0])
		}
	}
	return out
}

// expand evaluates the template over the input; a single placeholder keeps the value's type.
func (t template) expand(input any, asOf time.Time) (any, *FieldError) {
	return t.expandWith(input, nil, asOf)
}

// expandWith evaluates the template over the input and the facts loaded so far. A fact field
// that is absent or null yields nil: the lookup it keys then matches nothing.
func (t template) expandWith(input any, loaded map[string]any, asOf time.Time) (any, *FieldError) {
	if len(t.parts) == 1 && t.parts[0].path != nil {
		return lookupPath(input, t.parts[0].path)
	}
	if len(t.parts) == 1 && t.parts[0].fact != nil {
		return factValue(loaded, t.parts[0].fact), nil
	}
	var b strings.Builder
	for _, p := range t.parts {
		switch {
		case p.path != nil:
			v, fe := lookupPath(input, p.path)
			if fe != nil {
				return nil, fe
			}
			fmt.Fprint(&b, v)
		case p.fact != nil:
			v := factValue(loaded, p.fact)
			if v == nil {
				return nil, nil
			}
			fmt.Fprint(&b, v)
		case p.isAsOf:
			b.WriteString(asOf.In(calendar.Beijing).Format(p.layout))
		default:
			b.WriteString(p.literal)
		}
	}
	return b.String(), nil
}

// factValue reads name.path from the loaded facts; nil when any step is missing or not an object.
func factValue(loaded map[string]any, ref []string) any {
	var cur any = loaded[ref[0]]
	for _, p := range ref[1:] {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	switch cur.(type) {
	case map[string]any, []any:
		return nil
	}
	return cur
}

func lookupPath(input any, path []string) (any, *FieldError) {
	cur := input
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, &FieldError{Field: "input." + strings.Join(path, "."), Message: "is required"}
		}
		cur, ok = m[p]
		if !ok || cur == nil {
			return nil, &FieldError{Field: "input." + strings.Join(path, "."), Message: "is required"}
		}
	}
	switch cur.(type) {
	case map[string]any, []any:
		return nil, &FieldError{Field: "input." + strings.Join(path, "."), Message: "must be a scalar value"}
	}
	return cur, nil
}
