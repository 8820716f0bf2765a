// Package yamlbomb writes YAML "billion laughs" documents for tests of the YAML budgets.
package yamlbomb

import (
	"fmt"
	"strings"
)

// Levels and Width shape the bomb: Width aliases of the level below on each of Levels lines, so
// that following every alias reaches Width^Levels nodes (about 10^19) from about 3 KB of text.
const (
	Levels = 12
	Width  = 40
)

// Mapping returns the bomb as block mapping entries indented by indent spaces, to be placed under a
// key (data:, input:, input_schema:) or at the top of a file (indent 0).
func Mapping(indent int) string {
	pad := strings.Repeat(" ", indent)
	var b strings.Builder
	fmt.Fprintf(&b, "%slol0: &lol0 [lol]\n", pad)
	for i := 1; i <= Levels; i++ {
		refs := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*lol%d,", i-1), Width), ",")
		fmt.Fprintf(&b, "%slol%d: &lol%d [%s]\n", pad, i, i, refs)
	}
	return b.String()
}
