package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"
)

// colType is a catalog column type.
type colType uint8

const (
	typeText colType = iota + 1
	typeInt
	typeBool
	typeDecimal
	typeDate
	typeTimestamp
	typeTextArray
	typeJSON
)

var typeNames = map[string]colType{
	"text": typeText, "int": typeInt, "bool": typeBool, "decimal": typeDecimal, "date": typeDate,
	"timestamp": typeTimestamp, "text[]": typeTextArray, "json": typeJSON,
}

func (t colType) String() string {
	for name, v := range typeNames {
		if v == t {
			return name
		}
	}
	return "unknown"
}

// sqlType is the PostgreSQL type a column of t is created with.
func (t colType) sqlType() string {
	switch t {
	case typeText:
		return "text"
	case typeInt:
		return "bigint"
	case typeBool:
		return "boolean"
	case typeDecimal:
		return "numeric"
	case typeDate:
		return "date"
	case typeTimestamp:
		return "timestamptz"
	case typeTextArray:
		return "text[]"
	case typeJSON:
		return "jsonb"
	}
	return ""
}

// keyable reports whether a column of t may be used in by, order_by or a primary key.
func (t colType) keyable() bool { return t != typeTextArray && t != typeJSON }

const dateLayout = "2006-01-02"

// formatTimestamp is the canonical form of a timestamp: RFC 3339 in UTC at PostgreSQL's microsecond precision.
func formatTimestamp(t time.Time) string {
	return t.UTC().Round(time.Microsecond).Format(time.RFC3339Nano)
}

func parseTimestamp(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp with an offset (2025-06-07T12:00:00+08:00)", s)
	}
	if err := checkTimestamp(t); err != nil {
		return time.Time{}, fmt.Errorf("%q %w", s, err)
	}
	return t, nil
}

// checkTimestamp keeps timestamps to years 1..9999 in UTC: the canonical RFC 3339 form cannot write
// other years, and PostgreSQL has no year 0.
func checkTimestamp(t time.Time) error {
	if y := t.UTC().Round(time.Microsecond).Year(); y < 1 || y > 9999 {
		return errors.New("is outside the years 1 to 9999 (in UTC)")
	}
	return nil
}

func parseDate(s string) (time.Time, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	if t.Year() < 1 {
		return time.Time{}, fmt.Errorf("%q is not a date: there is no year 0", s)
	}
	return t, nil
}

// PostgreSQL's numeric holds at most this many digits before the decimal point and after it.
const (
	maxDecimalIntegerDigits  = 131072
	maxDecimalFractionDigits = 16383
)

func parseDecimal(s string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil || strings.TrimSpace(s) == "" {
		return decimal.Decimal{}, fmt.Errorf("%.40q is not a decimal number", s)
	}
	if err := checkDecimal(d); err != nil {
		return decimal.Decimal{}, fmt.Errorf("%.40q %w", s, err)
	}
	return d, nil
}

// checkDecimal refuses what PostgreSQL's numeric cannot hold, so that both stores accept the same values.
func checkDecimal(d decimal.Decimal) error {
	exp := int64(d.Exponent())
	if exp < -maxDecimalFractionDigits {
		return fmt.Errorf("has more than %d digits after the decimal point", maxDecimalFractionDigits)
	}
	coef := d.Coefficient()
	if int64(len(coef.Abs(coef).Text(10)))+exp > maxDecimalIntegerDigits {
		return fmt.Errorf("has more than %d digits before the decimal point", maxDecimalIntegerDigits)
	}
	return nil
}

// checkText refuses strings PostgreSQL cannot store in text: a NUL byte or invalid UTF-8.
func checkText(s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return errors.New("text cannot contain a NUL character")
	}
	if !utf8.ValidString(s) {
		return errors.New("text is not valid UTF-8")
	}
	return nil
}

// jsonNumber is the canonical form of a number inside a json column: an int64 when the value is a
// whole number that fits, otherwise its decimal string. The rule looks at the value, not the spelling,
// because PostgreSQL's jsonb rewrites 1e3 as 1000.
func jsonNumber(d decimal.Decimal) any {
	if d.IsInteger() {
		if bi := d.BigInt(); bi.IsInt64() {
			return bi.Int64()
		}
	}
	return d.String()
}

// fromNode converts a YAML value to the canonical value of a column of type t.
func (t colType) fromNode(n *yaml.Node) (any, error) {
	n = resolveAlias(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil, nil
	}
	if t == typeJSON {
		budget := maxJSONNodes
		return jsonFromNode(n, 0, &budget)
	}
	if t == typeTextArray {
		if n.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("expected a list of text, got %s", describeNode(n))
		}
		out := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := typeText.fromNode(e)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", len(out), err)
			}
			if v == nil {
				return nil, fmt.Errorf("element %d: null is not allowed in text[]", len(out))
			}
			out = append(out, v)
		}
		return out, nil
	}
	if n.Kind != yaml.ScalarNode {
		return nil, fmt.Errorf("expected %s, got %s", t, describeNode(n))
	}
	tag := n.ShortTag()
	switch t {
	case typeText:
		if tag == "!!bool" {
			return nil, fmt.Errorf("expected text, got the boolean %s (quote it to mean text)", n.Value)
		}
		if err := checkText(n.Value); err != nil {
			return nil, err
		}
		return n.Value, nil
	case typeInt:
		if tag != "!!int" {
			return nil, fmt.Errorf("expected int, got %s", describeNode(n))
		}
		var i int64
		if err := n.Decode(&i); err != nil {
			return nil, fmt.Errorf("%s is not a 64-bit integer", n.Value)
		}
		return i, nil
	case typeBool:
		if tag != "!!bool" {
			return nil, fmt.Errorf("expected bool, got %s", describeNode(n))
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, err
		}
		return b, nil
	case typeDecimal:
		switch tag {
		case "!!float":
			return nil, fmt.Errorf("decimal %s is a bare YAML float: write decimals as quoted strings (%q)", n.Value, n.Value)
		case "!!str", "!!int":
			d, err := parseDecimal(n.Value)
			if err != nil {
				return nil, err
			}
			return d.String(), nil
		}
		return nil, fmt.Errorf("expected a decimal string, got %s", describeNode(n))
	case typeDate:
		if tag != "!!str" && tag != "!!timestamp" {
			return nil, fmt.Errorf("expected a date (YYYY-MM-DD), got %s", describeNode(n))
		}
		d, err := parseDate(n.Value)
		if err != nil {
			return nil, err
		}
		return d.Format(dateLayout), nil
	case typeTimestamp:
		if tag != "!!str" && tag != "!!timestamp" {
			return nil, fmt.Errorf("expected an RFC 3339 timestamp, got %s", describeNode(n))
		}
		ts, err := parseTimestamp(n.Value)
		if err != nil {
			return nil, err
		}
		return formatTimestamp(ts), nil
	}
	return nil, fmt.Errorf("unsupported column type %s", t)
}

// maxJSONNodes bounds the nodes one json value may expand to: YAML aliases can repeat a node
// exponentially or make it contain itself.
const (
	maxJSONNodes = 100000
	maxJSONDepth = 100
)

func jsonFromNode(n *yaml.Node, depth int, budget *int) (any, error) {
	n = resolveAlias(n)
	if *budget--; *budget < 0 || depth > maxJSONDepth {
		return nil, fmt.Errorf("json value nests too deep or repeats too much (line %d)", n.Line)
	}
	switch n.Kind {
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		var merged []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolveAlias(n.Content[i])
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: object keys must be scalars", k.Line)
			}
			if isMergeKey(k) {
				merged = append(merged, n.Content[i+1])
				continue
			}
			if err := checkText(k.Value); err != nil {
				return nil, fmt.Errorf("line %d: key: %w", k.Line, err)
			}
			v, err := jsonFromNode(n.Content[i+1], depth+1, budget)
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
		}
		// A merge (<<: *base) adds the keys of its mappings that the object does not set itself; of
		// several, the first wins, as in YAML.
		for _, m := range merged {
			bases, nerr := mergeBases(m)
			if nerr != nil {
				return nil, nerr
			}
			for _, b := range bases {
				v, err := jsonFromNode(b, depth+1, budget)
				if err != nil {
					return nil, err
				}
				for k, e := range v.(map[string]any) {
					if _, set := out[k]; !set {
						out[k] = e
					}
				}
			}
		}
		return out, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := jsonFromNode(e, depth+1, budget)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			err := n.Decode(&b)
			return b, err
		case "!!int":
			var i int64
			if err := n.Decode(&i); err == nil {
				return i, nil
			}
			d, err := parseDecimal(n.Value)
			if err != nil {
				return nil, err
			}
			return jsonNumber(d), nil
		case "!!float":
			d, err := parseDecimal(n.Value)
			if err != nil {
				return nil, fmt.Errorf("%.40s cannot be stored in json (only finite numbers that PostgreSQL's numeric holds)", n.Value)
			}
			return jsonNumber(d), nil
		default:
			if err := checkText(n.Value); err != nil {
				return nil, fmt.Errorf("line %d: %w", n.Line, err)
			}
			return n.Value, nil
		}
	}
	return nil, fmt.Errorf("unsupported YAML value %s", describeNode(n))
}

// isMergeKey reports a YAML merge key: a plain <<, not the quoted string "<<".
func isMergeKey(k *yaml.Node) bool { return k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" }

// nodeError is a problem at one line of a YAML document.
type nodeError struct {
	line int
	msg  string
}

func (e *nodeError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// mergeBases returns the mappings a merge key names: one mapping or a list of them.
func mergeBases(v *yaml.Node) ([]*yaml.Node, *nodeError) {
	v = resolveAlias(v)
	list := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		list = v.Content
	}
	bases := make([]*yaml.Node, 0, len(list))
	for _, b := range list {
		if b = resolveAlias(b); b.Kind != yaml.MappingNode {
			return nil, &nodeError{line: b.Line, msg: "a merge (<<) takes a mapping or a list of mappings, got " + describeNode(b)}
		}
		bases = append(bases, b)
	}
	return bases, nil
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return fmt.Sprintf("the string %q", n.Value)
		case "!!int":
			return "the integer " + n.Value
		case "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		case "!!timestamp":
			return "the timestamp " + n.Value
		}
		return n.Value
	}
	return "an unsupported YAML node"
}

var errNoMatch = errors.New("value cannot match a column of this type")

// coerce converts a Go value (a row built in code, a lookup key) to the canonical value of a column of
// type t. It accepts the canonical forms and the obvious Go equivalents; floats are refused for decimals.
func (t colType) coerce(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t {
	case typeText:
		switch x := v.(type) {
		case string:
			if err := checkText(x); err != nil {
				return nil, err
			}
			return x, nil
		case json.Number:
			return x.String(), nil
		}
		if i, ok := asInt64(v); ok {
			return strconv.FormatInt(i, 10), nil
		}
	case typeInt:
		if i, ok := asInt64(v); ok {
			return i, nil
		}
		switch x := v.(type) {
		case string:
			if i, err := strconv.ParseInt(x, 10, 64); err == nil {
				return i, nil
			}
		case json.Number:
			if i, err := x.Int64(); err == nil {
				return i, nil
			}
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return int64(x), nil
			}
		}
	case typeBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case typeDecimal:
		switch x := v.(type) {
		case string:
			d, err := parseDecimal(x)
			if err != nil {
				return nil, err
			}
			return d.String(), nil
		case json.Number:
			d, err := parseDecimal(x.String())
			if err != nil {
				return nil, err
			}
			return d.String(), nil
		case decimal.Decimal:
			if err := checkDecimal(x); err != nil {
				return nil, fmt.Errorf("%.40s %w", x.String(), err)
			}
			return x.String(), nil
		case *decimal.Decimal:
			if x == nil {
				return nil, nil
			}
			return typeDecimal.coerce(*x)
		case float32, float64:
			return nil, fmt.Errorf("the float %v is not exact: give decimals as strings", x)
		}
		if i, ok := asInt64(v); ok {
			return strconv.FormatInt(i, 10), nil
		}
	case typeDate:
		switch x := v.(type) {
		case string:
			d, err := parseDate(x)
			if err != nil {
				return nil, err
			}
			return d.Format(dateLayout), nil
		case time.Time:
			if x.Year() < 1 || x.Year() > 9999 {
				return nil, fmt.Errorf("the date %s is outside the years 1 to 9999", x.Format(dateLayout))
			}
			return x.Format(dateLayout), nil
		}
	case typeTimestamp:
		switch x := v.(type) {
		case string:
			ts, err := parseTimestamp(x)
			if err != nil {
				return nil, err
			}
			return formatTimestamp(ts), nil
		case time.Time:
			if err := checkTimestamp(x); err != nil {
				return nil, fmt.Errorf("the time %s %w", x, err)
			}
			return formatTimestamp(x), nil
		}
	case typeTextArray:
		switch x := v.(type) {
		case []string:
			out := make([]any, len(x))
			for i, s := range x {
				if err := checkText(s); err != nil {
					return nil, fmt.Errorf("element %d: %w", i, err)
				}
				out[i] = s
			}
			return out, nil
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("element %d: expected text, got %T", i, e)
				}
				if err := checkText(s); err != nil {
					return nil, fmt.Errorf("element %d: %w", i, err)
				}
				out[i] = s
			}
			return out, nil
		}
	case typeJSON:
		return canonicalJSON(v)
	}
	return nil, fmt.Errorf("expected %s, got %T %v: %w", t, v, v, errNoMatch)
}

func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), true
		}
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

// canonicalJSON converts a decoded JSON-like Go value to the canonical json form.
func canonicalJSON(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool:
		return x, nil
	case string:
		if err := checkText(x); err != nil {
			return nil, err
		}
		return x, nil
	case json.RawMessage:
		return decodeJSON(x)
	case []byte:
		return decodeJSON(x)
	case json.Number:
		d, err := parseDecimal(x.String())
		if err != nil {
			return nil, err
		}
		return jsonNumber(d), nil
	case decimal.Decimal:
		if err := checkDecimal(x); err != nil {
			return nil, fmt.Errorf("%.40s %w", x.String(), err)
		}
		return jsonNumber(x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%v cannot be stored in json", x)
		}
		return jsonNumber(decimal.NewFromFloat(x)), nil
	case float32:
		return canonicalJSON(float64(x))
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if err := checkText(k); err != nil {
				return nil, fmt.Errorf("key: %w", err)
			}
			c, err := canonicalJSON(e)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := canonicalJSON(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			if err := checkText(s); err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	if i, ok := asInt64(v); ok {
		return i, nil
	}
	// Anything else (structs, typed maps) goes through encoding/json once.
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("json value: %w", err)
	}
	return decodeJSON(raw)
}

// decodeJSON decodes raw JSON into the canonical json form.
func decodeJSON(raw []byte) (any, error) {
	if raw == nil {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("json value: %w", err)
	}
	return canonicalJSON(v)
}

// encodeJSON renders a canonical json value for PostgreSQL.
func encodeJSON(v any) (json.RawMessage, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("json value: %w", err)
	}
	return raw, nil
}

// compareValues orders two canonical values of a column of type t; NULL sorts last, as in PostgreSQL's
// ascending order, and text compares byte-wise (COLLATE "C").
func (t colType) compareValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	switch t {
	case typeText, typeDate:
		return strings.Compare(a.(string), b.(string))
	case typeInt:
		x, y := a.(int64), b.(int64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case typeBool:
		x, y := a.(bool), b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case typeDecimal:
		x, _ := decimal.NewFromString(a.(string))
		y, _ := decimal.NewFromString(b.(string))
		return x.Cmp(y)
	case typeTimestamp:
		x, _ := time.Parse(time.RFC3339Nano, a.(string))
		y, _ := time.Parse(time.RFC3339Nano, b.(string))
		return x.Compare(y)
	}
	return 0
}

// appendKey appends the index encoding of a canonical key value; values of one column type never
// contain the separator (PostgreSQL text cannot hold NUL).
func appendKey(buf []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return append(buf, x...)
	case int64:
		return strconv.AppendInt(buf, x, 10)
	case bool:
		if x {
			return append(buf, 't')
		}
		return append(buf, 'f')
	}
	return buf
}
