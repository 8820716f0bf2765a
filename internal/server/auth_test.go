package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"arbiter/auth"
	"arbiter/internal/server"
)

func TestAuthConfiguration(t *testing.T) {
	tests := []struct {
		name string
		cfg  server.Config
		err  string
		warn bool // the start log says the service is open
	}{
		{name: "embedded default is open and says so", cfg: server.Config{}, warn: true},
		{name: "open with a database is refused", cfg: server.Config{DatabaseURL: "postgres://nobody@127.0.0.1:1/x", Auth: "open"}, err: "always authenticates"},
		{name: "open with a keys file is refused", cfg: server.Config{KeysFile: "keys.yaml", Auth: "open"}, err: "always authenticates"},
		{name: "required without any credential source is refused", cfg: server.Config{Auth: "required"}, err: "no credentials can be accepted"},
		{name: "required with an admin token only", cfg: server.Config{Auth: "required", AdminToken: "t"}},
		{name: "unknown mode", cfg: server.Config{Auth: "maybe"}, err: "use required or open"},
		{name: "JWT without issuer", cfg: server.Config{JWT: auth.JWTConfig{JWKS: "jwks.json"}}, err: "issuer and an audience"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			tt.cfg.EvalTimeout, tt.cfg.MaxBodyBytes, tt.cfg.LogQueue = time.Second, 1<<20, 10
			svc, err := server.Build(context.Background(), tt.cfg, slog.New(slog.NewTextHandler(&logs, nil)))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			svc.Close()
			if open := strings.Contains(logs.String(), "AUTHENTICATION IS OFF"); open != tt.warn {
				t.Fatalf("open warning %v, want %v:\n%s", open, tt.warn, logs.String())
			}
		})
	}
}

func TestKeysFileServiceRequiresAKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.yaml")
	secret, k, err := auth.NewKey("local", []string{"*", "commit"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.WriteKeysFile(path, []auth.Key{k}); err != nil {
		t.Fatal(err)
	}
	svc, err := server.Build(context.Background(), server.Config{KeysFile: path, EvalTimeout: time.Second, MaxBodyBytes: 1 << 20},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	hs := httptest.NewServer(svc.Handler)
	defer hs.Close()
	for _, tt := range []struct {
		name, key string
		status    int
	}{
		{"no key, even from loopback", "", http.StatusUnauthorized},
		{"the file's key", secret, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, hs.URL+"/v1/policies", nil)
			if tt.key != "" {
				req.Header.Set("Authorization", "Bearer "+tt.key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
}
