package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"arbiter/engine"
	"arbiter/impact"
	"arbiter/revision"
	"arbiter/store"
	"arbiter/store/decisionlog"
)

func cmdImpact(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("impact", stderr)
	candidate := fs.String("candidate", "", "folder holding the candidate policies/ and rules/ (default: the policy folder or embedded tree)")
	draft := fs.String("draft", "", "replay against this draft (its base revision with its changes) instead of a folder")
	revRef := fs.String("revision", "", "replay against this published revision (rN, head) instead of a folder")
	decisions := fs.String("decision", "", "only these decisions, comma-separated (default: every decision)")
	ids := fs.String("ids", "", "only these decision ids, comma-separated")
	from := fs.String("from", "", "replay decisions logged at or after this RFC 3339 instant (default: the whole log)")
	to := fs.String("to", "", "replay decisions logged before this RFC 3339 instant (default: the whole log)")
	shift := fs.String("as-of-shift", "", "evaluate each decision at its as_of shifted by this (+1y: last year's traffic as if next year)")
	workers := fs.Int("workers", 0, "replays in parallel (default: every core)")
	examples := fs.Int("examples", 20, "changed or skipped decisions to list in full")
	progress := fs.Bool("progress", false, "report progress on stderr every second")
	noDedup := fs.Bool("no-dedup", false, "evaluate every logged decision, even one identical to a decision already evaluated (the report is the same)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	sh, err := impact.ParseShift(*shift)
	if err != nil {
		return usageError{err.Error()}
	}
	filter := decisionlog.Filter{Decisions: splitList(*decisions), IDs: splitList(*ids)}
	for _, b := range []struct {
		s string
		t *time.Time
	}{{*from, &filter.From}, {*to, &filter.To}} {
		if b.s == "" {
			continue
		}
		if *b.t, err = time.Parse(time.RFC3339, b.s); err != nil {
			return usageError{fmt.Sprintf("%q is not RFC 3339", b.s)}
		}
	}
	url, err := databaseURL()
	if err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400) // a replay allocates briefly per decision; fewer collections, same bound
	}
	set, err := impactCandidate(ctx, *candidate, *draft, *revRef)
	if err != nil {
		return err
	}
	pg, err := store.OpenPostgres(ctx, url, set.Catalog())
	if err != nil {
		return err
	}
	defer pg.Close()
	expected, err := decisionlog.Count(ctx, pg.Pool(), filter)
	if err != nil {
		return err
	}
	opts := impact.Options{Shift: sh, Workers: *workers, Examples: *examples, Expected: expected, NoDedup: *noDedup}
	if *progress {
		opts.Progress = func(p impact.Progress) {
			fmt.Fprintf(stderr, "impact: %d of %d replayed, %d changed\n", p.Done, p.Expected, p.Changed)
		}
	}
	rep, err := impact.Run(ctx, set, func(ctx context.Context, fn func(decisionlog.Record) error) error {
		return decisionlog.Stream(ctx, pg.Pool(), filter, fn)
	}, opts)
	if err != nil && rep == nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if e := enc.Encode(rep); e != nil {
			return e
		}
	} else {
		fmt.Fprint(stdout, rep.Summary())
	}
	if err != nil {
		return err
	}
	if rep.Read == 0 {
		return errors.New("no logged decision matched the range and filters: nothing was replayed")
	}
	return nil
}

// policyDirDefault is the folder policyDirFlag would default to.
func policyDirDefault() *string {
	fs := newFlags("x", io.Discard)
	return policyDirFlag(fs)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// impactCandidate loads the policy set to replay against: a draft, a published revision, or a folder.
func impactCandidate(ctx context.Context, dir, draft, rev string) (*engine.PolicySet, error) {
	if draft == "" && rev == "" {
		if dir == "" {
			dir = *policyDirDefault()
		}
		set, _, err := loadSet(ctx, dir)
		return set, err
	}
	if dir != "" || (draft != "" && rev != "") {
		return nil, usageError{"give one of --candidate, --draft and --revision"}
	}
	revs, closeDB, err := openRevisions(ctx)
	if err != nil {
		return nil, err
	}
	defer closeDB()
	var tree revision.Tree
	if draft != "" {
		d, err := revs.GetDraft(ctx, draft)
		if err != nil {
			return nil, err
		}
		if tree, _, err = revs.DraftTree(ctx, d); err != nil {
			return nil, err
		}
	} else {
		r, err := revs.Resolve(ctx, rev)
		if err != nil {
			return nil, err
		}
		if tree, err = revs.Tree(ctx, r.Seq); err != nil {
			return nil, err
		}
	}
	return engine.Load(ctx, tree.FS())
}
