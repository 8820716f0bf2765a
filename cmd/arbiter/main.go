// Command arbiter serves and tests arbiter's decisions.
//
//	arbiter serve                    serve the API (DATABASE_URL unset: in-memory facts from fixtures/)
//	arbiter eval <decision> --input FILE [--as-of T] [--version V] [--explain] [--json]
//	arbiter test [PATH...]           run tests.yaml cases; non-zero exit on any failure (--coverage, --json, --junit FILE)
//	arbiter fmt [-w] [PATH...]       list or rewrite Rego files OPA's formatter would change
//	arbiter schemas [--out DIR]      write the published JSON Schemas (schemas/, .vscode/settings.json)
//	arbiter check                    load and compile policies and rule tables only
//	arbiter migrate                  create or update the engine and fact tables (facts/) in DATABASE_URL
//	arbiter seed                     load fixtures/ into DATABASE_URL
//	arbiter impact --candidate DIR   replay logged decisions against a candidate policy set
//	arbiter publish DIR -m MSG       publish a folder as the revision every replica serves
//	arbiter rollback R               publish revision R's tree again
//	arbiter export --revision R DIR  write a published revision out
//	arbiter revisions                list published revisions
//	arbiter new-version rules/D/T --valid-from T   add a version, closing the previous window
//	arbiter keys create|list|revoke  manage API keys (DATABASE_URL, or a keys file)
//	arbiter log export --from T --to T  write logged decisions as NDJSON
//	arbiter version                  print the version, commit and Go version (also --version)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"arbiter/engine"
	"arbiter/internal/buildinfo"
)

const usage = `usage: arbiter <command> [flags]

commands:
  serve     serve the decision API
  eval      evaluate one decision from a JSON file
  test      run tests.yaml cases (all, or those under the given paths)
  check     load and compile every policy (or those under the given paths) and rule table
  migrate   create or update the engine and fact tables (facts/) in DATABASE_URL
  seed      load fixtures/ into DATABASE_URL (replacing those tables' rows)
  impact    replay logged decisions against a candidate policy set and list what flips
  fmt       list (or with -w rewrite) Rego files that OPA's formatter would change
  schemas   write the JSON Schemas editors validate manifests, tests.yaml, rule tables and facts with
  publish   publish a folder as the new revision served by every replica (DIR -m MSG; --revision R rolls back)
  rollback  publish an earlier revision again (rollback R)
  export    write a published revision out to a folder (--revision R DIR)
  revisions list published revisions
  new-version  copy the latest version of a rule table or decision with a new window, closing the previous one
  keys      create, list and revoke API keys (create --name N --scopes S; list; revoke ID)
  log       export logged decisions as NDJSON (log export --from T --to T [--decision D])
  version   print the version, commit and Go version (also --version)

Run 'arbiter <command> -h' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"serve": cmdServe, "eval": cmdEval, "test": cmdTest, "check": cmdCheck,
		"migrate": cmdMigrate, "seed": cmdSeed, "impact": cmdImpact, "fmt": cmdFmt, "keys": cmdKeys,
		"publish": cmdPublish, "rollback": cmdRollback, "export": cmdExport, "revisions": cmdRevisions,
		"new-version": cmdNewVersion, "log": cmdLog, "schemas": cmdSchemas, "version": cmdVersion, "--version": cmdVersion, "-version": cmdVersion,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "arbiter: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err := cmd(ctx, args[1:], stdout, stderr); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "arbiter %s: %v\n", args[0], err)
			return 2
		}
		var le *engine.LoadError
		if errors.As(err, &le) {
			for _, p := range le.Problems {
				fmt.Fprintln(stderr, p.String())
			}
			fmt.Fprintf(stderr, "arbiter %s: %d problem(s)\n", args[0], len(le.Problems))
			return 1
		}
		if !errors.Is(err, errReported) {
			fmt.Fprintf(stderr, "arbiter %s: %v\n", args[0], err)
		}
		return 1
	}
	return 0
}

// usageError is a command-line mistake (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// errReported means the command already printed why it failed.
var errReported = errors.New("failed")

func logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func cmdVersion(_ context.Context, args []string, stdout, _ io.Writer) error {
	if len(args) > 0 {
		return usageError{"version takes no arguments"}
	}
	fmt.Fprintln(stdout, buildinfo.Get())
	return nil
}
