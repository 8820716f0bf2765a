package main

import (
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"arbiter/auth"
	"arbiter/internal/testing/pgtest"
)

var createdKey = regexp.MustCompile(`(?m)^(arb_([0-9a-f]{16})_\S+)$`)

// keysLifecycle creates, lists and revokes a key with the CLI and returns the key and whether the
// store accepted it before and after the revocation.
func keysLifecycle(t *testing.T, store auth.KeyStore, extra ...string) {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"keys", "create", "--name", "refund-desk", "--scopes", "refund.*,commit"}, extra...)...)
	if code != 0 {
		t.Fatalf("create: exit %d: %s %s", code, out, errOut)
	}
	m := createdKey.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("create printed no key: %s", out)
	}
	key, id := m[1], m[2]
	code, out, errOut = runCLI(t, append([]string{"keys", "list"}, extra...)...)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "refund.*,commit") || strings.Contains(out, key) {
		t.Fatalf("list: exit %d: %s %s", code, out, errOut)
	}
	a := &auth.Authenticator{Required: true, Keys: store}
	req, _ := http.NewRequest(http.MethodGet, "/v1/policies", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if c, err := a.Authenticate(context.Background(), req); err != nil || c.ID != "key:"+id {
		t.Fatalf("a created key is not accepted: %v", err)
	}
	if code, out, errOut = runCLI(t, append([]string{"keys", "revoke", id}, extra...)...); code != 0 {
		t.Fatalf("revoke: exit %d: %s %s", code, out, errOut)
	}
	if _, err := a.Authenticate(context.Background(), req); err == nil {
		t.Fatal("a revoked key is still accepted")
	}
	if code, _, errOut = runCLI(t, append([]string{"keys", "revoke", "0000000000000000"}, extra...)...); code != 1 || !strings.Contains(errOut, "no key") {
		t.Fatalf("revoking an unknown key: exit %d: %s", code, errOut)
	}
}

func TestKeysInAFile(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	path := filepath.Join(t.TempDir(), "keys.yaml")
	keysLifecycle(t, fileStore(t, path), "--file", path)
}

// fileStore reads path lazily: the CLI creates it.
type lazyFile struct {
	t    *testing.T
	path string
}

func fileStore(t *testing.T, path string) auth.KeyStore { return lazyFile{t, path} }

func (f lazyFile) Lookup(ctx context.Context, id string) (auth.Key, error) {
	keys, err := auth.NewFileKeys(f.path)
	if err != nil {
		return auth.Key{}, err
	}
	return keys.Lookup(ctx, id)
}

func TestKeysInPostgres(t *testing.T) {
	url := pgtest.New(t)
	t.Setenv("DATABASE_URL", url)
	t.Setenv("ARBITER_KEYS_FILE", "")
	pool := pgPool(t, url)
	keysLifecycle(t, auth.NewPostgresKeys(pool))
}

func TestKeysUsage(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	t.Setenv("ARBITER_KEYS_FILE", "")
	file := filepath.Join(t.TempDir(), "k.yaml")
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no subcommand", []string{"keys"}, 2, "create, list or revoke"},
		{"no store", []string{"keys", "list"}, 2, "DATABASE_URL"},
		{"unknown scope", []string{"keys", "create", "--file", file, "--name", "x", "--scopes", "coupon.*,root"}, 2, `unknown scope "root"`},
		{"no scopes", []string{"keys", "create", "--file", file, "--name", "x"}, 2, "--scopes are required"},
		{"revoke without id", []string{"keys", "revoke", "--file", file}, 2, "usage: arbiter keys revoke ID"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Fatalf("exit %d (want %d): %q %q", code, tt.code, out, errOut)
			}
		})
	}
}

func pgPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
