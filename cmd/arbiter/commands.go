package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"arbiter"
	"arbiter/api"
	"arbiter/casetest"
	"arbiter/engine"
	"arbiter/internal/reload"
	"arbiter/internal/server"
	"arbiter/store"
)

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("arbiter "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// policyDirFlag defaults to the working directory when it holds policies/, else the embedded bundle.
func policyDirFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("ARBITER_POLICY_DIR")
	if def == "" {
		if st, err := os.Stat("policies"); err == nil && st.IsDir() {
			def = "."
		}
	}
	return fs.String("policies", def, "folder holding policies/ and rules/ (empty: the embedded bundle)")
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return errReported
		}
		return usageError{err.Error()}
	}
	return nil
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := server.FromEnv()
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	fs := newFlags("serve", stderr)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address")
	fs.StringVar(&cfg.PolicyDir, "policies", cfg.PolicyDir, "folder holding policies/ and rules/ (empty: the embedded bundle); reloads read it again")
	fs.StringVar(&cfg.FixturesDir, "fixtures", cfg.FixturesDir, "folder of fixture YAML for in-memory facts (empty: embedded fixtures)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := server.CheckAddr(cfg.Addr); err != nil {
		return usageError{"--addr: " + err.Error()}
	}
	return server.Run(ctx, cfg, logger(stderr))
}

// loadSet loads the policy tree at dir (empty: the embedded one) with its catalog cases.
func loadSet(ctx context.Context, dir string, opts ...engine.LoadOption) (*engine.PolicySet, []casetest.Case, error) {
	return reload.Build(ctx, server.PolicySource(dir), opts...)
}

func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", stderr)
	dir := policyDirFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	set, cases, err := loadSet(ctx, *dir, engine.Only(fs.Args()...))
	if err != nil {
		return err
	}
	n := 0
	for _, d := range set.Decisions() {
		n += len(d.Versions)
	}
	fmt.Fprintf(stdout, "ok: %d decisions, %d policy versions, %d rule tables, %d cases, revision %s\n",
		len(set.Decisions()), n, len(set.Tables()), len(cases), set.Revision())
	return nil
}

func cmdTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("test", stderr)
	dir := policyDirFlag(fs)
	verbose := fs.Bool("v", false, "list every case, not only failures")
	run := fs.String("run", "", "only cases whose name contains this text")
	coverage := fs.Bool("coverage", false, "report which catalog rule ids fired in some case and which never did")
	asJSON := fs.Bool("json", false, "print the results (and coverage) as JSON")
	junit := fs.String("junit", "", "also write the results as JUnit XML to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	prefixes := fs.Args()
	// Paths narrow what is loaded too, so one domain can be tested while another is half-written.
	set, cases, err := loadSet(ctx, *dir, engine.Only(prefixes...))
	if err != nil {
		return err
	}
	var results []casetest.Result
	for _, tc := range cases {
		if !matchesPrefix(tc.File, prefixes) || (*run != "" && !strings.Contains(tc.Name, *run)) {
			continue
		}
		results = append(results, casetest.Run(ctx, set, tc))
	}
	var cov *casetest.CoverageReport
	if *coverage {
		c := casetest.Coverage(set, results)
		cov = &c
	}
	if *junit != "" {
		if err := writeJUnit(*junit, results); err != nil {
			return err
		}
	}
	passed, failed, files := casetest.Summary(results)
	if *asJSON {
		if err := writeJSONReport(stdout, results, cov); err != nil {
			return err
		}
		if failed > 0 || len(results) == 0 {
			return errReported
		}
		return nil
	}
	for _, r := range results {
		switch {
		case !r.Passed():
			fmt.Fprintf(stdout, "FAIL %s:%d %s\n", r.Case.File, r.Case.Line, r.Case.Name)
			for _, f := range r.Failures {
				fmt.Fprintf(stdout, "     %s\n", f)
			}
		case *verbose:
			fmt.Fprintf(stdout, "ok   %s %s\n", r.Case.File, r.Case.Name)
		}
	}
	if cov != nil {
		writeCoverage(stdout, *cov)
	}
	if len(results) == 0 {
		fmt.Fprintf(stdout, "no cases matched %v\n", prefixes)
		return errReported
	}
	fmt.Fprintf(stdout, "cases: %d passed, %d failed (%d files)\n", passed, failed, len(files))
	if failed > 0 {
		return errReported
	}
	return nil
}

func matchesPrefix(file string, prefixes []string) bool {
	if len(prefixes) == 0 {
		return true
	}
	for _, p := range prefixes {
		p = strings.TrimPrefix(strings.TrimSuffix(p, "/"), "./")
		if file == p || strings.HasPrefix(file, p+"/") || strings.HasPrefix(file, p) {
			return true
		}
	}
	return false
}

func cmdEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", stderr)
	dir := policyDirFlag(fs)
	input := fs.String("input", "", "JSON file with the request body, as POST /v1/decisions/{decision} takes it ({input, as_of, ...}); - for stdin")
	asOf := fs.String("as-of", "", "RFC 3339 instant to decide at (default: the request body's as_of, else now)")
	version := fs.String("version", "", "pin a policy version")
	explain := fs.Bool("explain", false, "show which conditions of the policy held (rule bodies, CEL rules, variables and outputs), with the facts and rule tables it saw; text unless --json")
	asJSON := fs.Bool("json", false, "print the decision envelope as JSON (the default without --explain); with --explain it carries explain.conditions")
	commit := fs.Bool("commit", false, "record a commit decision's consumption (default: a dry run that writes nothing)")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usageError{"usage: arbiter eval <decision> --input FILE [--as-of T]"}
	}
	decision := args[0]
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *input == "" {
		return usageError{"--input is required"}
	}
	raw, err := readInput(*input)
	if err != nil {
		return err
	}
	req, p := api.ParseRequest(raw)
	if p != nil {
		return usageError{fmt.Sprintf("%s: %s", *input, p)}
	}
	req.Decision, req.Explain, req.Trace = decision, req.Explain || *explain, *explain
	req.Caller = "cli:eval" // the command line is trusted: whoever runs it holds the database credentials
	if !*commit {
		req.DryRun = true
	}
	if *version != "" {
		req.Version = *version
	}
	if *asOf != "" {
		t, err := time.Parse(time.RFC3339, *asOf)
		if err != nil {
			return usageError{"--as-of must be RFC 3339, such as 2025-02-01T12:00:00+08:00"}
		}
		req.AsOf = t
	}
	cfg, err := server.FromEnv()
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	cfg.PolicyDir = *dir
	if *explain && cfg.EvalTimeout < explainTimeout {
		cfg.EvalTimeout = explainTimeout // tracing is several times slower than a decision
	}
	svc, err := server.Build(ctx, cfg, logger(io.Discard))
	if err != nil {
		return err
	}
	defer svc.Close()
	d, err := svc.Engine.Decide(ctx, req)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err != nil {
		var ee *engine.Error
		if asEngineError(err, &ee) {
			out := map[string]any{"code": ee.Code, "detail": ee.Message, "errors": ee.Fields}
			if ee.Err != nil {
				out["cause"] = ee.Err.Error() // the API logs it; here the operator is the reader
			}
			_ = enc.Encode(out)
			return errReported
		}
		return err
	}
	if *explain && !*asJSON {
		_, err := io.WriteString(stdout, explainText(d))
		return err
	}
	return enc.Encode(d)
}

func asEngineError(err error, target **engine.Error) bool {
	e, ok := err.(*engine.Error)
	if ok {
		*target = e
	}
	return ok
}

func readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}

func databaseURL() (string, error) {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		return "", usageError{"DATABASE_URL is not set"}
	}
	return url, nil
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlags("migrate", stderr)
	dir := policyDirFlag(flags)
	if err := parse(flags, args); err != nil {
		return err
	}
	url, err := databaseURL()
	if err != nil {
		return err
	}
	cat, err := loadCatalog(*dir)
	if err != nil {
		return err
	}
	if err := store.Migrate(ctx, url, cat); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}

// loadCatalog reads the fact catalog (facts/) of the policy tree in dir, or of the embedded bundle.
func loadCatalog(dir string) (*store.Catalog, error) {
	tree, err := server.PolicySource(dir)()
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(tree, "facts")
	if err != nil {
		return nil, err
	}
	cat, err := store.LoadCatalog(sub)
	if err != nil {
		return nil, fmt.Errorf("fact catalog: %w", err)
	}
	return cat, nil
}

func cmdSeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("seed", stderr)
	dir := policyDirFlag(fs)
	fixtures := fs.String("fixtures", "", "folder of fixture YAML (empty: the policy tree's fixtures/)")
	if err := parse(fs, args); err != nil {
		return err
	}
	url, err := databaseURL()
	if err != nil {
		return err
	}
	set, _, err := loadSet(ctx, *dir)
	if err != nil {
		return err
	}
	cat := set.Catalog()
	src := arbiter.Fixtures()
	switch {
	case *fixtures != "":
		src = os.DirFS(*fixtures)
	case *dir != "":
		src = os.DirFS(filepath.Join(*dir, "fixtures"))
	}
	rows, err := store.LoadRowsDir(cat, src)
	if err != nil {
		return err
	}
	if err := store.Migrate(ctx, url, cat); err != nil {
		return err
	}
	pg, err := store.OpenPostgres(ctx, url, cat)
	if err != nil {
		return err
	}
	defer pg.Close()
	if err := pg.Seed(ctx, rows); err != nil {
		return err
	}
	tables := make([]string, 0, len(rows))
	total := 0
	for t, rs := range rows {
		tables = append(tables, fmt.Sprintf("%s=%d", t, len(rs)))
		total += len(rs)
	}
	sort.Strings(tables)
	fmt.Fprintf(stdout, "seeded %d rows: %s\n", total, strings.Join(tables, " "))
	return nil
}
