package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"arbiter/casetest"
	"arbiter/engine"
	"arbiter/internal/reload"
	"arbiter/revision"
	"arbiter/store"
)

// positional takes a leading non-flag argument (arbiter publish DIR -m MSG) and returns the rest.
func positional(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

// openRevisions connects to DATABASE_URL's revision tables.
func openRevisions(ctx context.Context) (*revision.Store, func(), error) {
	url, err := databaseURL()
	if err != nil {
		return nil, nil, err
	}
	pool, err := store.NewPool(ctx, url)
	if err != nil {
		return nil, nil, fmt.Errorf("database: %w", err)
	}
	return revision.NewStore(pool), pool.Close, nil
}

func defaultAuthor() string {
	if a := os.Getenv("ARBITER_AUTHOR"); a != "" {
		return a
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

// verifyTree loads t and runs every case, as a replica will before serving it.
func verifyTree(ctx context.Context, t revision.Tree) (int, error) {
	set, cases, err := reload.Build(ctx, func() (iofs.FS, error) { return t.FS(), nil })
	if err != nil {
		return 0, err
	}
	var failed []string
	for _, res := range casetest.RunAll(ctx, set, cases) {
		if !res.Passed() {
			failed = append(failed, fmt.Sprintf("%s: %s: %v", res.Case.File, res.Case.Name, res.Failures))
		}
	}
	if len(failed) > 0 {
		return len(cases), fmt.Errorf("%d of %d cases fail (a replica would refuse this revision):\n  %s", len(failed), len(cases), strings.Join(failed, "\n  "))
	}
	return len(cases), nil
}

func cmdPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	dir, args := positional(args)
	fs := newFlags("publish", stderr)
	msg := fs.String("m", "", "message describing the revision (required)")
	author := fs.String("author", defaultAuthor(), "author of the revision")
	rev := fs.String("revision", "", "publish the tree of this earlier revision again (a rollback) instead of a folder")
	closeWindows := fs.Bool("close-windows", false, "close each open window a later version follows (valid_to = its valid_from), in the folder too")
	skipTests := fs.Bool("skip-tests", false, "publish without loading the tree and running its cases first")
	if err := parse(fs, args); err != nil {
		return err
	}
	if dir == "" && fs.NArg() > 0 {
		dir = fs.Arg(0)
	}
	if (dir == "") == (*rev == "") {
		return usageError{"give a folder (arbiter publish DIR -m MSG) or --revision R"}
	}
	revs, closeDB, err := openRevisions(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	if *rev != "" {
		return rollback(ctx, revs, *rev, *msg, *author, stdout)
	}
	if *msg == "" {
		return usageError{"-m MSG is required"}
	}
	t, err := revision.Snapshot(os.DirFS(dir))
	if err != nil {
		return err
	}
	if *closeWindows {
		for _, p := range revision.CloseWindows(t) {
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(p)), t[p], 0o644); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "closed the window of %s\n", p)
		}
	}
	if !*skipTests {
		n, err := verifyTree(ctx, t)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d cases pass\n", n)
	}
	r, err := revs.Publish(ctx, t, revision.Meta{Author: *author, Message: *msg})
	if err != nil {
		return err
	}
	printPublished(stdout, r)
	return nil
}

func printPublished(w io.Writer, r revision.Revision) {
	fmt.Fprintf(w, "published %s (tree %s): %d added, %d changed, %d removed\n", r.Name(), short(r.Tree),
		len(r.Diff.Added), len(r.Diff.Changed), len(r.Diff.Removed))
	for _, p := range r.Diff.Added {
		fmt.Fprintf(w, "  + %s\n", p)
	}
	for _, p := range r.Diff.Changed {
		fmt.Fprintf(w, "  ~ %s\n", p)
	}
	for _, p := range r.Diff.Removed {
		fmt.Fprintf(w, "  - %s\n", p)
	}
}

func short(digest string) string {
	if len(digest) > len("sha256:")+12 {
		return digest[:len("sha256:")+12]
	}
	return digest
}

func rollback(ctx context.Context, revs *revision.Store, ref, msg, author string, stdout io.Writer) error {
	target, err := revs.Resolve(ctx, ref)
	if err != nil {
		return err
	}
	r, err := revs.Rollback(ctx, target.Seq, revision.Meta{Author: author, Message: msg})
	if err != nil {
		return err
	}
	printPublished(stdout, r)
	return nil
}

func cmdRollback(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	ref, args := positional(args)
	fs := newFlags("rollback", stderr)
	msg := fs.String("m", "", "message (default: roll back to rN)")
	author := fs.String("author", defaultAuthor(), "author of the revision")
	if err := parse(fs, args); err != nil {
		return err
	}
	if ref == "" {
		return usageError{"usage: arbiter rollback REVISION [-m MSG]"}
	}
	revs, closeDB, err := openRevisions(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	return rollback(ctx, revs, ref, *msg, *author, stdout)
}

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	dir, args := positional(args)
	fs := newFlags("export", stderr)
	ref := fs.String("revision", "head", "revision to write out (rN, head, or a tree digest prefix)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if dir == "" && fs.NArg() > 0 {
		dir = fs.Arg(0)
	}
	if dir == "" {
		return usageError{"usage: arbiter export --revision R DIR"}
	}
	revs, closeDB, err := openRevisions(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	r, err := revs.Resolve(ctx, *ref)
	if err != nil {
		return err
	}
	t, err := revs.Tree(ctx, r.Seq)
	if err != nil {
		return err
	}
	for _, p := range t.Paths() {
		file := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(file, t[p], 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "wrote %s (%d files) to %s\n", r.Name(), len(t), dir)
	return nil
}

func cmdRevisions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("revisions", stderr)
	limit := fs.Int("n", 20, "show the latest N revisions (0: all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	revs, closeDB, err := openRevisions(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	list, err := revs.List(ctx, *limit)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "no published revision: replicas serve their compiled-in or ARBITER_POLICY_DIR tree")
		return nil
	}
	for _, r := range list {
		extra := ""
		if r.RestoredFrom != 0 {
			extra = fmt.Sprintf(" (restores r%d)", r.RestoredFrom)
		}
		fmt.Fprintf(stdout, "%-5s %s  %s  %-12s +%d ~%d -%d  %s%s\n", r.Name(), r.CreatedAt.UTC().Format(time.RFC3339), short(r.Tree), r.Author,
			len(r.Diff.Added), len(r.Diff.Changed), len(r.Diff.Removed), r.Message, extra)
	}
	return nil
}

func cmdNewVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	target, args := positional(args)
	fs := newFlags("new-version", stderr)
	dir := fs.String("dir", ".", "policy tree folder")
	from := fs.String("valid-from", "", "RFC 3339 start of the new version's window (required)")
	version := fs.String("version", "", "new version name (default for a rule table: the year of --valid-from in Beijing time)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if target == "" || *from == "" {
		return usageError{"usage: arbiter new-version rules/<domain>/<table> --valid-from T [--version V]"}
	}
	t0, err := time.Parse(time.RFC3339, *from)
	if err != nil {
		return usageError{fmt.Sprintf("--valid-from %q is not RFC 3339", *from)}
	}
	v := *version
	if v == "" {
		if !strings.HasPrefix(target, "rules/") {
			return usageError{"--version is required for a policy version"}
		}
		v = t0.In(time.FixedZone("CST", 8*3600)).Format("2006")
	}
	t, err := revision.Snapshot(os.DirFS(*dir))
	if err != nil {
		return err
	}
	written, err := revision.NewVersion(t, target, v, t0)
	if err != nil {
		return err
	}
	for _, p := range written {
		file := filepath.Join(*dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(file, t[p], 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	if _, err := engine.Load(ctx, t.FS()); err != nil {
		var le *engine.LoadError
		if errors.As(err, &le) {
			fmt.Fprintf(stdout, "the tree now has %d problem(s); edit the new version, then run arbiter check\n", len(le.Problems))
			return err
		}
	}
	return nil
}
