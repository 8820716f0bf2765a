package strictyaml

import (
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzMostNodes: the count Load refuses a file by before parsing it is never below the nodes
// yaml.v3 builds.
func FuzzMostNodes(f *testing.F) {
	for _, s := range []string{
		"a: 1\nb: [1, 2]\n", "{a, b}", "[a: 1, b: 2]", "[? a]", "- - - a\n", "? a\n? b\n", `{"a":1}`, "{[a]:1}",
		"a:\n  - b: 1\n    c:\n", "[[], [{}]]", "-\n-\n", "a: &x [*x]\n", "!!map {? a}", "[\"a\":b]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(s), &n); err != nil {
			return
		}
		w := &walker{b: Budget{Depth: 1 << 20, Nodes: 1 << 30}}
		if err := w.written(&n, 0); err != nil {
			t.Fatal(err)
		}
		if most := mostNodes([]byte(s)); w.count > most {
			t.Fatalf("%d nodes, but mostNodes says at most %d", w.count, most)
		}
	})
}
