// Package strictyaml is the one YAML decoder for every file the service reads: unknown fields and keys
// given twice are errors, every file is read within a budget (size, nesting, nodes, alias expansion),
// and every problem carries its file and line.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"arbiter/engine/lang"
	"arbiter/engine/value"
)

// Budget bounds what reading one YAML file may cost.
type Budget struct {
	Bytes int // size of the file
	Depth int // nesting of mappings and sequences, aliases followed
	Nodes int // nodes as written
	// Expanded bounds the nodes reached with every alias followed (what a decoder builds): at most
	// Ratio times the nodes written plus Slack, and never more than Nodes.
	Ratio, Slack int
}

// Limits is the budget of every file the service reads. The largest files of the tree (tests.yaml of
// 100 KB, 9,000 nodes; 23,000 nodes and 12 times the nodes written once their shared givens are
// merged in) are far inside it; a 3 KB "billion laughs" is not.
var Limits = Budget{Bytes: 4 << 20, Depth: 64, Nodes: 1 << 18, Ratio: 16, Slack: 50000}

// Error is a problem at one line of a YAML document: a syntax error or a budget breach.
type Error struct {
	Code string // lang.ProblemSyntax or lang.ProblemBudget
	Line int    // 0 when yaml.v3 does not say
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// Load parses data as one YAML document within Limits; its error is an *Error. An empty document is
// a node of kind 0.
func Load(data []byte) (*yaml.Node, error) {
	return LoadWithin(data, Limits)
}

// LoadWithin parses data as one YAML document within b; its error is an *Error.
func LoadWithin(data []byte, b Budget) (*yaml.Node, error) {
	if len(data) > b.Bytes {
		return nil, &Error{Code: lang.ProblemBudget, Line: bytes.Count(data[:b.Bytes], []byte{'\n'}) + 1,
			Msg: fmt.Sprintf("the file is larger than %d bytes", b.Bytes)}
	}
	// yaml.v3 builds the whole tree before it can be counted (a 4 MiB "[0,0,...]" is two million
	// nodes, half a gigabyte), so the indicators that start nodes bound the count first.
	if most := mostNodes(data); most > b.Nodes {
		return nil, &Error{Code: lang.ProblemBudget, Line: 1, Msg: fmt.Sprintf(
			"the file may hold more than %d nodes (up to %d, counted from its indicators , [ { - : ?)", b.Nodes, most)}
	}
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, syntaxError(err.Error())
	}
	if err := Check(&n, b); err != nil {
		return nil, err
	}
	return &n, nil
}

// mostNodes bounds the nodes of the first document of data from above without parsing it: besides
// the document and its root, every node is brought by an indicator before it. A flow collection's
// opening or a ? brings at most three (the collection or pair, a key and an empty value), a comma,
// an entry's - or a value's : at most two.
func mostNodes(data []byte) int {
	n := 2
	for i, c := range data {
		switch c {
		case '{', '[', '?':
			n += 3
		case ',':
			n += 2
		case '-', ':':
			if i+1 == len(data) || endsIndicator(data[i+1]) || (c == ':' && i > 0 && strings.IndexByte(`"']}`, data[i-1]) >= 0) {
				n += 2
			}
		}
	}
	return n
}

// endsIndicator reports a byte after which - or : is an indicator rather than part of a plain scalar:
// white space, a line break (0xC2 and 0xE2 start the Unicode ones), or the end of a flow entry.
func endsIndicator(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ']', '}', 0xC2, 0xE2:
		return true
	}
	return false
}

// Check verifies that the tree under n keeps within b's nesting, node and alias-expansion budgets;
// the error is an *Error with code lang.ProblemBudget at the line where the budget ran out.
func Check(n *yaml.Node, b Budget) error {
	w := &walker{b: b, limit: b.Nodes}
	if err := w.written(n, 0); err != nil {
		return err
	}
	if l := b.Ratio*w.count + b.Slack; l < w.limit {
		w.limit = l
	}
	w.count = 0
	return w.expanded(n)
}

type walker struct {
	b     Budget
	count int
	limit int
	path  []*yaml.Node // collections being expanded: an alias to one of them is a cycle
	via   int          // line of the outermost alias being followed, 0 when none
}

// written counts the nodes as written, aliases not followed.
func (w *walker) written(n *yaml.Node, depth int) error {
	if w.count++; w.count > w.b.Nodes {
		return &Error{Code: lang.ProblemBudget, Line: n.Line, Msg: fmt.Sprintf("the document has more than %d nodes", w.b.Nodes)}
	}
	if depth > w.b.Depth {
		return &Error{Code: lang.ProblemBudget, Line: n.Line, Msg: fmt.Sprintf("the document nests deeper than %d levels", w.b.Depth)}
	}
	for _, c := range n.Content {
		if err := w.written(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// expanded counts the nodes reached with every alias followed and stops as soon as the count
// exceeds the limit, so a bomb costs no more than the limit. A breach is reported at the outermost
// alias being followed: the place that multiplies the document.
func (w *walker) expanded(n *yaml.Node) error {
	line := n.Line
	if w.via > 0 {
		line = w.via
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return &Error{Code: lang.ProblemSyntax, Line: n.Line, Msg: "an alias refers to nothing"}
		}
		for _, p := range w.path {
			if p == n.Alias {
				return &Error{Code: lang.ProblemBudget, Line: n.Line, Msg: fmt.Sprintf("alias *%s refers to a node that contains it", n.Value)}
			}
		}
		if w.via == 0 {
			w.via = n.Line
			defer func() { w.via = 0 }()
		}
		return w.expanded(n.Alias)
	}
	if w.count++; w.count > w.limit {
		return &Error{Code: lang.ProblemBudget, Line: line, Msg: fmt.Sprintf("aliases expand the document beyond %d nodes", w.limit)}
	}
	if len(w.path) > w.b.Depth {
		return &Error{Code: lang.ProblemBudget, Line: line, Msg: fmt.Sprintf("aliases nest the document deeper than %d levels", w.b.Depth)}
	}
	w.path = append(w.path, n)
	defer func() { w.path = w.path[:len(w.path)-1] }()
	for _, c := range n.Content {
		if err := w.expanded(c); err != nil {
			return err
		}
	}
	return nil
}

// Parse parses one YAML document of file within Limits; problems carry file and line.
func Parse(file string, data []byte, ps *lang.Problems) (*yaml.Node, bool) {
	n, err := Load(data)
	if err != nil {
		addError(file, err, ps)
		return nil, false
	}
	return n, true
}

// Decode decodes the YAML document of file into v within Limits, rejecting unknown fields and keys
// given twice; problems carry file and line.
func Decode(file string, data []byte, v any, ps *lang.Problems) bool {
	// The budgets are checked on the tree first: decoding into structs follows aliases too.
	if _, ok := Parse(file, data, ps); !ok {
		return false
	}
	// yaml.v3 checks unknown fields only in a Decoder, so the checked bytes are decoded once more.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if err == nil {
		return true
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, msg := range te.Errors {
			addProblem(file, msg, ps)
		}
		return false
	}
	addProblem(file, err.Error(), ps)
	return false
}

func addError(file string, err error, ps *lang.Problems) {
	var e *Error
	if errors.As(err, &e) {
		ps.Add(e.Code, file, e.Line, "%s", e.Msg)
		return
	}
	ps.Add(lang.ProblemSyntax, file, 0, "%s", err.Error())
}

var yamlErrorLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func syntaxError(msg string) *Error {
	if m := yamlErrorLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Code: lang.ProblemSyntax, Line: line, Msg: m[2]}
	}
	return &Error{Code: lang.ProblemSyntax, Msg: msg}
}

// addProblem records a yaml.v3 error message as a problem at its line.
func addProblem(file, msg string, ps *lang.Problems) {
	e := syntaxError(msg)
	ps.Add(e.Code, file, e.Line, "%s", e.Msg)
}

// Value converts a YAML node to the engine's value model (see package value); timestamps stay text.
// A key given twice, a key that is not a scalar and a tree beyond Limits (aliases followed) are errors.
func Value(n *yaml.Node) (any, error) {
	if err := Check(n, Limits); err != nil {
		return nil, err
	}
	return convert(n)
}

// convert converts a tree that Check accepted: its recursion is bounded by the budget's nesting.
func convert(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return convert(n.Content[0])
	case yaml.AliasNode:
		return convert(n.Alias)
	case yaml.MappingNode:
		return mapping(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := convert(e)
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

// mapping converts a mapping: its own keys, then the keys of a merge (<<: *base) that it does not set.
func mapping(n *yaml.Node) (any, error) {
	m := make(map[string]any, len(n.Content)/2)
	at := make(map[string]int, len(n.Content)/2) // key -> line
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: a key must be a scalar", k.Line)
		}
		if k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if prev, dup := at[k.Value]; dup {
			return nil, fmt.Errorf("line %d: key %q is given twice (first at line %d)", k.Line, k.Value, prev)
		}
		at[k.Value] = k.Line
		val, err := convert(v)
		if err != nil {
			return nil, err
		}
		m[k.Value] = val
	}
	for _, v := range merges {
		merged, err := convert(v)
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
	}
	return m, nil
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
