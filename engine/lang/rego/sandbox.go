package rego

import (
	"regexp"
	"slices"
	"sort"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

// forbidden are builtins a policy may not call: they reach the network, the process's environment,
// randomness or the wall clock, so an answer could not be replayed from its input and facts.
// Every builtin OPA marks nondeterministic is forbidden too.
var forbidden = []string{
	"http.send", "net.lookup_ip_addr", "net.cidr_expand",
	"opa.runtime", "trace", "print",
	"rand.intn", "uuid.rfc4122", "uuid.parse",
	"time.now_ns",
	"crypto.x509.parse_and_verify_certificates", "crypto.x509.parse_and_verify_certificates_with_options",
	"io.jwt.decode_verify",
	"providers.aws.sign_req",
}

// Capabilities is what a shipped policy may use: OPA's builtins less the forbidden ones, no network
// host; the engine's own builtins (dec.*) are added by the compiler when they are registered.
func Capabilities() *ast.Capabilities {
	c := ast.CapabilitiesForThisVersion()
	c.Builtins = slices.DeleteFunc(c.Builtins, func(b *ast.Builtin) bool {
		return b.Nondeterministic || slices.Contains(forbidden, b.Name)
	})
	c.AllowNet = []string{}
	return c
}

// undefinedFunction matches the compiler's message for a call the capabilities do not allow.
var undefinedFunction = regexp.MustCompile(`undefined function ([a-z0-9_.]+)`)

// forbiddenCall names the builtin an error message is about, when it is one the sandbox forbids.
func forbiddenCall(msg string) (string, bool) {
	m := undefinedFunction.FindStringSubmatch(msg)
	if m == nil {
		return "", false
	}
	if slices.Contains(forbidden, m[1]) {
		return m[1], true
	}
	for _, b := range ast.Builtins {
		if b.Name == m[1] && b.Nondeterministic {
			return m[1], true
		}
	}
	return "", false
}

var (
	declaredMu sync.Mutex
	declared   = map[string]*ast.Builtin{}
)

// declare records the declaration of one of the engine's builtins for ShippedCapabilities.
func declare(b *ast.Builtin) {
	declaredMu.Lock()
	defer declaredMu.Unlock()
	declared[b.Name] = b
}

// ShippedCapabilities is the capabilities document shipped beside the policies, so that
// `opa check --capabilities`, linters and editors know exactly what a policy may call: the sandbox's
// builtins and the engine's own (dec.* and the calendar functions).
func ShippedCapabilities() *ast.Capabilities {
	_ = Options() // declares every engine builtin
	c := Capabilities()
	declaredMu.Lock()
	defer declaredMu.Unlock()
	for _, b := range declared {
		c.Builtins = append(c.Builtins, b)
	}
	sort.Slice(c.Builtins, func(i, j int) bool { return c.Builtins[i].Name < c.Builtins[j].Name })
	return c
}
