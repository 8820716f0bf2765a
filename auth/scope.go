// Package auth identifies who calls arbiter and what each caller may ask.
//
// A caller presents an API key (Authorization: Bearer arb_<id>_<secret>, or as the password of HTTP
// Basic authentication) or, when configured, a JWT signed by a key of a JWKS. Keys are kept only as
// SHA-256 digests, in PostgreSQL or, for the embedded default, in a keys file. Every caller carries
// scopes: decision patterns (coupon.*, refund.path, *) and the flags commit, log:read, explain,
// personal, admin and publish.
package auth

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Scope flags: what a caller may do beyond asking for the decisions its patterns match.
const (
	ScopeCommit   = "commit"   // run commit decisions for real (a dry run needs only the decision pattern)
	ScopeLogRead  = "log:read" // read logged decisions back (GET /v1/decisions/{id})
	ScopeExplain  = "explain"  // ask for explain: the facts and rule tables a decision saw
	ScopePersonal = "personal" // see fields the fact catalog marks personal unmasked
	ScopeAdmin    = "admin"    // reload the policy set
	ScopeDraft    = "draft"    // create and edit drafts of the policy tree
	ScopePublish  = "publish"  // publish a draft or roll back to an earlier revision
)

var flags = []string{ScopeCommit, ScopeLogRead, ScopeExplain, ScopePersonal, ScopeAdmin, ScopeDraft, ScopePublish}

// decisionPattern is "*", "<domain>.*" or a decision id such as "refund.path".
var decisionPattern = regexp.MustCompile(`^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*\.(\*|[a-z0-9_]+))$`)

// Scopes is a caller's parsed scopes.
type Scopes struct {
	patterns []string
	flags    map[string]bool
}

// ParseScopes parses scope strings; anything neither a flag nor a decision pattern is an error.
func ParseScopes(list []string) (Scopes, error) {
	s := Scopes{flags: map[string]bool{}}
	var bad []string
	for _, raw := range list {
		sc := strings.TrimSpace(raw)
		switch {
		case sc == "":
		case slices.Contains(flags, sc):
			s.flags[sc] = true
		case decisionPattern.MatchString(sc):
			s.patterns = append(s.patterns, sc)
		default:
			bad = append(bad, fmt.Sprintf("%q", sc))
		}
	}
	if len(bad) > 0 {
		return Scopes{}, fmt.Errorf("unknown scope %s: scopes are decision patterns (coupon.*, refund.path, *) or one of %s",
			strings.Join(bad, ", "), strings.Join(flags, ", "))
	}
	return s, nil
}

// lenientScopes keeps the scopes it understands, as a token issuer may add its own (openid, profile).
func lenientScopes(list []string) Scopes {
	s := Scopes{flags: map[string]bool{}}
	for _, sc := range list {
		if one, err := ParseScopes([]string{sc}); err == nil {
			s.patterns = append(s.patterns, one.patterns...)
			for f := range one.flags {
				s.flags[f] = true
			}
		}
	}
	return s
}

// SplitScopes splits a comma- or space-separated scope list.
func SplitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// Allows reports whether the scopes' decision patterns match decision.
func (s Scopes) Allows(decision string) bool {
	for _, p := range s.patterns {
		if p == "*" || p == decision || (strings.HasSuffix(p, ".*") && strings.HasPrefix(decision, p[:len(p)-1])) {
			return true
		}
	}
	return false
}

// Has reports whether the scopes include flag.
func (s Scopes) Has(flag string) bool { return s.flags[flag] }

// List returns the scopes as strings: patterns first, then flags in a fixed order.
func (s Scopes) List() []string {
	out := slices.Clone(s.patterns)
	for _, f := range flags {
		if s.flags[f] {
			out = append(out, f)
		}
	}
	return out
}

// Caller is who asks, as authenticated.
type Caller struct {
	// ID is recorded with every decision and commit: "key:<id>", "jwt:<subject>", "admin-token" or "anonymous".
	ID     string
	Name   string
	Scopes Scopes
}

// MayDecide reports whether the caller may ask for decision.
func (c *Caller) MayDecide(decision string) bool { return c != nil && c.Scopes.Allows(decision) }

// Has reports whether the caller holds a scope flag.
func (c *Caller) Has(flag string) bool { return c != nil && c.Scopes.Has(flag) }

// Anonymous is the caller of a server open to loopback clients: every scope except admin and publish.
func Anonymous() *Caller {
	s, _ := ParseScopes([]string{"*", ScopeCommit, ScopeLogRead, ScopeExplain, ScopePersonal})
	return &Caller{ID: "anonymous", Name: "anonymous (open server)", Scopes: s}
}
