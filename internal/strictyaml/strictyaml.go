// Package strictyaml is the one YAML decoder for every file the service reads: unknown fields are
// errors, every problem carries its file and line.
package strictyaml

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"

	"arbiter/engine/lang"
	"arbiter/engine/value"
)

var yamlErrorLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// Decode decodes YAML into v rejecting unknown fields; problems carry file and line.
func Decode(file string, data []byte, v any, ps *lang.Problems) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if err == nil {
		return true
	}
	if te, ok := err.(*yaml.TypeError); ok {
		for _, msg := range te.Errors {
			AddProblem(file, msg, ps)
		}
		return false
	}
	AddProblem(file, err.Error(), ps)
	return false
}

// AddProblem records a yaml.v3 error message as a problem at its line.
func AddProblem(file, msg string, ps *lang.Problems) {
	if m := yamlErrorLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		ps.Add(lang.ProblemSyntax, file, line, "%s", m[2])
		return
	}
	ps.Add(lang.ProblemSyntax, file, 0, "%s", msg)
}

// Value converts a YAML node to the engine's value model (see package value); timestamps stay text.
func Value(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return Value(n.Content[0])
	case yaml.AliasNode:
		return Value(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				merged, err := Value(v)
				if err != nil {
					return nil, err
				}
				mm, ok := merged.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("line %d: merge key needs a mapping", v.Line)
				}
				for mk, mv := range mm {
					if _, exists := m[mk]; !exists {
						m[mk] = mv
					}
				}
				continue
			}
			val, err := Value(v)
			if err != nil {
				return nil, err
			}
			m[k.Value] = val
		}
		return m, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := Value(c)
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
			if err := n.Decode(&b); err != nil {
				return nil, fmt.Errorf("line %d: %w", n.Line, err)
			}
			return b, nil
		case "!!int", "!!float":
			num, err := value.Number(n.Value, "")
			if err != nil {
				return nil, fmt.Errorf("line %d: %q: %v", n.Line, n.Value, err)
			}
			return num, nil
		default:
			// Timestamps and strings stay text: the policy parses what it needs.
			return n.Value, nil
		}
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

// FindFloat returns the path of the first non-integer number in v, or "" when there is none.
func FindFloat(v any, path string) string {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			if p := FindFloat(c, path+"."+k); p != "" {
				return p
			}
		}
	case []any:
		for i, c := range t {
			if p := FindFloat(c, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case float64:
		return path
	}
	return ""
}
