package console_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"arbiter/internal/server"
)

// chromiumPath finds the browser: ARBITER_CHROMIUM, then Debian's chromium.
func chromiumPath() string {
	if p := os.Getenv("ARBITER_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser starts headless Chromium with a fresh profile; under CI=true a missing browser fails.
func browser(t *testing.T) context.Context {
	t.Helper()
	return browserFor(t, 3*time.Minute)
}

// browserFor is browser with a deadline for the whole test.
func browserFor(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (apt-get install -y chromium) and CI=true: the console's browser test cannot be skipped")
		}
		t.Skip("chromium is not installed (apt-get install -y chromium); skipping the console's browser test")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	tctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(tctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return tctx
}

// consoleServer serves the embedded default in-process, as `arbiter serve` does without a database.
func consoleServer(t *testing.T) (*httptest.Server, *server.Service) {
	t.Helper()
	svc, err := server.Build(context.Background(), server.Config{EvalTimeout: 10 * time.Second, MaxBodyBytes: 1 << 20, LogQueue: 1000},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			lastAuth.Store(r.Header.Get("Authorization"))
		}
		svc.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { ts.Close(); svc.Close() })
	return ts, svc
}

// lastAuth is the Authorization header of the latest API request the console made.
var lastAuth atomic.Value

func screenshotDir(t *testing.T) string {
	if d := os.Getenv("ARBITER_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

type page struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

func (p page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	// A step that waits for what never comes fails by its name, not by the test's deadline.
	ctx, cancel := context.WithTimeout(p.ctx, 3*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

func (p page) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (p page) eval(js string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		p.t.Fatalf("evaluating %s: %v", js, err)
	}
	return s
}

// waitEval polls a JavaScript expression until it yields want.
func (p page) waitEval(js, want string) {
	p.t.Helper()
	var got string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = p.eval(js); got == want {
			return
		}
	}
	p.t.Fatalf("%s is %q, want %q", js, got, want)
}

// screenshot writes the whole page as PNG, or only the viewport when the page is long.
func (p page) screenshot(name string) {
	p.t.Helper()
	shot := chromedp.FullScreenshot(100)
	if p.eval(`String(document.documentElement.scrollHeight > 4000)`) == "true" {
		shot = chromedp.CaptureScreenshot()
	}
	buf, err := chromedp.Run(p.ctx, shot)
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(p.shots, name+".png"), buf, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// watchJSErrors fails the test, at its end, for every exception thrown and console.error logged by the
// console's JavaScript.
func watchJSErrors(t *testing.T, ctx context.Context) {
	t.Helper()
	var (
		mu       sync.Mutex
		jsErrors []string
	)
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			jsErrors = append(jsErrors, fmt.Sprintf("%s (%s:%d:%d)", msg, d.URL, d.LineNumber+1, d.ColumnNumber+1))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				jsErrors = append(jsErrors, "console.error: "+strings.Join(parts, " "))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range jsErrors {
			t.Errorf("JavaScript error in the console: %s", e)
		}
	})
}

// TestConsoleInBrowser walks an analyst's story in headless Chromium: the catalog, a decision, its
// rule table as a grid, a playground run, the lookup of that decision, the status page, and the
// keyboard order of the main navigation.
func TestConsoleInBrowser(t *testing.T) {
	ts, svc := consoleServer(t)
	ctx := browser(t)
	watchJSErrors(t, ctx)
	p := page{t: t, ctx: ctx, shots: screenshotDir(t)}
	t.Logf("screenshots in %s", p.shots)

	// Catalog: every decision with its versions on a timeline.
	p.do("open the catalog", chromedp.Navigate(ts.URL+"/console/"),
		chromedp.WaitVisible(chromedp.CSS(`li.card[data-decision="incentive.growth"] .timeline`)))
	if got := p.text("h1"); got != "Decision catalog" {
		t.Errorf("catalog heading %q", got)
	}
	if n := p.eval(`String(document.querySelectorAll("li.card[data-decision]").length)`); n != fmt.Sprint(len(svc.Engine.PolicySet().Decisions())) {
		t.Errorf("catalog shows %s decisions, the set has %d", n, len(svc.Engine.PolicySet().Decisions()))
	}
	growth := `li.card[data-decision="incentive.growth"]`
	if got := p.text(growth + " .meta"); !strings.Contains(got, "incentive.growth_policy") {
		t.Errorf("incentive.growth's card does not name its table: %q", got)
	}
	// The filter narrows the catalog.
	p.do("filter by domain", chromedp.SendKeys(chromedp.CSS("#catalog-filter"), "incentive."))
	p.waitEval(`String(document.querySelectorAll("section.domain:not([hidden])").length)`, "1")
	p.screenshot("catalog")
	p.do("clear the filter", chromedp.Focus(chromedp.CSS("#catalog-filter")), chromedp.KeyEvent(strings.Repeat(kb.Backspace, len("incentive."))))
	p.do("filter the catalog", chromedp.SendKeys(chromedp.CSS("#catalog-filter"), "growth_policy"))
	p.waitEval(`document.querySelector("#catalog-count").textContent.startsWith("1 of")`+`? "one" : document.querySelector("#catalog-count").textContent`, "one")
	if got := p.eval(`Array.from(document.querySelectorAll("li.card[data-decision]:not([hidden])")).map(c => c.dataset.decision).join(",")`); got != "incentive.growth" {
		t.Errorf("filtering by growth_policy shows %q, want incentive.growth", got)
	}
	p.do("clear the filter", chromedp.Focus(chromedp.CSS("#catalog-filter")), chromedp.KeyEvent(strings.Repeat(kb.Backspace, len("growth_policy"))))
	p.waitEval(`String(document.querySelectorAll("li.card[data-decision][hidden]").length)`, "0")

	// The decision page: versions, tables and rules of the version in force.
	p.do("open incentive.growth", chromedp.Click(chromedp.CSS(growth+" h3 a")), chromedp.WaitVisible(chromedp.CSS("#version-detail")))
	if got := p.text("h1"); got != "incentive.growth" {
		t.Errorf("decision heading %q", got)
	}
	if got := p.text("#decision-rules"); !strings.Contains(got, "INC-") {
		t.Errorf("incentive.growth's rules %q name no INC- rule id", got)
	}
	p.screenshot("decision")

	// Its rule table as a grid with the schema's column descriptions.
	p.do("open its table", chromedp.Click(chromedp.CSS(`#decision-tables a`)), chromedp.WaitVisible(chromedp.CSS("#grid-tiers")))
	if got := p.text("h1"); got != "incentive.growth_policy" {
		t.Errorf("table heading %q", got)
	}
	if got := p.eval(`String(document.querySelectorAll("#grid-tiers tbody tr").length > 0)`); got != "true" {
		t.Error("the tiers grid has no rows")
	}
	if got := p.eval(`Array.from(document.querySelectorAll("#grid-tiers thead th[data-col]")).map(th => th.dataset.col).join(",")`); got != "from,rate,to" {
		t.Errorf("tiers columns %q, want from,rate,to", got)
	}
	if got := p.text(`#grid-tiers caption`); !strings.Contains(got, "INC-04") {
		t.Errorf("the tiers grid's caption %q lacks the schema description", got)
	}
	if got := p.text(`.setting[data-field="min_growth_rate_exclusive"]`); !strings.Contains(got, "0.30") || !strings.Contains(got, "INC-03") {
		t.Errorf("the setting min_growth_rate_exclusive shows %q, want its value and description", got)
	}
	if got := p.eval(`String(/^null$/m.test(document.querySelector("main").innerText))`); got != "false" {
		t.Error("the table page shows a bare null")
	}
	p.screenshot("table")

	// Playground: the sample of incentive.growth, run with explain.
	p.do("open the playground", chromedp.Navigate(ts.URL+"/console/#/playground/incentive.growth"))
	p.waitEval(`document.querySelector("#pg-input") && document.querySelector("#pg-input").value.includes("INC-P1") ? "seeded" : ""`, "seeded")
	p.do("run the decision", chromedp.Click(chromedp.CSS("#pg-run")), chromedp.WaitVisible(chromedp.CSS("#pg-result #outcome")))
	if got := p.eval(`document.querySelector("#pg-result #outcome").dataset.outcome`); got != "allow" {
		t.Errorf("playground outcome %q, want allow", got)
	}
	if got := p.text(`#pg-result #outputs .setting[data-field="total_incentive"] > dd`); got != "22603.46" {
		t.Errorf("playground total_incentive %q, want 22603.46", got)
	}
	if got := p.text("#pg-result #versions-used"); !strings.Contains(got, "incentive.growth_policy 2024") {
		t.Errorf("versions used %q do not name the 2024 growth table", got)
	}
	if got := p.text("#pg-result #facts-seen"); !strings.Contains(got, "INC-P1-2024-R1") {
		t.Errorf("facts seen %q lack the partner's performance rows", got)
	}
	p.screenshot("playground")
	id := p.text("#pg-result #decision-id")

	// Errors: JSON that does not parse is refused at the field; a problem from the API is shown.
	p.eval(`(() => { document.querySelector("#pg-input").value = "{"; return ""; })()`)
	p.do("run broken JSON", chromedp.Click(chromedp.CSS("#pg-run")))
	p.waitEval(`document.querySelector("#pg-input").getAttribute("aria-invalid") || ""`, "true")
	if got := p.text("#pg-input-error"); !strings.Contains(got, "not valid JSON") {
		t.Errorf("the input error reads %q", got)
	}
	p.eval(`(() => { document.querySelector("#pg-input").value = "{}"; return ""; })()`)
	p.do("run an empty input", chromedp.Click(chromedp.CSS("#pg-run")), chromedp.WaitVisible(chromedp.CSS(`#pg-result .error[role="alert"]`)))
	if got := p.eval(`document.querySelector("#pg-input").getAttribute("aria-invalid") || ""`); got != "" {
		t.Errorf("aria-invalid %q stays after the JSON parsed", got)
	}
	if got := p.text("#pg-result .error"); !strings.Contains(got, "partner_id") {
		t.Errorf("the problem shown %q does not name the missing field", got)
	}

	// Lookup: the decision just made, once the log has it.
	for i := 0; ; i++ {
		resp, err := http.Get(ts.URL + "/v1/decisions/" + id)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			break
		}
		if i == 100 {
			t.Fatalf("decision %s was never logged: %d", id, resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.do("look it up by id", chromedp.Click(chromedp.CSS(`#nav a[data-nav="lookup"]`)), chromedp.WaitVisible(chromedp.CSS("#lookup-id")),
		chromedp.SendKeys(chromedp.CSS("#lookup-id"), id+kb.Enter), chromedp.WaitVisible(chromedp.CSS("#lookup-result #outcome")))
	if got := p.eval(`document.querySelector("#lookup-id").value`); got != id {
		t.Errorf("lookup field %q, want %s", got, id)
	}
	if got := p.text(`#lookup-result #outputs .setting[data-field="total_incentive"] > dd`); got != "22603.46" {
		t.Errorf("looked-up total_incentive %q, want 22603.46", got)
	}
	if got := p.text("#lookup-result"); !strings.Contains(got, `"partner_id": "INC-P1"`) || !strings.Contains(got, "INC-P1-2024-R4") {
		t.Errorf("the lookup lacks the input or the facts: %q", got)
	}
	p.screenshot("lookup")

	// Status: the revision served.
	p.do("open status", chromedp.Click(chromedp.CSS(`#nav a[data-nav="status"]`)), chromedp.WaitVisible(chromedp.CSS("#status-revision")))
	if got, want := p.text("#status-revision"), svc.Engine.PolicySet().Revision(); got != want {
		t.Errorf("status revision %q, want %q", got, want)
	}
	p.screenshot("status")

	// An API key pasted in the banner is sent as a bearer token on every call, from sessionStorage.
	if got, _ := lastAuth.Load().(string); got != "" {
		t.Errorf("without a key the console sent Authorization %q", got)
	}
	p.do("paste a key", chromedp.SendKeys(chromedp.CSS("#api-key"), "k-analyst-1"+kb.Enter))
	p.waitEval(`document.querySelector("#key-state").textContent`, "key set for this tab")
	p.waitEval(`sessionStorage.getItem("arbiter.apiKey") + "|" + document.querySelector("#api-key").value`, "k-analyst-1|")
	p.do("reopen status", chromedp.Navigate(ts.URL+"/console/#/catalog"), chromedp.Navigate(ts.URL+"/console/#/status"), chromedp.WaitVisible(chromedp.CSS("#status-revision")))
	if got, _ := lastAuth.Load().(string); got != "Bearer k-analyst-1" {
		t.Errorf("with a key the console sent Authorization %q, want Bearer k-analyst-1", got)
	}
	p.do("forget the key", chromedp.Click(chromedp.CSS("#key-clear")))
	p.waitEval(`String(sessionStorage.getItem("arbiter.apiKey"))`, "null")

	// Keyboard: from a fresh load, Tab walks the skip link, the key field and the main nav in order.
	p.do("load the catalog afresh", chromedp.Navigate("about:blank"), chromedp.Navigate(ts.URL+"/console/#/catalog"), chromedp.WaitVisible(chromedp.CSS(`li.card[data-decision]`)))
	want := []string{"Skip to content", "api-key", "Use key", "Forget", "Catalog", "Rule tables", "Playground", "Decision lookup", "Drafts", "Revisions", "Status"}
	var got []string
	for range want {
		p.do("press Tab", chromedp.KeyEvent(kb.Tab))
		got = append(got, p.eval(`(() => { const e = document.activeElement; return e.tagName === "INPUT" ? e.id : e.textContent.trim(); })()`))
		if outline := p.eval(`getComputedStyle(document.activeElement).outlineStyle`); outline == "none" {
			t.Errorf("%s has no visible focus outline", got[len(got)-1])
		}
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("focus order %q, want %q", got, want)
	}
	if cur := p.eval(`document.querySelector('#nav a[aria-current="page"]').textContent`); cur != "Catalog" {
		t.Errorf("current nav item %q, want Catalog", cur)
	}
	// Shift+Tab back to Playground, then Enter follows it and focus moves to the page.
	back := chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
	p.do("back to Playground", back, back, back, back)
	if f := p.eval(`document.activeElement.textContent`); f != "Playground" {
		t.Fatalf("after four Shift+Tab focus is on %q, want Playground", f)
	}
	p.do("follow it", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#pg-form")))
	p.waitEval(`document.activeElement.id`, "main")
	if h := p.text("h1"); h != "Playground" {
		t.Errorf("Enter on Playground opened %q", h)
	}

	// Tablet width: the rule table stays within the viewport (grids scroll inside their region).
	p.do("tablet width", chromedp.EmulateViewport(820, 1180), chromedp.Navigate(ts.URL+"/console/#/table/incentive.growth_policy"),
		chromedp.WaitVisible(chromedp.CSS("#grid-tiers")))
	if over := p.eval(`String(document.documentElement.scrollWidth > document.documentElement.clientWidth)`); over != "false" {
		t.Errorf("at 820px the table page scrolls sideways (scrollWidth %s)", p.eval(`String(document.documentElement.scrollWidth)`))
	}
	p.screenshot("table-tablet")
	p.do("tablet playground", chromedp.Navigate(ts.URL+"/console/#/playground/incentive.growth"), chromedp.WaitVisible(chromedp.CSS("#pg-run")))
	p.waitEval(`document.querySelector("#pg-input").value.includes("INC-P1") ? "seeded" : ""`, "seeded")
	p.do("run at tablet width", chromedp.Click(chromedp.CSS("#pg-run")), chromedp.WaitVisible(chromedp.CSS("#pg-result #outcome")))
	if over := p.eval(`String(document.documentElement.scrollWidth > document.documentElement.clientWidth)`); over != "false" {
		t.Errorf("at 820px the playground scrolls sideways (scrollWidth %s)", p.eval(`String(document.documentElement.scrollWidth)`))
	}
	p.screenshot("playground-tablet")
}
