package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

var yamlErrorLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// decodeStrict decodes YAML into v rejecting unknown fields; problems carry file and line.
func decodeStrict(file string, data []byte, v any, ps *problems) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if err == nil {
		return true
	}
	if te, ok := err.(*yaml.TypeError); ok {
		for _, msg := range te.Errors {
			addYAMLProblem(file, msg, ps)
		}
		return false
	}
	addYAMLProblem(file, err.Error(), ps)
	return false
}

func addYAMLProblem(file, msg string, ps *problems) {
	if m := yamlErrorLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		ps.add(file, line, "%s", m[2])
		return
	}
	ps.add(file, 0, "%s", msg)
}

// nodeValue converts a YAML node to JSON-compatible values, keeping numbers as json.Number literals.
func nodeValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return nodeValue(n.Content[0])
	case yaml.AliasNode:
		return nodeValue(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				merged, err := nodeValue(v)
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
			val, err := nodeValue(v)
			if err != nil {
				return nil, err
			}
			m[k.Value] = val
		}
		return m, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := nodeValue(c)
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
			num := json.Number(n.Value)
			if _, err := strconv.ParseFloat(n.Value, 64); err != nil {
				return nil, fmt.Errorf("line %d: %q is not a JSON number", n.Line, n.Value)
			}
			return num, nil
		default:
			// Timestamps and strings stay text: the policy parses what it needs.
			return n.Value, nil
		}
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

// findFloat returns the path of the first non-integer number in v, or "" when there is none.
func findFloat(v any, path string) string {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			if p := findFloat(c, path+"."+k); p != "" {
				return p
			}
		}
	case []any:
		for i, c := range t {
			if p := findFloat(c, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case json.Number:
		if _, err := t.Int64(); err != nil {
			return path
		}
	}
	return ""
}
