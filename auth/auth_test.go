package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"arbiter/auth"
)

func TestScopes(t *testing.T) {
	tests := []struct {
		name     string
		scopes   []string
		decision string
		allowed  bool
		flag     string
		has      bool
		err      string
	}{
		{name: "domain pattern matches its decisions", scopes: []string{"coupon.*"}, decision: "coupon.redeem", allowed: true},
		{name: "domain pattern does not match another domain", scopes: []string{"coupon.*"}, decision: "refund.path", allowed: false},
		{name: "domain pattern does not match a longer domain", scopes: []string{"fh.*"}, decision: "fhx.grant", allowed: false},
		{name: "exact decision", scopes: []string{"refund.path"}, decision: "refund.path", allowed: true},
		{name: "exact decision is not a prefix", scopes: []string{"refund.path"}, decision: "refund.path2", allowed: false},
		{name: "star matches every decision", scopes: []string{"*"}, decision: "fh.application", allowed: true},
		{name: "no pattern no decision", scopes: []string{"commit"}, decision: "coupon.redeem", allowed: false},
		{name: "flag held", scopes: []string{"coupon.*", "commit", "log:read"}, flag: "log:read", has: true},
		{name: "flag not held", scopes: []string{"coupon.*", "commit"}, flag: "explain", has: false},
		{name: "unknown word", scopes: []string{"coupon.*", "superuser"}, err: `unknown scope "superuser"`},
		{name: "bare domain is not a pattern", scopes: []string{"coupon"}, err: `unknown scope "coupon"`},
		{name: "wildcard inside is not a pattern", scopes: []string{"*.redeem"}, err: `unknown scope "*.redeem"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := auth.ParseScopes(tt.scopes)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.decision != "" && s.Allows(tt.decision) != tt.allowed {
				t.Fatalf("Allows(%s) = %v, want %v", tt.decision, !tt.allowed, tt.allowed)
			}
			if tt.flag != "" && s.Has(tt.flag) != tt.has {
				t.Fatalf("Has(%s) = %v, want %v", tt.flag, !tt.has, tt.has)
			}
		})
	}
}

// memKeys is a KeyStore over a map, failing when err is set.
type memKeys struct {
	keys map[string]auth.Key
	err  error
}

func (m *memKeys) Lookup(_ context.Context, id string) (auth.Key, error) {
	if m.err != nil {
		return auth.Key{}, m.err
	}
	k, ok := m.keys[id]
	if !ok {
		return auth.Key{}, auth.ErrUnknownKey
	}
	return k, nil
}

func request(remote string, header ...string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://arbiter/v1/policies", nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return r
}

func TestAuthenticate(t *testing.T) {
	secret, key, err := auth.NewKey("checkout", []string{"coupon.*", "commit"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	revokedSecret, revoked, _ := auth.NewKey("old", []string{"*"}, time.Now())
	now := time.Now()
	revoked.RevokedAt = &now
	if strings.Contains(key.SHA256, secret) || key.SHA256 != auth.Digest(secret) {
		t.Fatal("the stored form must be the digest, never the key")
	}
	store := &memKeys{keys: map[string]auth.Key{key.ID: key, revoked.ID: revoked}}
	forged := secret[:len(secret)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(secret, "A")]
	required := &auth.Authenticator{Required: true, Keys: store, AdminToken: "s3cret"}
	open := &auth.Authenticator{}
	tests := []struct {
		name   string
		a      *auth.Authenticator
		r      *http.Request
		caller string
		err    error
	}{
		{"no credentials on a required server", required, request("127.0.0.1:9"), "", auth.ErrUnauthenticated},
		{"bearer key", required, request("10.0.0.1:9", "Authorization", "Bearer "+secret), "key:" + key.ID, nil},
		{"key as the Basic password", required, request("10.0.0.1:9", "Authorization", basic("anyone", secret)), "key:" + key.ID, nil},
		{"right id, wrong secret", required, request("10.0.0.1:9", "Authorization", "Bearer "+forged), "", auth.ErrUnauthenticated},
		{"revoked key", required, request("10.0.0.1:9", "Authorization", "Bearer "+revokedSecret), "", auth.ErrUnauthenticated},
		{"unknown key", required, request("10.0.0.1:9", "Authorization", "Bearer arb_0123456789abcdef_"+strings.Repeat("x", 43)), "", auth.ErrUnauthenticated},
		{"garbage", required, request("10.0.0.1:9", "Authorization", "Bearer hello"), "", auth.ErrUnauthenticated},
		{"other scheme", required, request("10.0.0.1:9", "Authorization", "Digest x"), "", auth.ErrUnauthenticated},
		{"admin token", required, request("10.0.0.1:9", "Authorization", "Bearer s3cret"), "admin-token", nil},
		{"open server, loopback client", open, request("127.0.0.1:9"), "anonymous", nil},
		{"open server, IPv6 loopback client", open, request("[::1]:9"), "anonymous", nil},
		{"open server, remote client", open, request("192.0.2.7:9"), "", auth.ErrUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.a.Authenticate(context.Background(), tt.r)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.ID != tt.caller {
				t.Fatalf("caller %s, want %s", c.ID, tt.caller)
			}
		})
	}
	t.Run("key store down is not a 401", func(t *testing.T) {
		down := &auth.Authenticator{Required: true, Keys: &memKeys{err: errors.New("connection refused")}}
		_, err := down.Authenticate(context.Background(), request("10.0.0.1:9", "Authorization", "Bearer "+secret))
		if !errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrUnauthenticated) {
			t.Fatalf("error %v, want ErrUnavailable", err)
		}
	})
	t.Run("scopes come from the key", func(t *testing.T) {
		c, err := required.Authenticate(context.Background(), request("10.0.0.1:9", "Authorization", "Bearer "+secret))
		if err != nil {
			t.Fatal(err)
		}
		if !c.MayDecide("coupon.redeem") || c.MayDecide("fh.application") || !c.Has(auth.ScopeCommit) || c.Has(auth.ScopeLogRead) {
			t.Fatalf("caller %+v has the wrong scopes", c.Scopes.List())
		}
	})
}

func basic(user, pw string) string {
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(user, pw)
	return r.Header.Get("Authorization")
}

func TestFileKeysSeeRevocationAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.yaml")
	secret, k, err := auth.NewKey("desk", []string{"refund.*"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.WriteKeysFile(path, []auth.Key{k}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), secret) {
		t.Fatal("the keys file holds the key itself")
	}
	keys, err := auth.NewFileKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	a := &auth.Authenticator{Required: true, Keys: keys}
	r := request("10.0.0.1:9", "Authorization", "Bearer "+secret)
	if c, err := a.Authenticate(context.Background(), r); err != nil || c.ID != "key:"+k.ID {
		t.Fatalf("fresh key: %v, %v", c, err)
	}
	now := time.Now()
	k.RevokedAt = &now
	if err := auth.WriteKeysFile(path, []auth.Key{k}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(context.Background(), r); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("revoked key: error %v, want unauthenticated", err)
	}
}

func TestReadKeysFileRejects(t *testing.T) {
	good := `{"id":"0123456789abcdef","name":"x","sha256":"` + strings.Repeat("a", 64) + `","scopes":["*"]}`
	tests := []struct {
		name, body, err string
	}{
		{"JSON is read", `{"keys":[` + good + `]}`, ""},
		{"unknown field", "keys:\n  - id: 0123456789abcdef\n    secret: hunter2\n", "secret"},
		{"short id", `{"keys":[{"id":"01","name":"x","sha256":"` + strings.Repeat("a", 64) + `","scopes":["*"]}]}`, "16 lower-case hex"},
		{"bad digest", `{"keys":[{"id":"0123456789abcdef","name":"x","sha256":"abc","scopes":["*"]}]}`, "sha256"},
		{"bad scope", `{"keys":[{"id":"0123456789abcdef","name":"x","sha256":"` + strings.Repeat("a", 64) + `","scopes":["root"]}]}`, "unknown scope"},
		{"duplicate id", `{"keys":[` + good + `,` + good + `]}`, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.yaml")
			if err := os.WriteFile(path, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := auth.ReadKeysFile(path)
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
		})
	}
}

// jwtFixture writes a JWKS file with one EC public key and signs tokens with its private key.
type jwtFixture struct {
	path string
	key  jwk.Key
}

func newJWTFixture(t *testing.T) jwtFixture {
	t.Helper()
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	_ = priv.Set(jwk.KeyIDKey, "k1")
	_ = priv.Set(jwk.AlgorithmKey, jwa.ES256())
	pub, err := priv.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	set := jwk.NewSet()
	if err := set.AddKey(pub); err != nil {
		t.Fatal(err)
	}
	doc, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	return jwtFixture{path: path, key: priv}
}

func (f jwtFixture) sign(t *testing.T, b *jwt.Builder) string {
	t.Helper()
	tok, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), f.key))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

func TestJWTCallers(t *testing.T) {
	f := newJWTFixture(t)
	other := newJWTFixture(t)
	v, err := auth.NewJWTVerifier(context.Background(), auth.JWTConfig{JWKS: f.path, Issuer: "https://idp.example", Audience: "arbiter"})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	a := &auth.Authenticator{Required: true, JWT: v}
	valid := func() *jwt.Builder {
		return jwt.NewBuilder().Issuer("https://idp.example").Audience([]string{"arbiter"}).Subject("refund-desk").
			Expiration(time.Now().Add(time.Hour)).Claim("scope", "openid refund.* log:read")
	}
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"valid", f.sign(t, valid()), true},
		{"wrong issuer", f.sign(t, valid().Issuer("https://evil.example")), false},
		{"wrong audience", f.sign(t, valid().Audience([]string{"someone-else"})), false},
		{"expired", f.sign(t, valid().Expiration(time.Now().Add(-time.Hour))), false},
		{"signed by another key", other.sign(t, valid()), false},
		{"no expiry", f.sign(t, jwt.NewBuilder().Issuer("https://idp.example").Audience([]string{"arbiter"}).Subject("x")), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := a.Authenticate(context.Background(), request("10.0.0.1:9", "Authorization", "Bearer "+tt.token))
			if !tt.ok {
				if !errors.Is(err, auth.ErrUnauthenticated) {
					t.Fatalf("error %v, want unauthenticated", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.ID != "jwt:refund-desk" || !c.MayDecide("refund.path") || c.MayDecide("coupon.redeem") || !c.Has(auth.ScopeLogRead) || c.Has(auth.ScopeCommit) {
				t.Fatalf("caller %s with scopes %v", c.ID, c.Scopes.List())
			}
		})
	}
}

func TestJWTVerifierFetchesAJWKSURL(t *testing.T) {
	f := newJWTFixture(t)
	doc, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	}))
	defer hs.Close()
	v, err := auth.NewJWTVerifier(context.Background(), auth.JWTConfig{JWKS: hs.URL + "/jwks.json", Issuer: "iss", Audience: "aud", ScopeClaim: "scp"})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	token := f.sign(t, jwt.NewBuilder().Issuer("iss").Audience([]string{"aud"}).Subject("svc").
		Expiration(time.Now().Add(time.Minute)).Claim("scp", []string{"coupon.*", "commit"}))
	c, err := v.Verify(token)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "jwt:svc" || !c.MayDecide("coupon.redeem") || !c.Has(auth.ScopeCommit) {
		t.Fatalf("caller %s with scopes %v", c.ID, c.Scopes.List())
	}
}
