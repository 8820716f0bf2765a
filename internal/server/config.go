package server

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"arbiter/auth"
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
	// LogSpoolDir is where decision-log records wait on disk while the database is unreachable
	// (each process claims a numbered slot in it); empty: no spool.
	LogSpoolDir       string
	LogSpoolMax       int64   // bytes the spool may hold
	LogDropThreshold  int     // /readyz degrades when this many records were dropped in the last minute
	LogSpoolHighWater float64 // /readyz degrades when the spool holds more than this fraction of LogSpoolMax
	// CommitClockSkew is how far a commit request's as_of may be from the clock (0: the engine's
	// default); negative keeps the request's as_of, for test harnesses that replay pinned instants.
	CommitClockSkew time.Duration
	Clock           func() time.Time // nil: the system clock
	MaxInFlight     int              // evaluations admitted at once; 0: api.DefaultMaxInFlight (4 per core)
	// RevisionPoll is how often a replica checks for a newly published revision besides listening for
	// its NOTIFY; default 10s.
	RevisionPoll time.Duration
	// Auth is "required", "open" or empty: with a database the service always authenticates; without
	// one it is open to loopback clients unless Auth is "required" or KeysFile is set.
	Auth     string
	KeysFile string // API keys (SHA-256 digests) for the service without a database
	JWT      auth.JWTConfig
	// LogRetention drops the months of the decision log that ended longer ago than this (0 keeps
	// them); with a database only.
	LogRetention time.Duration
	// LogSinkURL is where batches of decision events are POSTed in the format of OPA's decision-log
	// service (empty: none), with LogSinkToken as a bearer token; the rest tune the sink (zero: the
	// defaults of decisionlog.SinkOptions).
	LogSinkURL        string
	LogSinkToken      string
	LogSinkBatch      int
	LogSinkBuffer     int
	LogSinkInterval   time.Duration
	LogSinkMaxBackoff time.Duration
}

// Variables of the environment FromEnv reads (deploy/ is checked against this list).
var Variables = append([]string{
	"ARBITER_ADDR", "DATABASE_URL", "ARBITER_POLICY_DIR", "ARBITER_FIXTURES_DIR", "ARBITER_ADMIN_TOKEN",
	"ARBITER_EVAL_TIMEOUT", "ARBITER_DRAIN", "GOGC", "GOMEMLIMIT",
	"ARBITER_COMMIT_CLOCK_SKEW", "ARBITER_MAX_INFLIGHT", "ARBITER_REVISION_POLL", "ARBITER_LOG_RETENTION",
	"ARBITER_LOG_SINK_URL", "ARBITER_LOG_SINK_TOKEN", "ARBITER_LOG_SINK_BATCH", "ARBITER_LOG_SINK_BUFFER",
	"ARBITER_LOG_SINK_INTERVAL", "ARBITER_LOG_SINK_MAX_BACKOFF",
	"ARBITER_LOG_QUEUE", "ARBITER_LOG_SPOOL_DIR", "ARBITER_LOG_SPOOL_MAX", "ARBITER_LOG_DROP_THRESHOLD", "ARBITER_LOG_SPOOL_HIGH_WATER",
	"ARBITER_AUTH", "ARBITER_KEYS_FILE", "ARBITER_JWT_JWKS", "ARBITER_JWT_ISSUER", "ARBITER_JWT_AUDIENCE", "ARBITER_JWT_SCOPE_CLAIM",
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
		LogSpoolDir:  getenv("ARBITER_LOG_SPOOL_DIR", filepath.Join(os.TempDir(), "arbiter-decision-log-"+strconv.Itoa(os.Getuid()))),
		LogSpoolMax:  256 << 20,
		Drain:        DefaultDrain,
		Auth:         os.Getenv("ARBITER_AUTH"),
		KeysFile:     os.Getenv("ARBITER_KEYS_FILE"),
		LogSinkURL:   os.Getenv("ARBITER_LOG_SINK_URL"),
		LogSinkToken: os.Getenv("ARBITER_LOG_SINK_TOKEN"),
		JWT: auth.JWTConfig{JWKS: os.Getenv("ARBITER_JWT_JWKS"), Issuer: os.Getenv("ARBITER_JWT_ISSUER"),
			Audience: os.Getenv("ARBITER_JWT_AUDIENCE"), ScopeClaim: os.Getenv("ARBITER_JWT_SCOPE_CLAIM")},
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
	if v := os.Getenv("ARBITER_COMMIT_CLOCK_SKEW"); v != "" {
		if d, err := duration(v); err != nil {
			errs = append(errs, fmt.Errorf("ARBITER_COMMIT_CLOCK_SKEW: %w", err))
		} else {
			c.CommitClockSkew = d
		}
	}
	if v := os.Getenv("ARBITER_MAX_INFLIGHT"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("ARBITER_MAX_INFLIGHT: %q is not a positive whole number", v))
		} else {
			c.MaxInFlight = n
		}
	}
	if v := os.Getenv("ARBITER_REVISION_POLL"); v != "" {
		if d, err := duration(v); err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("ARBITER_REVISION_POLL: %q is not a positive duration such as 10s", v))
		} else {
			c.RevisionPoll = d
		}
	}
	if c.LogSpoolDir == "off" {
		c.LogSpoolDir = ""
	}
	if v := os.Getenv("ARBITER_LOG_SPOOL_MAX"); v != "" {
		if n, err := ParseBytes(v); err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("ARBITER_LOG_SPOOL_MAX: %q is not a positive size such as 256MiB", v))
		} else {
			c.LogSpoolMax = n
		}
	}
	for _, v := range []struct {
		name string
		into *int
	}{{"ARBITER_LOG_QUEUE", &c.LogQueue}, {"ARBITER_LOG_DROP_THRESHOLD", &c.LogDropThreshold},
		{"ARBITER_LOG_SINK_BATCH", &c.LogSinkBatch}, {"ARBITER_LOG_SINK_BUFFER", &c.LogSinkBuffer}} {
		if s := os.Getenv(v.name); s != "" {
			if n, err := strconv.Atoi(s); err != nil || n <= 0 {
				errs = append(errs, fmt.Errorf("%s: %q is not a positive whole number", v.name, s))
			} else {
				*v.into = n
			}
		}
	}
	if v := os.Getenv("ARBITER_LOG_SPOOL_HIGH_WATER"); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err != nil || f <= 0 || f > 1 {
			errs = append(errs, fmt.Errorf("ARBITER_LOG_SPOOL_HIGH_WATER: %q is not a fraction in (0, 1]", v))
		} else {
			c.LogSpoolHighWater = f
		}
	}
	if c.LogSinkURL != "" {
		if u, err := url.Parse(c.LogSinkURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("ARBITER_LOG_SINK_URL: %q is not an http or https URL such as https://logs.example/logs", c.LogSinkURL))
		}
	}
	for _, v := range []struct {
		name string
		into *time.Duration
	}{{"ARBITER_LOG_SINK_INTERVAL", &c.LogSinkInterval}, {"ARBITER_LOG_SINK_MAX_BACKOFF", &c.LogSinkMaxBackoff}} {
		if s := os.Getenv(v.name); s != "" {
			d, err := duration(s)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("%s: %w", v.name, err))
			case d <= 0:
				errs = append(errs, fmt.Errorf("%s: %q is not positive", v.name, s))
			default:
				*v.into = d
			}
		}
	}
	if c.LogSinkURL == "" {
		for _, name := range []string{"ARBITER_LOG_SINK_TOKEN", "ARBITER_LOG_SINK_BATCH", "ARBITER_LOG_SINK_BUFFER", "ARBITER_LOG_SINK_INTERVAL", "ARBITER_LOG_SINK_MAX_BACKOFF"} {
			if os.Getenv(name) != "" {
				errs = append(errs, fmt.Errorf("%s is set but ARBITER_LOG_SINK_URL is not: no sink would use it", name))
			}
		}
	}
	switch c.Auth {
	case "", "required", "open":
	default:
		errs = append(errs, fmt.Errorf("ARBITER_AUTH: %q is neither required nor open", c.Auth))
	}
	var err error
	if c.LogRetention, err = ParseRetention(os.Getenv("ARBITER_LOG_RETENTION")); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

// ParseBytes reads a size such as 1048576, 512KiB, 64MiB or 1GiB.
func ParseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: want bytes, optionally with KiB, MiB or GiB", s)
	}
	return n * mult, nil
}

// ParseRetention reads a retention such as "90d", "2160h" or "" (keep everything).
func ParseRetention(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("ARBITER_LOG_RETENTION=%q: use a number of days such as 90d, or a duration such as 2160h", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("ARBITER_LOG_RETENTION=%q: use a number of days such as 90d, or a duration such as 2160h", s)
	}
	return d, nil
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
