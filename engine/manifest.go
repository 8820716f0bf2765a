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
	Decision    string              `yaml:"decision"`
	Version     string              `yaml:"version"`
	Description string              `yaml:"description"`
	ValidFrom   time.Time           `yaml:"valid_from"`
	ValidTo     *time.Time          `yaml:"valid_to"`
	Language    string              `yaml:"language"`
	Entrypoint  string              `yaml:"entrypoint"`
	Modules     []string            `yaml:"modules"`
	Catalog     string              `yaml:"catalog"`
	Rules       []string            `yaml:"rules"`
	Facts       map[string]factRef  `yaml:"facts"`
	Tables      map[string]tableUse `yaml:"tables"`
	InputSchema yaml.Node           `yaml:"input_schema"`
	Commit      *commitSpec         `yaml:"commit"`
}

type factRef struct {
	Provider string            `yaml:"provider"`
	Key      map[string]string `yaml:"key"`
}

// tableUse names a rule table, and optionally the instant that chooses its version: either the
// plain form "tables: {policy: incentive.growth_policy}" (chosen by as_of) or
// "{table: incentive.growth_policy, at: \"{input.policy_year}-12-31T00:00:00+08:00\"}".
type tableUse struct {
	Table string
	At    string
}

// UnmarshalYAML accepts a table id or a mapping with exactly the keys table and at.
func (u *tableUse) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&u.Table)
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a table is a table id or {table: <id>, at: <template>}", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var dst *string
		switch k.Value {
		case "table":
			dst = &u.Table
		case "at":
			dst = &u.At
		default:
			return fmt.Errorf("line %d: field %s not found in a table reference (table, at)", k.Line, k.Value)
		}
		if err := v.Decode(dst); err != nil {
			return err
		}
	}
	if u.Table == "" || u.At == "" {
		return fmt.Errorf("line %d: a table reference mapping needs both table and at", n.Line)
	}
	return nil
}

type commitSpec struct {
	IdempotencyKey string   `yaml:"idempotency_key"`
	Locks          []string `yaml:"locks"`
	HoldOnRefer    bool     `yaml:"hold_on_refer"`
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
	alt     *templatePart // fallback when an input field or fact value is absent ({input.x|as_of:2006})
}

var placeholder = regexp.MustCompile(`\{([^{}]*)\}`)

func parseTemplate(s string) (template, error) {
	t := template{raw: s}
	last := 0
	for _, m := range placeholder.FindAllStringSubmatchIndex(s, -1) {
		if m[0] > last {
			t.parts = append(t.parts, templatePart{literal: s[last:m[0]]})
		}
		part, err := parsePlaceholder(s, s[m[2]:m[3]])
		if err != nil {
			return t, err
		}
		t.parts = append(t.parts, part)
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

// parsePlaceholder parses one placeholder; "a|b" takes b when a's input field or fact value is absent.
func parsePlaceholder(s, expr string) (templatePart, error) {
	head, rest, hasAlt := strings.Cut(expr, "|")
	var p templatePart
	switch {
	case strings.HasPrefix(head, "input."):
		path := strings.Split(strings.TrimPrefix(head, "input."), ".")
		if slices.Contains(path, "") {
			return p, fmt.Errorf("template %q: empty path segment", s)
		}
		p = templatePart{path: path}
	case strings.HasPrefix(head, "facts."):
		path := strings.Split(strings.TrimPrefix(head, "facts."), ".")
		if len(path) < 2 || slices.Contains(path, "") {
			return p, fmt.Errorf("template %q: {%s} must name a fact and a field, such as {facts.account.tier}", s, head)
		}
		p = templatePart{fact: path}
	case strings.HasPrefix(head, "as_of:"):
		if hasAlt {
			return p, fmt.Errorf("template %q: {%s} is always present, so it must come last", s, expr)
		}
		return templatePart{isAsOf: true, layout: strings.TrimPrefix(head, "as_of:")}, nil
	default:
		return p, fmt.Errorf("template %q: placeholder {%s} must be {input.<path>}, {facts.<name>.<path>} or {as_of:<layout>}, alternatives joined by |", s, expr)
	}
	if hasAlt {
		alt, err := parsePlaceholder(s, rest)
		if err != nil {
			return p, err
		}
		p.alt = &alt
	}
	return p, nil
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
	if len(t.parts) == 1 && t.parts[0].path != nil && t.parts[0].alt == nil {
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

// source names the first input field or fact field a template reads, for error messages.
func (t template) source() string {
	for _, p := range t.parts {
		switch {
		case p.path != nil:
			return "input." + strings.Join(p.path, ".")
		case p.fact != nil:
			return "facts." + strings.Join(p.fact, ".")
		}
	}
	return "as_of"
}

// facts lists the facts a template reads its key from.
func (t template) facts() []string {
	var out []string
	for _, p := range t.parts {
		for a := &p; a != nil; a = a.alt {
			if a.fact != nil {
				out = append(out, a.fact[0])
			}
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
	if len(t.parts) == 1 && t.parts[0].literal == "" {
		return t.parts[0].value(input, loaded, asOf)
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.literal != "" {
			b.WriteString(p.literal)
			continue
		}
		v, fe := p.value(input, loaded, asOf)
		if fe != nil {
			return nil, fe
		}
		if v == nil {
			return nil, nil
		}
		fmt.Fprint(&b, v)
	}
	return b.String(), nil
}

// value evaluates one placeholder, falling back to its alternative when the value is absent. A fact
// field that is absent or null yields nil: the lookup it keys then matches nothing.
func (p templatePart) value(input any, loaded map[string]any, asOf time.Time) (any, *FieldError) {
	switch {
	case p.path != nil:
		v, fe := lookupPath(input, p.path)
		if fe != nil && p.alt != nil && fe.Message == msgRequired {
			return p.alt.value(input, loaded, asOf)
		}
		return v, fe
	case p.fact != nil:
		v := factValue(loaded, p.fact)
		if v == nil && p.alt != nil {
			return p.alt.value(input, loaded, asOf)
		}
		return v, nil
	case p.isAsOf:
		return asOf.In(calendar.Beijing).Format(p.layout), nil
	}
	return p.literal, nil
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

const msgRequired = "is required"

func lookupPath(input any, path []string) (any, *FieldError) {
	cur := input
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, &FieldError{Field: "input." + strings.Join(path, "."), Message: msgRequired}
		}
		cur, ok = m[p]
		if !ok || cur == nil {
			return nil, &FieldError{Field: "input." + strings.Join(path, "."), Message: msgRequired}
		}
	}
	switch cur.(type) {
	case map[string]any, []any:
		return nil, &FieldError{Field: "input." + strings.Join(path, "."), Message: "must be a scalar value"}
	}
	return cur, nil
}
