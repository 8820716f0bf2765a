package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// JWTConfig configures JWT callers; Issuer and Audience are required.
type JWTConfig struct {
	JWKS       string // a JWKS file, or an http(s) URL fetched and refreshed in the background
	Issuer     string
	Audience   string
	ScopeClaim string // default "scope": a space-separated string or a list of strings
}

// JWTVerifier checks JWTs' signatures against the JWKS, and their issuer, audience and validity
// window (one minute of clock skew), with github.com/lestrrat-go/jwx.
type JWTVerifier struct {
	cfg    JWTConfig
	set    jwk.Set
	cancel context.CancelFunc
}

// NewJWTVerifier reads the JWKS (a URL is fetched once now, then refreshed by a cache).
func NewJWTVerifier(ctx context.Context, cfg JWTConfig) (*JWTVerifier, error) {
	if cfg.JWKS == "" || cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("auth: JWTs need a JWKS, an issuer and an audience")
	}
	if cfg.ScopeClaim == "" {
		cfg.ScopeClaim = "scope"
	}
	v := &JWTVerifier{cfg: cfg, cancel: func() {}}
	if strings.HasPrefix(cfg.JWKS, "https://") || strings.HasPrefix(cfg.JWKS, "http://") {
		cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		cache, err := jwk.NewCache(cctx, httprc.NewClient())
		if err != nil {
			cancel()
			return nil, fmt.Errorf("auth: jwks cache: %w", err)
		}
		fetch, fcancel := context.WithTimeout(ctx, 30*time.Second)
		defer fcancel()
		if err := cache.Register(fetch, cfg.JWKS); err != nil {
			cancel()
			return nil, fmt.Errorf("auth: jwks %s: %w", cfg.JWKS, err)
		}
		set, err := cache.CachedSet(cfg.JWKS)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("auth: jwks %s: %w", cfg.JWKS, err)
		}
		v.set, v.cancel = set, cancel
		return v, nil
	}
	set, err := jwk.ReadFile(cfg.JWKS)
	if err != nil {
		return nil, fmt.Errorf("auth: jwks file %s: %w", cfg.JWKS, err)
	}
	// Only public keys verify: a symmetric key in a published set would let anyone sign.
	if v.set, err = jwk.PublicSetOf(set); err != nil {
		return nil, fmt.Errorf("auth: jwks file %s: %w", cfg.JWKS, err)
	}
	return v, nil
}

// Close stops refreshing a fetched JWKS.
func (v *JWTVerifier) Close() { v.cancel() }

// Verify checks token and returns its caller: "jwt:<subject>" with the scopes of the scope claim.
func (v *JWTVerifier) Verify(token string) (*Caller, error) {
	tok, err := jwt.ParseString(token,
		jwt.WithKeySet(v.set),
		jwt.WithValidate(true),
		jwt.WithIssuer(v.cfg.Issuer),
		jwt.WithAudience(v.cfg.Audience),
		jwt.WithAcceptableSkew(time.Minute),
		jwt.WithRequiredClaim("exp"),
	)
	if err != nil {
		return nil, fmt.Errorf("the token is not valid: %w", err)
	}
	sub, ok := tok.Subject()
	if !ok || sub == "" {
		return nil, errors.New("the token has no subject")
	}
	var raw any
	var list []string
	if err := tok.Get(v.cfg.ScopeClaim, &raw); err == nil {
		switch s := raw.(type) {
		case string:
			list = strings.Fields(s)
		case []any:
			for _, e := range s {
				if str, ok := e.(string); ok {
					list = append(list, str)
				}
			}
		case []string:
			list = s
		}
	}
	return &Caller{ID: "jwt:" + sub, Name: sub, Scopes: lenientScopes(list)}, nil
}
