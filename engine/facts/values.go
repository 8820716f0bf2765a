package facts

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"
)

// canonicalNode reads a YAML scalar or sequence as the canonical value of a column type.
func canonicalNode(typ string, n *yaml.Node) (any, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil, nil
	}
	switch typ {
	case TypeTextArray:
		if n.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("want a list of strings")
		}
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("want a list of strings")
			}
			out = append(out, c.Value)
		}
		return out, nil
	case TypeJSON:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return canonicalJSON(v), nil
	}
	if n.Kind != yaml.ScalarNode {
		return nil, fmt.Errorf("want a %s value", typ)
	}
	tag := n.ShortTag()
	switch typ {
	case TypeDecimal:
		if tag == "!!float" {
			return nil, fmt.Errorf("%s is a YAML float: write decimals as quoted strings (\"%s\")", n.Value, n.Value)
		}
		return canonical(typ, n.Value)
	case TypeInt:
		if tag != "!!int" {
			return nil, fmt.Errorf("%q is not an integer", n.Value)
		}
		return canonical(typ, n.Value)
	case TypeBool:
		if tag != "!!bool" {
			return nil, fmt.Errorf("%q is not a boolean", n.Value)
		}
		return canonical(typ, n.Value)
	}
	return canonical(typ, n.Value)
}

// canonical converts a Go value (from YAML, JSON or the database) to the column type's canonical form.
func canonical(typ string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case TypeText:
		switch t := v.(type) {
		case string:
			return t, nil
		case fmt.Stringer:
			return t.String(), nil
		}
		return fmt.Sprint(v), nil
	case TypeInt:
		switch t := v.(type) {
		case int64:
			return t, nil
		case int:
			return int64(t), nil
		case int32:
			return int64(t), nil
		case string:
			i, err := strconv.ParseInt(t, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not an integer", t)
			}
			return i, nil
		case json.Number:
			return t.Int64()
		}
	case TypeBool:
		switch t := v.(type) {
		case bool:
			return t, nil
		case string:
			b, err := strconv.ParseBool(t)
			if err != nil {
				return nil, fmt.Errorf("%q is not a boolean", t)
			}
			return b, nil
		}
	case TypeDecimal:
		switch t := v.(type) {
		case decimal.Decimal:
			return t.String(), nil
		case decimal.NullDecimal:
			if !t.Valid {
				return nil, nil
			}
			return t.Decimal.String(), nil
		case string:
			d, err := decimal.NewFromString(t)
			if err != nil || strings.ContainsAny(t, "eE") {
				return nil, fmt.Errorf("%q is not a decimal", t)
			}
			return d.String(), nil
		case int64:
			return decimal.NewFromInt(t).String(), nil
		case int:
			return decimal.NewFromInt(int64(t)).String(), nil
		case json.Number:
			d, err := decimal.NewFromString(t.String())
			if err != nil {
				return nil, err
			}
			return d.String(), nil
		}
	case TypeDate:
		switch t := v.(type) {
		case time.Time:
			return t.Format(time.DateOnly), nil
		case string:
			d, err := time.Parse(time.DateOnly, t)
			if err != nil {
				return nil, fmt.Errorf("%q is not a date YYYY-MM-DD", t)
			}
			return d.Format(time.DateOnly), nil
		}
	case TypeTimestamp:
		switch t := v.(type) {
		case time.Time:
			return t.UTC().Format(time.RFC3339Nano), nil
		case string:
			ts, err := time.Parse(time.RFC3339Nano, t)
			if err != nil {
				return nil, fmt.Errorf("%q is not an RFC 3339 timestamp with an offset", t)
			}
			return ts.UTC().Format(time.RFC3339Nano), nil
		}
	case TypeTextArray:
		switch t := v.(type) {
		case []any:
			out := make([]any, len(t))
			for i, x := range t {
				s, ok := x.(string)
				if !ok {
					return nil, fmt.Errorf("want a list of strings")
				}
				out[i] = s
			}
			return out, nil
		case []string:
			out := make([]any, len(t))
			for i, s := range t {
				out[i] = s
			}
			return out, nil
		}
	case TypeJSON:
		switch t := v.(type) {
		case []byte:
			var x any
			if err := json.Unmarshal(t, &x); err != nil {
				return nil, err
			}
			return canonicalJSON(x), nil
		}
		return canonicalJSON(v), nil
	}
	return nil, fmt.Errorf("%v (%T) is not a %s", v, v, typ)
}

// canonicalJSON makes integers int64 and other numbers decimal strings.
func canonicalJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, c := range t {
			out[k] = canonicalJSON(c)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, c := range t {
			out[i] = canonicalJSON(c)
		}
		return out
	case int:
		return int64(t)
	case float64:
		d := decimal.NewFromFloat(t)
		if d.IsInteger() {
			return d.IntPart()
		}
		return d.String()
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		return t.String()
	}
	return v
}

func parseDec(s string) (decimal.Decimal, error) { return decimal.NewFromString(s) }

func parseTime(typ, s string) (time.Time, error) {
	if typ == TypeDate {
		return time.Parse(time.DateOnly, s)
	}
	return time.Parse(time.RFC3339Nano, s)
}
