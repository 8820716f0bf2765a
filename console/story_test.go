package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"arbiter"
	"arbiter/auth"
	"arbiter/internal/testing/testserver"
	"arbiter/revision"
)

// replicaStatus is the published revision a replica reports in /v1/status.
func replicaStatus(t *testing.T, s *testserver.Server) (mode string, seq int64) {
	t.Helper()
	r := testserver.Get(t, s.Client, s.URL, "/v1/status")
	var body struct {
		Published struct {
			Mode    string `json:"mode"`
			Serving *struct {
				Seq int64 `json:"seq"`
			} `json:"serving"`
		} `json:"published"`
	}
	if err := json.Unmarshal(r.Raw, &body); err != nil {
		t.Fatalf("status: %v: %s", err, r.Raw)
	}
	if body.Published.Serving != nil {
		seq = body.Published.Serving.Seq
	}
	return body.Published.Mode, seq
}

// waitServing polls every replica until it serves revision seq.
func waitServing(t *testing.T, seq int64, replicas ...*testserver.Server) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for i, s := range replicas {
		for {
			mode, got := replicaStatus(t, s)
			if mode == "published" && got == seq {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %d serves %s r%d, want r%d", i+1, mode, got, seq)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// answer is what a replica answers for one request: the outcome, total_incentive and the growth
// table's version, or the problem's code.
type answer struct {
	Status               int
	Outcome, Total, Code string
	Table                string
}

func ask(t *testing.T, s *testserver.Server, input map[string]any, asOf string) answer {
	t.Helper()
	r := s.Decide(t, "incentive.growth", input, asOf)
	a := answer{Status: r.Status}
	if r.Status != http.StatusOK {
		a.Code = fmt.Sprint(r.Body["code"])
		return a
	}
	var env struct {
		Outcome string         `json:"outcome"`
		Outputs map[string]any `json:"outputs"`
		Tables  []struct {
			Table   string `json:"table"`
			Version string `json:"version"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(r.Raw, &env); err != nil {
		t.Fatal(err)
	}
	a.Outcome, a.Total = env.Outcome, fmt.Sprint(env.Outputs["total_incentive"])
	for _, tb := range env.Tables {
		if tb.Table == "incentive.growth_policy" {
			a.Table = tb.Version
		}
	}
	return a
}

// money formats a decimal string as the console does: sign, thousands separators, the digits as given.
func money(dec string) string {
	sign := "+"
	if strings.HasPrefix(dec, "-") {
		sign, dec = "-", dec[1:]
	}
	intPart, frac, _ := strings.Cut(dec, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		return sign + b.String() + "." + frac
	}
	return sign + b.String()
}

// TestAnalystPublishesNextYearsTableOnTwoReplicas is the policy analyst's whole story in a browser,
// against PostgreSQL and two replicas: open incentive.growth, start a draft, add next year's growth
// table by copying last year's in the grid, have a bad value refused at its cell and fix it, see every
// case pass, run impact with a one-year as-of shift over the logged 2024 decisions, publish (refused
// without the publish scope), see both replicas answer next year's decisions with the new table, and
// roll back through the revision history so both answer as before.
func TestAnalystPublishesNextYearsTableOnTwoReplicas(t *testing.T) {
	ctx := context.Background()
	a := testserver.Start(t, testserver.Options{Fixtures: true, RevisionPoll: 500 * time.Millisecond})
	b := testserver.Start(t, testserver.Options{DatabaseURL: a.DatabaseURL, RevisionPoll: 500 * time.Millisecond})
	replicas := []*testserver.Server{a, b}
	editor := testserver.CreateKey(t, a.DatabaseURL, "ana", "*", auth.ScopeLogRead, auth.ScopeDraft, auth.ScopeExplain)
	publisher := testserver.CreateKey(t, a.DatabaseURL, "ben", "*", auth.ScopeLogRead, auth.ScopeDraft, auth.ScopePublish)

	// The shipped tree is r1 on both replicas.
	tree, err := revision.Snapshot(arbiter.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	revs := revision.NewStore(a.Postgres.Pool())
	r1, err := revs.Publish(ctx, tree, revision.Meta{Author: "ci", Message: "the shipped tree"})
	if err != nil {
		t.Fatal(err)
	}
	waitServing(t, r1.Seq, replicas...)

	// 2024 traffic, logged: the sample request (which names its policy year) and partners asking at the
	// end of 2024 for the year of as_of.
	raw, err := os.ReadFile(filepath.Join("..", "fixtures", "requests", "incentive.growth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sample struct {
		Input map[string]any `json:"input"`
		AsOf  string         `json:"as_of"`
	}
	if err := json.Unmarshal(raw, &sample); err != nil {
		t.Fatal(err)
	}
	traffic := []struct {
		input map[string]any
		asOf  string
	}{
		{sample.Input, sample.AsOf},
		{map[string]any{"partner_id": "INC-P1"}, "2024-12-31T23:59:59+08:00"},
		{map[string]any{"partner_id": "INC-P1"}, "2024-12-20T10:00:00+08:00"},
		{map[string]any{"partner_id": "INC-G1"}, "2024-12-30T16:00:00+08:00"},
	}
	var logged []string
	for _, req := range traffic {
		r := a.Decide(t, "incentive.growth", req.input, req.asOf)
		if r.Status != http.StatusOK {
			t.Fatalf("logging 2024 traffic: %d %s", r.Status, r.Raw)
		}
		logged = append(logged, r.Body["decision_id"].(string))
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var n int
		if err := a.Postgres.Pool().QueryRow(ctx, `SELECT count(*) FROM decision_log WHERE id = ANY($1)`, logged).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == len(logged) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d decisions logged", n, len(logged))
		}
	}

	// Before: 2025 has no growth table on either replica; 2024 is the worked example.
	next := map[string]any{"partner_id": "INC-G1"}
	const nextAsOf = "2025-12-31T12:00:00+08:00"
	oldNext := answer{Status: http.StatusUnprocessableEntity, Code: "no_table_version"}
	old2024 := answer{Status: http.StatusOK, Outcome: "allow", Total: "22603.46", Table: "2024"}
	for i, s := range replicas {
		if got := ask(t, s, next, nextAsOf); got != oldNext {
			t.Fatalf("replica %d before: %+v, want %+v", i+1, got, oldNext)
		}
		if got := ask(t, s, sample.Input, sample.AsOf); got != old2024 {
			t.Fatalf("replica %d before, 2024: %+v, want %+v", i+1, got, old2024)
		}
	}

	ctxB := browserFor(t, 10*time.Minute)
	watchJSErrors(t, ctxB)
	p := page{t: t, ctx: ctxB, shots: screenshotDir(t)}
	t.Logf("screenshots in %s", p.shots)
	base := a.BaseURL + "/console/"
	fill := func(sel, text string) chromedp.Action[chromedp.Void] {
		// Select what the field holds and type over it, as a person does.
		return chromedp.Steps(chromedp.Focus(chromedp.CSS(sel)), chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
			chromedp.KeyEvent(kb.Delete), chromedp.SendKeys(chromedp.CSS(sel), text))
	}
	useKey := func(key string) {
		p.do("paste a key", fill("#api-key", key+kb.Enter))
		p.waitEval(`sessionStorage.getItem("arbiter.apiKey") || ""`, key)
	}

	// The analyst opens the console with an editor's key (no publish scope) and opens incentive.growth.
	p.do("open the console", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"#/catalog"), chromedp.WaitVisible(chromedp.CSS("#api-key")))
	useKey(editor)
	p.do("open incentive.growth", chromedp.WaitVisible(chromedp.CSS(`li.card[data-decision="incentive.growth"] h3 a`)),
		chromedp.Click(chromedp.CSS(`li.card[data-decision="incentive.growth"] h3 a`)),
		chromedp.WaitVisible(chromedp.CSS(`#decision-tables button[data-table="incentive.growth_policy"]`)))

	// A new draft at the growth table: next year's version is proposed from last year's window.
	p.do("start a draft", chromedp.Click(chromedp.CSS(`#decision-tables button[data-table="incentive.growth_policy"]`)), chromedp.WaitVisible(chromedp.CSS("#nv-form")))
	draftID := regexp.MustCompile(`#/draft/([^/]+)/table/`).FindStringSubmatch(p.eval(`location.hash`))
	if draftID == nil {
		t.Fatalf("the draft's table page is at %s", p.eval(`location.hash`))
	}
	id := draftID[1]
	// Like 2024's, the proposed window is the calendar year (the table's schema: "the year of the version's window").
	if got := p.eval(`["#nv-version", "#nv-from", "#nv-to"].map(s => document.querySelector(s).value).join(" ")`); got != "2025 2025-01-01T00:00:00+08:00 2026-01-01T00:00:00+08:00" {
		t.Errorf("proposed version %q, want 2025 from 2025-01-01T00:00:00+08:00 to 2026-01-01T00:00:00+08:00", got)
	}
	p.do("copy 2024 as 2025", chromedp.Click(chromedp.CSS("#nv-add")),
		chromedp.WaitVisible(chromedp.CSS(`#draft-version[data-version="2025"][data-status="added"] #te-form`)))
	if got := p.eval(`document.querySelector('[data-path="data.tiers[0].rate"]').value`); got != "0.04" {
		t.Fatalf("the copy's first tier rate is %q, want 2024's 0.04", got)
	}
	if got := p.text(`#edit-tiers thead th[data-col="rate"]`); !strings.Contains(got, "rate") {
		t.Errorf("the rate column's header %q", got)
	}
	if got := p.text(`#edit-tiers caption`); !strings.Contains(got, "INC-04") {
		t.Errorf("the tiers grid's caption %q lacks the schema's description", got)
	}
	if got := p.text(`.setting[data-field="policy_year"] .coldesc`); !strings.Contains(got, "INC-08") {
		t.Errorf("policy_year's description %q", got)
	}

	// A bad value is refused at its cell, and focus goes there.
	cell := `[data-path="data.tiers[0].rate"]`
	p.do("edit the year and a bad rate", fill(`[data-path="data.policy_year"]`, "2025"), fill(cell, "4.5%"),
		fill("#te-description", "2025 growth incentive: the first tier earns 5%"),
		chromedp.Click(chromedp.CSS("#te-save")), chromedp.WaitVisible(chromedp.CSS(cell+`[aria-invalid="true"]`)))
	if got := p.text(`td[data-col="rate"] .cell-error`); !strings.Contains(got, "does not match pattern") {
		t.Errorf("the cell's error reads %q", got)
	}
	if got := p.eval(`document.activeElement.dataset.path || ""`); got != "data.tiers[0].rate" {
		t.Errorf("focus is on %q, want the bad cell", got)
	}
	if got := p.eval(`document.activeElement.getAttribute("aria-describedby") && document.getElementById(document.activeElement.getAttribute("aria-describedby")).textContent`); !strings.Contains(got, "pattern") {
		t.Errorf("the bad cell is not described by its error: %q", got)
	}
	if got := p.eval(`document.querySelector("#validation").dataset.ok`); got != "false" {
		t.Errorf("the draft validates with a bad rate: %s", got)
	}
	if n := p.eval(`String(document.querySelectorAll('[aria-invalid="true"]').length)`); n != "1" {
		t.Errorf("%s cells marked, want only the rate", n)
	}
	p.screenshot("draft-table-error")

	// Fixed, the table is valid; two catalog cases that say "no 2025 table is published" now fail, as
	// they should. The analyst moves them to 2026 in tests.yaml and every case passes.
	p.do("fix the rate", fill(cell, "0.05"), chromedp.Click(chromedp.CSS("#te-save")), chromedp.WaitVisible(chromedp.CSS(`#te-result #validation`)))
	if n := p.eval(`String(document.querySelectorAll('[aria-invalid="true"]').length)`); n != "0" {
		t.Errorf("%s cells still marked after the fix", n)
	}
	failing := p.eval(`Array.from(document.querySelectorAll("#failing-cases > li")).map(li => li.dataset.case).join("\n")`)
	if strings.Count(failing, "INC-08") != 2 || strings.Count(failing, "\n") != 1 || !strings.Contains(failing, "no published 2025 growth table") {
		t.Fatalf("with a 2025 table the failing cases are %q, want the two INC-08 cases expecting no 2025 table", failing)
	}
	p.screenshot("draft-table")
	p.do("open tests.yaml", chromedp.Click(chromedp.CSS(`#failing-cases a[data-file="policies/incentive/growth/2024.1/tests.yaml"]`)),
		chromedp.WaitVisible(chromedp.CSS("#file-content")))
	p.eval(`(() => {
		const a = document.querySelector("#file-content");
		const edit = (name, newName, pairs) => {
			const i = a.value.indexOf(name);
			if (i < 0) throw new Error("no case " + name);
			let j = a.value.indexOf("\n  - name:", i + 1);
			if (j < 0) j = a.value.length;
			let block = a.value.slice(i, j).replace(name, newName);
			for (const [x, y] of pairs) {
				if (!block.includes(x)) throw new Error(name + " lacks " + x);
				block = block.split(x).join(y);
			}
			a.value = a.value.slice(0, i) + block + a.value.slice(j);
		};
		edit("INC-08 year boundary: policy_year 2025 at as_of 2024-12-31 23:59:59", "INC-08 year boundary: policy_year 2026 at as_of 2025-12-31 23:59:59",
			[["as_of: 2024-12-31T23:59:59+08:00", "as_of: 2025-12-31T23:59:59+08:00"], ["policy_year: 2025}", "policy_year: 2026}"]]);
		edit("INC-08 with no published 2025 growth table a 2025 request", "INC-08 with no published 2026 growth table a 2026 request",
			[["as_of: 2025-01-01T00:00:00+08:00", "as_of: 2026-01-01T00:00:00+08:00"], ["policy_year: 2025,", "policy_year: 2026,"]]);
		return "";
	})()`)
	p.do("save tests.yaml", chromedp.Click(chromedp.CSS("#file-save")), chromedp.WaitVisible(chromedp.CSS(`#file-result #validation`)))
	passed, total := p.eval(`document.querySelector("#cases-summary").dataset.passed`), p.eval(`document.querySelector("#cases-summary").dataset.total`)
	if p.eval(`document.querySelector("#validation").dataset.ok`) != "true" || passed != total || total == "0" {
		t.Fatalf("after moving the cases to 2026: %s", p.text("#file-result"))
	}
	t.Logf("every case passes: %s", p.text("#cases-summary"))

	// Tablet width: the grid scrolls inside its region, the page does not.
	p.do("tablet width", chromedp.EmulateViewport(768, 1024), chromedp.Navigate(base+"#/draft/"+id+"/table/incentive.growth_policy/2025"),
		chromedp.WaitVisible(chromedp.CSS("#te-form")))
	if over := p.eval(`String(document.documentElement.scrollWidth > document.documentElement.clientWidth)`); over != "false" {
		t.Errorf("at 768px the draft's table page scrolls sideways (scrollWidth %s)", p.eval(`String(document.documentElement.scrollWidth)`))
	}
	p.screenshot("draft-table-tablet")
	p.do("laptop width", chromedp.EmulateViewport(1280, 900))

	// The draft page: the diff, the validation, impact over the logged 2024 decisions shifted a year.
	p.do("open the draft", chromedp.Click(chromedp.CSS("#back-to-draft")), chromedp.WaitVisible(chromedp.CSS("#impact-form")))
	if got := p.text("#draft-changes"); !strings.Contains(got, "rules/incentive/growth_policy/2025.yaml") || !strings.Contains(got, `rate: "0.05"`) ||
		!strings.Contains(got, "policy_year: 2026}") {
		t.Errorf("the changes do not show the new table: %q", got)
	}
	if got := p.eval(`document.querySelector("#validation").dataset.ok`); got != "true" {
		t.Errorf("the draft page's validation: %s", got)
	}
	p.do("run impact", fill("#imp-shift", "+1y"), fill("#imp-decisions", "incentive.growth"), chromedp.Click(chromedp.CSS("#imp-run")),
		chromedp.WaitVisible(chromedp.CSS("#impact-headline")))
	headline := p.text("#impact-headline")
	rep := testserver.Post(t, a.Client, a.URL, "/v1/drafts/"+id+"/impact", map[string]any{"as_of_shift": "+1y", "decisions": []string{"incentive.growth"}})
	if rep.Status != http.StatusOK {
		t.Fatalf("impact over the API: %d %s", rep.Status, rep.Raw)
	}
	var report struct {
		Read    int `json:"read"`
		Changed int `json:"changed"`
		Outputs map[string]struct {
			TotalDelta string `json:"total_delta"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(rep.Raw, &report); err != nil {
		t.Fatal(err)
	}
	moved := report.Outputs["total_incentive"].TotalDelta
	if report.Changed == 0 || moved == "" || report.Read < len(logged) {
		t.Fatalf("the API's impact report: %s", rep.Raw)
	}
	if want := fmt.Sprintf("%d decisions change, total incentive %s", report.Changed, money(moved)); headline != want {
		t.Errorf("the page reads %q, want %q (the API's report)", headline, want)
	}
	t.Logf("impact on the page: %s", headline)
	if got := p.eval(`Array.from(document.querySelectorAll("#chart-flips text.chart-label")).map(e => e.textContent + "=" + e.nextSibling.nextSibling.textContent).join(", ")`); got != fmt.Sprintf("same outcome, outputs move=%d, unchanged=%d", report.Changed, report.Read-report.Changed) {
		t.Errorf("the chart of what flips reads %q", got)
	}
	if got := p.eval(`String(document.querySelector("#chart-money desc").textContent)`); !strings.Contains(got, "total_incentive: "+money(moved)) {
		t.Errorf("the chart of money moved reads %q", got)
	}
	if got := p.text(`#impact-outputs tr[data-output="total_incentive"]`); !strings.Contains(got, money(moved)) {
		t.Errorf("the outputs table's total_incentive row %q", got)
	}
	shot, err := chromedp.Run(ctxB, chromedp.Screenshot(chromedp.CSS("#draft-impact")))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.shots, "draft-impact.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	p.screenshot("draft")
	p.do("tablet width", chromedp.EmulateViewport(768, 1024))
	if over := p.eval(`String(document.documentElement.scrollWidth > document.documentElement.clientWidth)`); over != "false" {
		t.Errorf("at 768px the draft page scrolls sideways (scrollWidth %s)", p.eval(`String(document.documentElement.scrollWidth)`))
	}
	p.do("laptop width", chromedp.EmulateViewport(1280, 900))

	// Publishing needs the publish scope: refused with the editor's key, done with the publisher's.
	const message = "2025 growth tiers: the first tier earns 5%"
	p.do("publish without the scope", fill("#pub-message", message), chromedp.Click(chromedp.CSS("#pub-run")),
		chromedp.WaitVisible(chromedp.CSS(`#publish-result .error`)))
	if got := p.text("#publish-result"); !strings.Contains(got, "publish") || !strings.Contains(got, "403") {
		t.Errorf("the refusal reads %q", got)
	}
	useKey(publisher)
	p.do("publish", chromedp.WaitVisible(chromedp.CSS("#pub-message")), fill("#pub-message", message), chromedp.Click(chromedp.CSS("#pub-run")),
		chromedp.WaitVisible(chromedp.CSS("#published")))
	r2 := p.eval(`document.querySelector("#published").dataset.seq`)
	if r2 != "2" {
		t.Fatalf("published as r%s, want r2", r2)
	}
	waitServing(t, 2, replicas...)
	newNext := answer{Status: http.StatusOK, Outcome: "allow", Total: "18827.16", Table: "2025"} // 376,543.22 × 5%
	for i, s := range replicas {
		if got := ask(t, s, next, nextAsOf); got != newNext {
			t.Errorf("replica %d after the publish: %+v, want %+v", i+1, got, newNext)
		}
		if got := ask(t, s, sample.Input, sample.AsOf); got != old2024 {
			t.Errorf("replica %d after the publish, 2024: %+v, want %+v", i+1, got, old2024)
		}
	}

	// The revision history shows r2's diff; rolling back to r1 restores the old answers on both.
	p.do("open the history", chromedp.Click(chromedp.CSS(`#nav a[data-nav="revisions"]`)), chromedp.WaitVisible(chromedp.CSS(`li.revision[data-seq="2"]`)))
	if got := p.text(`li.revision[data-seq="2"] .rev-message`); got != message {
		t.Errorf("r2's message %q", got)
	}
	p.do("show r2's changes", chromedp.Click(chromedp.CSS(`li.revision[data-seq="2"] button[data-action="diff"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#rev-diff-2 details[data-path="rules/incentive/growth_policy/2025.yaml"]`)))
	p.screenshot("revisions")
	p.do("tablet width", chromedp.EmulateViewport(768, 1024))
	if over := p.eval(`String(document.documentElement.scrollWidth > document.documentElement.clientWidth)`); over != "false" {
		t.Errorf("at 768px the revision history scrolls sideways (scrollWidth %s)", p.eval(`String(document.documentElement.scrollWidth)`))
	}
	p.do("laptop width", chromedp.EmulateViewport(1280, 900))
	p.do("roll back to r1", chromedp.Click(chromedp.CSS(`li.revision[data-seq="1"] button[data-action="rollback"]`)),
		chromedp.WaitVisible(chromedp.CSS("#rb-confirm-1")), chromedp.Click(chromedp.CSS("#rb-confirm-1")),
		chromedp.WaitVisible(chromedp.CSS("#rolled-back")))
	if got := p.eval(`document.querySelector("#rolled-back").dataset.seq`); got != "3" {
		t.Fatalf("the rollback published r%s, want r3", got)
	}
	waitServing(t, 3, replicas...)
	for i, s := range replicas {
		if got := ask(t, s, next, nextAsOf); got != oldNext {
			t.Errorf("replica %d after the rollback: %+v, want %+v", i+1, got, oldNext)
		}
		if got := ask(t, s, sample.Input, sample.AsOf); got != old2024 {
			t.Errorf("replica %d after the rollback, 2024: %+v, want %+v", i+1, got, old2024)
		}
	}
	p.do("history after the rollback", chromedp.WaitVisible(chromedp.CSS(`li.revision[data-seq="3"]`)))
	if got := p.text(`li.revision[data-seq="3"]`); !strings.Contains(got, "restores r1") {
		t.Errorf("r3 reads %q", got)
	}
}
