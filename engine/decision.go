package engine

import (
	"time"

	"arbiter/engine/internal/calendar"
	"arbiter/engine/lang"
)

// EnvelopeVersion names the decision envelope's contract; it changes only on incompatible changes.
const EnvelopeVersion = "arbiter.decision/v1"

// Decision is the envelope every decision answers with.
type Decision struct {
	Envelope   string         `json:"envelope"`
	DecisionID string         `json:"decision_id"`
	Decision   string         `json:"decision"`
	Policy     PolicyRef      `json:"policy"`
	Tables     []TableRef     `json:"tables"`
	AsOf       time.Time      `json:"as_of"`
	AsOfSource string         `json:"as_of_source"`
	Revision   string         `json:"revision"`
	Outcome    string         `json:"outcome"`
	Reasons    []Reason       `json:"reasons"`
	Outputs    map[string]any `json:"outputs"`
	Commit     *CommitInfo    `json:"commit,omitempty"`
	Explain    *Explanation   `json:"explain,omitempty"`
}

// PolicyRef identifies the exact policy version that decided.
type PolicyRef struct {
	Version  string `json:"version"`
	Digest   string `json:"digest"`
	Language string `json:"language"`
	Pinned   bool   `json:"pinned,omitempty"`
}

// TableRef identifies one rule-table version a decision read.
type TableRef struct {
	Name    string `json:"name"`
	Table   string `json:"table"`
	Version string `json:"version"`
	Digest  string `json:"digest"`
	// At is the instant that chose the version when the manifest takes it from the input or facts
	// (a performance year) instead of as_of.
	At *time.Time `json:"at,omitempty"`
}

// CommitInfo reports what a commit decision recorded.
type CommitInfo struct {
	IdempotencyKey string        `json:"idempotency_key"`
	Committed      bool          `json:"committed"`
	Replayed       bool          `json:"replayed"`
	DryRun         bool          `json:"dry_run,omitempty"`
	Entries        []LedgerEntry `json:"entries,omitempty"`
}

// Explanation carries what the policy saw, returned when the request asks for it.
type Explanation struct {
	Facts map[string]any `json:"facts"`
	Rules map[string]any `json:"rules"`
	// Conditions are the policy's rule bodies, rule conditions and named values and what each came
	// to, in source order; only when the request asked for a trace (arbiter eval --explain).
	Conditions []lang.Condition `json:"conditions,omitempty"`
}

// AsOf sources.
const (
	AsOfFromRequest = "request"
	AsOfFromClock   = "server_clock"
)

// Reason is one catalog rule that fired, with its stable code.
type Reason = lang.Reason

// LedgerEntry is one unit of consumption a commit records against a limit key.
type LedgerEntry = lang.LedgerEntry

// Beijing is the business calendar's time zone (UTC+08:00, no daylight saving).
var Beijing = calendar.Beijing
