package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Key is a stored API key: its digest and scopes, never the key itself.
type Key struct {
	ID        string     `json:"id" yaml:"id"`
	Name      string     `json:"name" yaml:"name"`
	SHA256    string     `json:"sha256" yaml:"sha256"`
	Scopes    []string   `json:"scopes" yaml:"scopes"`
	CreatedAt time.Time  `json:"created_at" yaml:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty" yaml:"revoked_at,omitempty"`
}

// KeyStore finds a key by id.
type KeyStore interface {
	// Lookup returns the key with id; ErrUnknownKey when there is none, ErrUnavailable when the
	// store cannot be read.
	Lookup(ctx context.Context, id string) (Key, error)
}

var (
	// ErrUnknownKey means no key has that id.
	ErrUnknownKey = errors.New("auth: unknown key")
	// ErrUnavailable means the key store could not be read; the request may succeed later.
	ErrUnavailable = errors.New("auth: key store unavailable")
)

// presentedKey is arb_<16 hex id>_<43 base64url secret>: 256 random bits behind a public id.
var presentedKey = regexp.MustCompile(`^arb_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$`)

// NewKey returns a fresh key (to show once) and its stored form with the given name and scopes.
func NewKey(name string, scopes []string, now time.Time) (secret string, k Key, err error) {
	if _, err := ParseScopes(scopes); err != nil {
		return "", Key{}, err
	}
	if len(scopes) == 0 {
		return "", Key{}, errors.New("a key needs at least one scope")
	}
	var id [8]byte
	var sec [32]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", Key{}, fmt.Errorf("auth: random: %w", err)
	}
	if _, err := rand.Read(sec[:]); err != nil {
		return "", Key{}, fmt.Errorf("auth: random: %w", err)
	}
	secret = "arb_" + hex.EncodeToString(id[:]) + "_" + base64.RawURLEncoding.EncodeToString(sec[:])
	return secret, Key{ID: hex.EncodeToString(id[:]), Name: name, SHA256: Digest(secret), Scopes: scopes, CreatedAt: now.UTC()}, nil
}

// Digest is the stored form of a presented key: hex SHA-256 (the key holds 256 random bits, so a
// slow hash would add nothing).
func Digest(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// keyID returns the id part of a well-formed presented key.
func keyID(presented string) (string, bool) {
	m := presentedKey.FindStringSubmatch(presented)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// matches reports whether presented is this key, in constant time.
func (k Key) matches(presented string) bool {
	want, err := hex.DecodeString(k.SHA256)
	if err != nil {
		return false
	}
	got := sha256.Sum256([]byte(presented))
	return subtle.ConstantTimeCompare(got[:], want) == 1
}
