package impact_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"arbiter/engine"
	"arbiter/impact"
	"arbiter/store"
	"arbiter/store/decisionlog"
)

// logged makes real decisions with the demo tree and returns them as the log would hold them.
func logged(t *testing.T, asOf string, amounts ...string) []decisionlog.Record {
	t.Helper()
	e := engine.New(loadGood(t), memStore(t, store.Rows{"demo_accounts": {{"id": "G1", "tier": "gold", "balance": "0"}}}))
	var out []decisionlog.Record
	for _, amount := range amounts {
		in := map[string]any{"account_id": "G1", "amount": amount}
		d, err := e.Decide(context.Background(), engine.Request{Decision: "demo.cel_sum", AsOf: at(asOf), Input: in, Explain: true})
		if err != nil {
			t.Fatal(err)
		}
		facts := d.Explain.Facts
		d.Explain = nil
		env, _ := json.Marshal(d)
		inRaw, _ := json.Marshal(in)
		factsRaw, _ := json.Marshal(facts)
		out = append(out, decisionlog.Record{ID: d.DecisionID, Decision: d.Decision, Version: d.Policy.Version, Outcome: d.Outcome,
			AsOf: d.AsOf, Envelope: env, Input: inRaw, Facts: factsRaw})
	}
	return out
}

// with2026 is the demo tree plus a 2026 rate of 0.3, the 2025 window closed.
func with2026(t *testing.T) *engine.PolicySet {
	t.Helper()
	tree := goodTree(t)
	replaceIn(tree, "rules/demo/rates/2025.yaml", "valid_from: 2025-01-01T00:00:00+08:00", "valid_from: 2025-01-01T00:00:00+08:00\nvalid_to: 2026-01-01T00:00:00+08:00")
	tree["rules/demo/rates/2026.yaml"] = &fstest.MapFile{Data: []byte(`table: demo.rates
version: "2026"
valid_from: 2026-01-01T00:00:00+08:00
data:
  rate: "0.3"
  minimum: "200.00"
`)}
	set, err := engine.Load(context.Background(), tree)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestRunReportsOutputsMoneyAndShift(t *testing.T) {
	recs := logged(t, "2025-06-01T00:00:00+08:00", "1000", "2000.50", "150")
	broken := recs[0]
	broken.ID, broken.Envelope = "broken", []byte("{")
	noFacts := recs[0]
	noFacts.ID, noFacts.Facts = "no-account", []byte(`{"other": null}`)
	recs = append(recs, broken, noFacts)
	cand := with2026(t)

	tests := []struct {
		name      string
		shift     string
		changed   int
		feeDelta  string
		byOutcome map[string]int
		added     string
	}{
		{name: "at the logged as_of the 2025 table decides as before", changed: 0},
		{name: "shifted one year the 2026 rate applies", shift: "+1y", changed: 2, feeDelta: "300.05"},
		{name: "shifted back the 2024 minimum flips the small one", shift: "-1y", changed: 3, feeDelta: "-285.05",
			byOutcome: map[string]int{"deny -> allow": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sh, err := impact.ParseShift(tc.shift)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := impact.Run(context.Background(), cand, impact.Records(recs), impact.Options{Shift: sh, Workers: 3})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Read != 5 || rep.Skipped != 2 || rep.SkippedBy["envelope_unreadable"] != 1 || rep.SkippedBy["fact_not_logged"] != 1 {
				t.Fatalf("read/skipped: %+v", rep)
			}
			if rep.Replayed != 3 || rep.Changed != tc.changed {
				t.Fatalf("replayed %d changed %d, want 3 and %d: %s", rep.Replayed, rep.Changed, tc.changed, rep.Summary())
			}
			if tc.feeDelta != "" {
				fee := rep.Outputs["fee"]
				if fee == nil || fee.TotalDelta != tc.feeDelta {
					t.Fatalf("fee summary %+v, want total delta %s: %s", fee, tc.feeDelta, rep.Summary())
				}
			}
			for k, v := range tc.byOutcome {
				if rep.ByOutcome[k] != v {
					t.Fatalf("by outcome %v, want %s: %d", rep.ByOutcome, k, v)
				}
			}
			if len(rep.Warnings) == 0 {
				t.Fatal("skipped decisions must be warned about")
			}
		})
	}
}

func TestRunWithoutDecisionsWarns(t *testing.T) {
	rep, err := impact.Run(context.Background(), loadGood(t), impact.Records(nil), impact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Read != 0 || len(rep.Warnings) == 0 || !strings.Contains(rep.Summary(), "WARNING: no logged decision matched") {
		t.Fatalf("a zero-decision replay must say so: %s", rep.Summary())
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	recs := logged(t, "2025-06-01T00:00:00+08:00", "1000")
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	src := func(ctx context.Context, fn func(decisionlog.Record) error) error {
		for {
			if n == 100 {
				cancel()
			}
			n++
			if err := fn(recs[0]); err != nil {
				return err
			}
		}
	}
	rep, err := impact.Run(ctx, loadGood(t), src, impact.Options{})
	if !errors.Is(err, context.Canceled) || rep == nil || !rep.Cancelled {
		t.Fatalf("err = %v, report %+v; want a cancelled partial report", err, rep)
	}
}

func TestParseShiftAndMoney(t *testing.T) {
	tests := []struct {
		name, in, want string
		bad            bool
	}{
		{name: "one year", in: "+1y", want: "+1y"},
		{name: "mixed", in: "1y-2m+3d", want: "+1y-2m+3d"},
		{name: "none", in: "", want: ""},
		{name: "garbage", in: "next year", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := impact.ParseShift(tc.in)
			if (err != nil) != tc.bad || (!tc.bad && s.String() != tc.want) {
				t.Fatalf("ParseShift(%q) = %v, %v", tc.in, s, err)
			}
		})
	}
	for in, want := range map[string]string{"184220.5": "+184,220.5", "-1234567.89": "-1,234,567.89", "12": "+12"} {
		if got := impact.Money(in); got != want {
			t.Errorf("Money(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestDedupReportsAsPlain: on a log where decisions repeat, evaluating each distinct one once and
// counting it every time gives the same report as evaluating every logged decision.
func TestDedupReportsAsPlain(t *testing.T) {
	base := logged(t, "2025-06-01T00:00:00+08:00", "1000", "2000.50", "150")
	earlier := logged(t, "2025-03-01T00:00:00+08:00", "1000")[0]
	clock := base[1]
	clock.Envelope = []byte(strings.Replace(string(clock.Envelope), `"as_of_source":"request"`, `"as_of_source":"server_clock"`, 1))
	if string(clock.Envelope) == string(base[1].Envelope) {
		t.Fatal("the logged envelope names no as_of_source")
	}
	broken := base[0]
	broken.Envelope = []byte("{")
	noFacts := base[0]
	noFacts.Facts = []byte(`{"other": null}`)
	var recs []decisionlog.Record
	for i := 0; i < 90; i++ {
		r := base[i%len(base)]
		if i%10 == 9 {
			r = []decisionlog.Record{broken, noFacts, earlier, clock}[i/10%4]
		}
		r.ID = fmt.Sprintf("d%03d", i)
		recs = append(recs, r)
	}
	cand := with2026(t)
	for _, shift := range []string{"", "+1y", "-1y"} {
		t.Run("shift "+shift, func(t *testing.T) {
			sh, err := impact.ParseShift(shift)
			if err != nil {
				t.Fatal(err)
			}
			run := func(noDedup bool) (*impact.Report, string) {
				rep, err := impact.Run(context.Background(), cand, impact.Records(recs), impact.Options{Shift: sh, Examples: 40, Workers: 2, NoDedup: noDedup})
				if err != nil {
					t.Fatal(err)
				}
				cp := *rep
				cp.Elapsed, cp.PerSecond, cp.Evaluated = "", 0, 0
				raw, _ := json.MarshalIndent(cp, "", " ")
				return rep, string(raw)
			}
			plain, plainJSON := run(true)
			dedup, dedupJSON := run(false)
			if plainJSON != dedupJSON {
				t.Fatalf("reports differ:\nplain %s\ndedup %s", plainJSON, dedupJSON)
			}
			if plain.Read != 90 || plain.Skipped == 0 || plain.NonDeterministic == 0 || shift != "" && plain.Changed == 0 {
				t.Fatalf("the log should read 90, skip some, replay some from the clock and change some when shifted: %s", plain.Summary())
			}
			// 5 distinct decisions are evaluated; two workers may both evaluate one before either keeps its result.
			if plain.Evaluated < plain.Replayed || dedup.Evaluated > 2*5 {
				t.Fatalf("evaluated %d plain (replayed %d), %d deduplicated (5 distinct decisions, 2 workers)", plain.Evaluated, plain.Replayed, dedup.Evaluated)
			}
		})
	}
}
