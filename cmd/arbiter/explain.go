package main

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"arbiter/engine"
	"arbiter/engine/lang"
)

// explainTimeout is the least deadline of a traced evaluation (eval --explain).
const explainTimeout = time.Minute

// explainText renders a decision traced by eval --explain: the answer, then each condition of the
// policy with what it came to, then the rule-table versions read.
func explainText(d *engine.Decision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s (%s) as of %s: %s\n", d.Decision, d.Policy.Version, d.Policy.Language, d.AsOf.Format(time.RFC3339), d.Outcome)
	if len(d.Reasons) == 0 {
		fmt.Fprintf(&b, "reasons: none\n")
	} else {
		fmt.Fprintf(&b, "reasons:\n")
		for _, r := range d.Reasons {
			fmt.Fprintf(&b, "  %-10s %s (%s): %s\n", r.Rule, r.Code, r.Effect, r.Message)
		}
	}
	if len(d.Outputs) > 0 {
		fmt.Fprintf(&b, "outputs:\n")
		keys := make([]string, 0, len(d.Outputs))
		for k := range d.Outputs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  %s = %s\n", k, compact(d.Outputs[k], 100))
		}
	}
	var conds []lang.Condition
	if d.Explain != nil {
		conds = d.Explain.Conditions
	}
	if len(conds) == 0 {
		fmt.Fprintf(&b, "conditions: this policy's language cannot report them\n")
	}
	file := ""
	for _, c := range conds {
		if c.File != file {
			file = c.File
			fmt.Fprintf(&b, "conditions (%s):\n", file)
		}
		where := fmt.Sprintf("%s:%d", path.Base(c.File), c.Line)
		label := c.Name
		if c.Rule != "" && c.Rule != c.Name {
			label = c.Rule + " " + c.Name
		}
		if c.Code != "" {
			label += " " + c.Code
		}
		switch c.Status {
		case lang.ConditionValue:
			fmt.Fprintf(&b, "  %-13s %-8s %s = %s  [%s]\n", "", c.Kind, label, compact(c.Value, 80), where)
		default:
			fmt.Fprintf(&b, "  %-13s %-8s %s  [%s] %s\n", strings.ReplaceAll(c.Status, "_", " "), c.Kind, label, where, cut(c.Source, 100))
			for _, f := range c.Failed {
				fmt.Fprintf(&b, "  %-13s   failed at line %s\n", "", f)
			}
		}
	}
	if len(d.Tables) > 0 {
		fmt.Fprintf(&b, "tables:\n")
		for _, t := range d.Tables {
			fmt.Fprintf(&b, "  %s = %s@%s\n", t.Name, t.Table, t.Version)
		}
	}
	fmt.Fprintf(&b, "(facts and rule-table data: --explain --json)\n")
	return b.String()
}

func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// compact writes v as one line of JSON, cut at n characters.
func compact(v any, n int) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return cut(string(raw), n)
}
