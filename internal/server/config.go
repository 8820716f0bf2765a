package server

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"arbiter/internal/telemetry"
)

// Config is the service's configuration; FromEnv fills it from ARBITER_* variables.
type Config struct {
	Addr         string        // listen address
	DatabaseURL  string        // empty: in-memory facts from fixtures
	PolicyDir    string        // folder holding policies/ and rules/; empty: the embedded bundle
	FixturesDir  string        // folder of fixture YAML for the in-memory store; empty: the policy tree's fixtures/
	AdminToken   string        // bearer token for /v1/admin/*; empty disables them
	EvalTimeout  time.Duration // deadline of one evaluation
	MaxBodyBytes int64
	LogQueue     int           // decision-log queue length
	Drain        time.Duration // after SIGTERM, how long /readyz fails before the listener closes
}

// Variables of the environment FromEnv reads (deploy/ is checked against this list).
var Variables = append([]string{
	"ARBITER_ADDR", "DATABASE_URL", "ARBITER_POLICY_DIR", "ARBITER_FIXTURES_DIR", "ARBITER_ADMIN_TOKEN",
	"ARBITER_EVAL_TIMEOUT", "ARBITER_DRAIN", "GOGC", "GOMEMLIMIT",
}, telemetry.Variables...)

// DefaultDrain is how long /readyz fails after SIGTERM when ARBITER_DRAIN is unset: long enough for a
// load balancer probing every few seconds to take the replica out before its listener closes.
const DefaultDrain = 5 * time.Second

// FromEnv reads the configuration from the environment, with defaults; a malformed value is an
// error naming its variable.
func FromEnv() (Config, error) {
	c := Config{
		Addr:         getenv("ARBITER_ADDR", ":8080"),
		DatabaseURL:  os.Getenv("DATABASE_URL"),
		PolicyDir:    os.Getenv("ARBITER_POLICY_DIR"),
		FixturesDir:  os.Getenv("ARBITER_FIXTURES_DIR"),
		AdminToken:   os.Getenv("ARBITER_ADMIN_TOKEN"),
		EvalTimeout:  2 * time.Second,
		MaxBodyBytes: 1 << 20,
		LogQueue:     10000,
		Drain:        DefaultDrain,
	}
	var errs []error
	if err := CheckAddr(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("ARBITER_ADDR: %w", err))
	}
	if c.DatabaseURL != "" {
		if _, err := pgx.ParseConfig(c.DatabaseURL); err != nil {
			errs = append(errs, fmt.Errorf("DATABASE_URL: %w", err))
		}
	}
	if v := os.Getenv("ARBITER_EVAL_TIMEOUT"); v != "" {
		d, err := duration(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("ARBITER_EVAL_TIMEOUT: %w", err))
		case d <= 0:
			errs = append(errs, fmt.Errorf("ARBITER_EVAL_TIMEOUT: %q is not positive", v))
		default:
			c.EvalTimeout = d
		}
	}
	if v := os.Getenv("ARBITER_DRAIN"); v != "" {
		d, err := duration(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("ARBITER_DRAIN: %w", err))
		case d < 0:
			errs = append(errs, fmt.Errorf("ARBITER_DRAIN: %q is negative", v))
		default:
			c.Drain = d
		}
	}
	return c, errors.Join(errs...)
}

// duration parses a Go duration, saying so when the unit is missing ("500" rather than "500ms").
func duration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		if _, nerr := strconv.ParseFloat(v, 64); nerr == nil && v != "0" {
			return 0, fmt.Errorf("%q has no unit (write it as 500ms, 2s, 1m)", v)
		}
		return 0, fmt.Errorf("%q is not a duration such as 500ms or 2s", v)
	}
	return d, nil
}

// CheckAddr reports whether addr is a listen address host:port with a numeric port (host may be empty).
func CheckAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has no port number 0-65535", addr)
	}
	return nil
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
