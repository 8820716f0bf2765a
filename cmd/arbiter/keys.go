package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"arbiter/auth"
	"arbiter/store"
)

const keysUsage = `usage:
  arbiter keys create --name NAME --scopes 'coupon.*,commit' [--file FILE]
  arbiter keys list [--file FILE]
  arbiter keys revoke ID [--file FILE]

Keys live in DATABASE_URL's database, or in a keys file (--file, else ARBITER_KEYS_FILE) for the
service without a database. A key is shown once, when it is created; only its SHA-256 is kept.
Scopes: decision patterns (coupon.*, refund.path, *) and commit, log:read, explain, personal, admin, publish.`

// keyBackend is where keys are kept: PostgreSQL or a keys file.
type keyBackend interface {
	create(ctx context.Context, name string, scopes []string) (string, auth.Key, error)
	list(ctx context.Context) ([]auth.Key, error)
	revoke(ctx context.Context, id string) error
	close()
}

func cmdKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, keysUsage)
		return usageError{"a subcommand is required: create, list or revoke"}
	}
	sub := args[0]
	fs := newFlags("keys "+sub, stderr)
	file := fs.String("file", os.Getenv("ARBITER_KEYS_FILE"), "keys file (YAML) instead of DATABASE_URL")
	var name, scopes *string
	if sub == "create" {
		name = fs.String("name", "", "who the key is for, such as checkout or refund-desk")
		scopes = fs.String("scopes", "", "comma-separated scopes")
	}
	// Flags may come before or after revoke's ID.
	var rest []string
	flagArgs := args[1:]
	if sub == "revoke" && len(flagArgs) > 0 && !strings.HasPrefix(flagArgs[0], "-") {
		rest, flagArgs = flagArgs[:1], flagArgs[1:]
	}
	if err := parse(fs, flagArgs); err != nil {
		return err
	}
	rest = append(rest, fs.Args()...)
	b, err := openKeys(ctx, *file)
	if err != nil {
		return err
	}
	defer b.close()
	switch sub {
	case "create":
		if *name == "" || *scopes == "" {
			return usageError{"--name and --scopes are required"}
		}
		if _, err := auth.ParseScopes(auth.SplitScopes(*scopes)); err != nil {
			return usageError{err.Error()}
		}
		secret, k, err := b.create(ctx, *name, auth.SplitScopes(*scopes))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created key %s (%s) with scopes %s\n", k.ID, k.Name, strings.Join(k.Scopes, " "))
		fmt.Fprintf(stdout, "key (shown once; send it as Authorization: Bearer <key>):\n%s\n", secret)
		return nil
	case "list":
		keys, err := b.list(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, strings.Join(k.Scopes, ","), k.CreatedAt.UTC().Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if len(rest) != 1 {
			return usageError{"usage: arbiter keys revoke ID"}
		}
		if err := b.revoke(ctx, rest[0]); err != nil {
			if errors.Is(err, auth.ErrUnknownKey) {
				return fmt.Errorf("no key %s", rest[0])
			}
			return err
		}
		fmt.Fprintf(stdout, "revoked key %s\n", rest[0])
		return nil
	}
	fmt.Fprintln(stderr, keysUsage)
	return usageError{fmt.Sprintf("unknown subcommand %q", sub)}
}

func openKeys(ctx context.Context, file string) (keyBackend, error) {
	if file != "" {
		return fileKeys(file), nil
	}
	url, err := databaseURL()
	if err != nil {
		return nil, usageError{"set DATABASE_URL, or name a keys file with --file or ARBITER_KEYS_FILE"}
	}
	pool, err := store.NewPool(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	return pgKeys{auth.NewPostgresKeys(pool), pool}, nil
}

type pgKeys struct {
	*auth.PostgresKeys
	pool *pgxpool.Pool
}

func (p pgKeys) create(ctx context.Context, name string, scopes []string) (string, auth.Key, error) {
	return p.Create(ctx, name, scopes)
}
func (p pgKeys) list(ctx context.Context) ([]auth.Key, error) { return p.List(ctx) }
func (p pgKeys) revoke(ctx context.Context, id string) error  { return p.Revoke(ctx, id) }
func (p pgKeys) close()                                       { p.pool.Close() }

// fileKeys edits a keys file; concurrent edits of one file are not coordinated.
type fileKeys string

func (f fileKeys) create(_ context.Context, name string, scopes []string) (string, auth.Key, error) {
	keys, err := auth.ReadKeysFile(string(f))
	if err != nil {
		return "", auth.Key{}, err
	}
	secret, k, err := auth.NewKey(name, scopes, time.Now())
	if err != nil {
		return "", auth.Key{}, err
	}
	if err := auth.WriteKeysFile(string(f), append(keys, k)); err != nil {
		return "", auth.Key{}, err
	}
	return secret, k, nil
}

func (f fileKeys) list(context.Context) ([]auth.Key, error) { return auth.ReadKeysFile(string(f)) }

func (f fileKeys) revoke(_ context.Context, id string) error {
	keys, err := auth.ReadKeysFile(string(f))
	if err != nil {
		return err
	}
	for i := range keys {
		if keys[i].ID == id {
			if keys[i].RevokedAt == nil {
				now := time.Now().UTC()
				keys[i].RevokedAt = &now
			}
			return auth.WriteKeysFile(string(f), keys)
		}
	}
	return auth.ErrUnknownKey
}

func (f fileKeys) close() {}
