package revision

import (
	"bytes"
	"strings"
)

// DiffLine is one line of a file diff: Op is " " (kept), "-" (removed), "+" (added), or "…" for a run
// of Skipped kept lines left out between changes.
type DiffLine struct {
	Op      string `json:"op"`
	Text    string `json:"text,omitempty"`
	Skipped int    `json:"skipped,omitempty"`
}

// maxDiffCells bounds the table LineDiff fills (lines of a × lines of b); larger files show as wholly
// replaced.
const maxDiffCells = 4 << 20

// LineDiff compares a with b line by line (longest common subsequence), keeping context lines of the
// unchanged text around each change and folding the rest.
func LineDiff(a, b []byte, context int) []DiffLine {
	al, bl := splitLines(a), splitLines(b)
	// Trim the common head and tail: the table then only covers the changed middle.
	pre := 0
	for pre < len(al) && pre < len(bl) && al[pre] == bl[pre] {
		pre++
	}
	post := 0
	for post < len(al)-pre && post < len(bl)-pre && al[len(al)-1-post] == bl[len(bl)-1-post] {
		post++
	}
	am, bm := al[pre:len(al)-post], bl[pre:len(bl)-post]
	var ops []DiffLine
	for _, s := range al[:pre] {
		ops = append(ops, DiffLine{Op: " ", Text: s})
	}
	if len(am)*len(bm) > maxDiffCells {
		for _, s := range am {
			ops = append(ops, DiffLine{Op: "-", Text: s})
		}
		for _, s := range bm {
			ops = append(ops, DiffLine{Op: "+", Text: s})
		}
	} else {
		ops = append(ops, lcsDiff(am, bm)...)
	}
	for _, s := range al[len(al)-post:] {
		ops = append(ops, DiffLine{Op: " ", Text: s})
	}
	return fold(ops, context)
}

func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	s := strings.TrimSuffix(string(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))), "\n")
	return strings.Split(s, "\n")
}

func lcsDiff(a, b []string) []DiffLine {
	n, m := len(a), len(b)
	// l[i][j]: length of the LCS of a[i:] and b[j:].
	l := make([][]int32, n+1)
	for i := range l {
		l[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var out []DiffLine
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			out = append(out, DiffLine{Op: " ", Text: a[i]})
			i++
			j++
		case l[i+1][j] >= l[i][j+1]:
			out = append(out, DiffLine{Op: "-", Text: a[i]})
			i++
		default:
			out = append(out, DiffLine{Op: "+", Text: b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, DiffLine{Op: "-", Text: a[i]})
	}
	for ; j < m; j++ {
		out = append(out, DiffLine{Op: "+", Text: b[j]})
	}
	return out
}

// fold keeps context kept lines around each change and replaces longer runs by one "…" line.
func fold(ops []DiffLine, context int) []DiffLine {
	keep := make([]bool, len(ops))
	for i, o := range ops {
		if o.Op == " " {
			continue
		}
		for k := max(0, i-context); k <= min(len(ops)-1, i+context); k++ {
			keep[k] = true
		}
	}
	var out []DiffLine
	for i := 0; i < len(ops); {
		if keep[i] {
			out = append(out, ops[i])
			i++
			continue
		}
		j := i
		for j < len(ops) && !keep[j] {
			j++
		}
		out = append(out, DiffLine{Op: "…", Skipped: j - i})
		i = j
	}
	return out
}
