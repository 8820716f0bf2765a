package revision_test

import (
	"strings"
	"testing"

	"arbiter/revision"
)

func render(ls []revision.DiffLine) string {
	var b strings.Builder
	for _, l := range ls {
		if l.Op == "…" {
			b.WriteString("…" + strings.Repeat(".", l.Skipped) + "\n")
			continue
		}
		b.WriteString(l.Op + l.Text + "\n")
	}
	return b.String()
}

func TestLineDiff(t *testing.T) {
	tests := []struct {
		name, a, b string
		context    int
		want       string
	}{
		{name: "identical files fold to one run", a: "a\nb\nc\n", b: "a\nb\nc\n", context: 1, want: "…...\n"},
		{name: "a changed line keeps its context", a: "a\nb\nc\nd\ne\n", b: "a\nb\nX\nd\ne\n", context: 1,
			want: "….\n b\n-c\n+X\n d\n….\n"},
		{name: "an added file is all additions", a: "", b: "x\ny", context: 3, want: "+x\n+y\n"},
		{name: "a removed file is all removals", a: "x\ny\n", b: "", context: 3, want: "-x\n-y\n"},
		{name: "an insertion in the middle", a: "a\nb\nc\n", b: "a\nb\nnew\nc\n", context: 5, want: " a\n b\n+new\n c\n"},
		{name: "lines moved apart are matched by the longest common run", a: "1\n2\n3\n4\n", b: "2\n3\n4\n1\n", context: 9,
			want: "-1\n 2\n 3\n 4\n+1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(revision.LineDiff([]byte(tt.a), []byte(tt.b), tt.context)); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
