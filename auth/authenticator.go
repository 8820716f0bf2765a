package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// Authenticator finds the caller of a request.
type Authenticator struct {
	// Required refuses requests without valid credentials; when false the server is open to
	// loopback clients, each the Anonymous caller, and refuses every other client.
	Required bool
	// Keys holds API keys; nil accepts none.
	Keys KeyStore
	// JWT verifies bearer JWTs; nil accepts none.
	JWT *JWTVerifier
	// AdminToken is a shared secret accepted as a caller with the admin scope only ("admin-token").
	AdminToken string
}

// ErrUnauthenticated wraps every reason a request has no acceptable credentials (answer 401).
var ErrUnauthenticated = errors.New("unauthenticated")

func unauthenticated(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnauthenticated, fmt.Sprintf(format, args...))
}

// Authenticate returns the request's caller. Errors wrap ErrUnauthenticated (401) or ErrUnavailable
// (the key store could not be read: 503).
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request) (*Caller, error) {
	token, present, err := credentials(r)
	if err != nil {
		return nil, err
	}
	if !a.Required && (!present || (a.Keys == nil && a.JWT == nil && a.AdminToken == "")) {
		// An open server has nothing to check a credential against: a loopback client is the
		// anonymous caller whatever it sends (a console with a key pasted keeps working).
		if isLoopback(r.RemoteAddr) {
			return Anonymous(), nil
		}
		return nil, unauthenticated("this server runs without authentication and answers loopback clients only")
	}
	if !present {
		return nil, unauthenticated("send Authorization: Bearer <API key or JWT>")
	}
	if a.AdminToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(a.AdminToken)) == 1 {
		s, _ := ParseScopes([]string{ScopeAdmin})
		return &Caller{ID: "admin-token", Name: "admin token", Scopes: s}, nil
	}
	if id, ok := keyID(token); ok && a.Keys != nil {
		k, err := a.Keys.Lookup(ctx, id)
		switch {
		case errors.Is(err, ErrUnknownKey):
			return nil, unauthenticated("unknown API key")
		case err != nil:
			if errors.Is(err, ErrUnavailable) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
		case !k.matches(token):
			return nil, unauthenticated("unknown API key")
		case k.RevokedAt != nil:
			return nil, unauthenticated("the API key was revoked")
		}
		s, err := ParseScopes(k.Scopes)
		if err != nil {
			return nil, unauthenticated("the API key's scopes are not valid")
		}
		return &Caller{ID: "key:" + k.ID, Name: k.Name, Scopes: s}, nil
	}
	if a.JWT != nil && strings.Count(token, ".") == 2 {
		c, err := a.JWT.Verify(token)
		if err != nil {
			return nil, unauthenticated("%v", err)
		}
		return c, nil
	}
	if !a.Required && a.Keys == nil && a.JWT == nil && a.AdminToken == "" {
		return nil, unauthenticated("this server accepts no credentials")
	}
	return nil, unauthenticated("the credentials are not an API key or token this server accepts")
}

// credentials reads a bearer token, or the password of Basic authentication (so a key can ride in
// a URL's user information).
func credentials(r *http.Request) (token string, present bool, err error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false, nil
	}
	scheme, rest, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "bearer":
		token = strings.TrimSpace(rest)
	case "basic":
		_, pw, ok := r.BasicAuth()
		if !ok {
			return "", true, unauthenticated("malformed Basic credentials")
		}
		token = pw
	default:
		return "", true, unauthenticated("unsupported authorization scheme %q: use Bearer", scheme)
	}
	if token == "" {
		return "", true, unauthenticated("empty credentials")
	}
	return token, true, nil
}

func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller ctx carries, or nil.
func CallerFrom(ctx context.Context) *Caller {
	c, _ := ctx.Value(callerKey{}).(*Caller)
	return c
}
