package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"arbiter/impact"
	"arbiter/internal/testing/pgtest"
	"arbiter/internal/testing/testserver"
	"arbiter/store"
	"arbiter/store/decisionlog"
)

// readmeExample is one request of the README's "Examples" block: a decision and its body.
type readmeExample struct {
	decision string
	body     []byte
}

// readmeExamples reads the curl lines of the README's "Examples" section, as a reader copies them.
func readmeExamples(t *testing.T, root string) []readmeExample {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "### Examples")
	if !ok {
		t.Fatal("README has no Examples section")
	}
	_, block, _ := strings.Cut(section, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	line := regexp.MustCompile(`\$B/(\S+) -d (@\S+|'[^']*')`)
	var out []readmeExample
	for _, m := range line.FindAllStringSubmatch(block, -1) {
		ex := readmeExample{decision: m[1]}
		if file, ok := strings.CutPrefix(m[2], "@"); ok {
			if ex.body, err = os.ReadFile(filepath.Join(root, file)); err != nil {
				t.Fatalf("README example %s: %v", m[0], err)
			}
		} else {
			ex.body = []byte(strings.Trim(m[2], "'"))
		}
		out = append(out, ex)
	}
	if len(out) < 10 {
		t.Fatalf("found %d curl examples in the README's Examples section; the block changed shape", len(out))
	}
	return out
}

// TestReadmeImpactRecipe follows the README on a fresh database: serve, send the "Examples" requests
// so they are logged, make next year's university.vouchers table with new-version as "Change a
// yearly number" says, raise one amount, and run impact with a one-year as-of shift, in text and
// JSON. The report must show the change with the output's before and after values, never an
// all-clear; the same shift against the unchanged tree must not show it (the edit made it).
func TestReadmeImpactRecipe(t *testing.T) {
	chdirRoot(t)
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	url := pgtest.New(t)
	t.Setenv("DATABASE_URL", url)
	t.Setenv("ARBITER_POLICY_DIR", "")
	t.Setenv("ARBITER_LOG_SPOOL_DIR", t.TempDir())
	t.Setenv("ARBITER_DRAIN", "0")
	for _, args := range [][]string{{"migrate"}, {"seed"}} {
		if code, out, errs := runCLI(t, args...); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
	}
	key := testserver.CreateKey(t, url, "readme", "*", "commit", "explain")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan string, 1)
	go func() {
		var out, errs bytes.Buffer
		code := run(ctx, []string{"serve", "--addr", addr}, &out, &errs)
		served <- fmt.Sprintf("exit %d: %s", code, strings.TrimSpace(errs.String()))
	}()
	t.Cleanup(func() {
		stop()
		select {
		case <-served:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	})
	client := &http.Client{Timeout: 10 * time.Second}
	base := "http://" + addr
	for deadline := time.Now().Add(2 * time.Minute); ; {
		resp, err := client.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not become ready: %v", err)
		}
		select {
		case msg := <-served:
			t.Fatalf("serve exited: %s", msg)
		case <-time.After(100 * time.Millisecond):
		}
	}

	logged, sentQuote, refused := 0, false, 0
	for _, ex := range readmeExamples(t, root) {
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/decisions/"+ex.decision, bytes.NewReader(ex.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			logged++
			sentQuote = sentQuote || ex.decision == "university.voucher_quote"
		case bytes.Contains(ex.body, []byte(`"account"`)) && resp.StatusCode == http.StatusUnprocessableEntity && bytes.Contains(body, []byte(`"input.account"`)):
			refused++ // "Bad input is a problem naming the field"
		default:
			t.Errorf("README example %s %s: %d %s", ex.decision, ex.body, resp.StatusCode, body)
		}
	}
	if logged < 10 || refused != 1 || !sentQuote {
		t.Fatalf("%d README examples answered 200 and %d was refused as bad input (university.voucher_quote among the 200s: %v)", logged, refused, sentQuote)
	}
	pool, err := store.NewPool(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for deadline := time.Now().Add(20 * time.Second); ; {
		n, err := decisionlog.Count(context.Background(), pool, decisionlog.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if n >= int64(logged) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d decisions reached the log", n, logged)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The same shift against the unchanged tree: what the shift alone changes (deadlines pass).
	code, baseline, errs := runCLI(t, "impact", "--as-of-shift", "+1y")
	if code != 0 || strings.Contains(baseline, "indicative_total") {
		t.Fatalf("impact of the shift alone: exit %d, must not move indicative_total:\n%s%s", code, baseline, errs)
	}

	// "Change a yearly number", in a copy of the tree as a policy author's checkout.
	tree := t.TempDir()
	for _, d := range []string{"policies", "rules", "facts"} {
		testserver.CopyTree(t, filepath.Join(root, d), filepath.Join(tree, d))
	}
	if err := os.Chdir(tree); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "new-version", "rules/university/vouchers", "--valid-from", "2026-01-01T00:00:00+08:00")
	if code != 0 || !strings.Contains(out, "rules/university/vouchers/2026.yaml") {
		t.Fatalf("new-version: exit %d\n%s%s", code, out, errs)
	}
	file := filepath.Join(tree, "rules", "university", "vouchers", "2026.yaml")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(raw, []byte(`amount_per_student: "500.00"`), []byte(`amount_per_student: "600.00"`), 1)
	if bytes.Equal(edited, raw) {
		t.Fatalf("2026.yaml has no 500.00 amount to edit:\n%s", raw)
	}
	if err := os.WriteFile(file, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCLI(t, "check"); code != 0 {
		t.Fatalf("check after the edit: exit %d\n%s%s", code, out, errs)
	}

	code, text, errs := runCLI(t, "impact", "--candidate", tree, "--as-of-shift", "+1y")
	if code != 0 {
		t.Fatalf("impact: exit %d\n%s%s", code, text, errs)
	}
	for _, want := range []string{
		"as_of shifted +1y",
		"indicative_total: 1 decisions change, +4,000 in all",
		"amount_per_student: 1 decisions change, +100 in all",
		`university.voucher_quote as of 2026-03-01T09:00:00+08:00`,
		`amount_per_student "500.00" -> "600.00" (+100)`,
		`indicative_total "20000.00" -> "24000.00" (+4000)`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("impact text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, " 0 changed") || strings.Contains(text, "WARNING") {
		t.Errorf("impact text reads as an all-clear or warns:\n%s", text)
	}

	code, js, errs := runCLI(t, "impact", "--candidate", tree, "--as-of-shift", "+1y", "--json")
	if code != 0 {
		t.Fatalf("impact --json: exit %d\n%s%s", code, js, errs)
	}
	var rep impact.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatalf("impact --json: %v\n%s", err, js)
	}
	if rep.Read != logged || rep.Replayed != logged || rep.Changed == 0 || rep.Shift != "+1y" {
		t.Fatalf("impact --json counts: read %d replayed %d changed %d shift %q, want %d read and replayed", rep.Read, rep.Replayed, rep.Changed, rep.Shift, logged)
	}
	if s := rep.Outputs["indicative_total"]; s == nil || s.Changed != 1 || s.TotalDelta != "4000" {
		t.Fatalf("impact --json outputs.indicative_total: %+v", s)
	}
	var quote *impact.Change
	for _, f := range rep.Examples {
		if f.Decision == "university.voucher_quote" {
			quote = f.Change
		}
	}
	if quote == nil {
		t.Fatalf("impact --json lists no change of university.voucher_quote: %s", js)
	}
	for name, want := range map[string][2]string{"amount_per_student": {"500.00", "600.00"}, "indicative_total": {"20000.00", "24000.00"}} {
		got, ok := quote.Outputs[name]
		if !ok {
			t.Errorf("impact --json: no %s change in %+v", name, quote.Outputs)
			continue
		}
		b, _ := json.Marshal(got)
		if !strings.Contains(string(b), `"`+want[0]+`"`) || !strings.Contains(string(b), `"`+want[1]+`"`) {
			t.Errorf("impact --json %s: %s, want %s -> %s", name, b, want[0], want[1])
		}
	}
}
