package api_test

// Marketplace §6 limits over PostgreSQL: the joint-operation password-reset rate limit (JOINT-07)
// holds across two server processes sharing one database.

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// resetRows are n earlier password resets by admin ADM1 of enterprise E1, the last one `gap` ago and
// each earlier one 4 minutes before the next.
func resetRows(n int, gap time.Duration) string {
	var b strings.Builder
	b.WriteString("ledger_entries:\n")
	// An entry of another administrator, which must not count.
	fmt.Fprintf(&b, "  - {decision_id: d-other, key: \"joint-reset:E1:ADM2\", amount: \"1\", decision: joint.password_reset, idempotency_key: R-other, created_at: %q}\n",
		time.Now().Add(-time.Minute).UTC().Format(time.RFC3339))
	for i := range n {
		at := time.Now().Add(-gap - time.Duration(n-1-i)*4*time.Minute).UTC().Format(time.RFC3339)
		fmt.Fprintf(&b, "  - {decision_id: d-seed-%02d, key: \"joint-reset:E1:ADM1\", amount: \"1\", decision: joint.password_reset, idempotency_key: R-seed-%02d, created_at: %q}\n", i, i, at)
	}
	return b.String()
}

// raceResets sends 12 resets by ADM1 at once, alternating between the replicas, at the server clock.
func raceResets(t *testing.T, rows string) (allowedN int, ledgerN map[string]int, codes map[string]int) {
	t.Helper()
	db, urls, client := startReplicas(t, yamlRows(t, rows))
	now := time.Now().UTC().Format(time.RFC3339)
	rs := race(12, func(i int) reply {
		return decide(client, urls[i%2], "joint.password_reset", map[string]any{
			"reset_id": fmt.Sprintf("RACE-%02d", i), "enterprise_id": "E1", "admin_id": "ADM1",
			"member_account": fmt.Sprintf("member%02d", i), "sms_verified": true,
		}, now)
	})
	codes = map[string]int{}
	for _, r := range rs {
		if r.err != nil || r.status != 200 {
			t.Fatalf("%s: HTTP %d %s %v", r.label, r.status, r.code, r.err)
		}
		if r.outcome == "allow" {
			allowedN++
		} else {
			codes[r.code]++
		}
	}
	ledgerN = map[string]int{}
	for _, e := range readLedger(t, db) {
		ledgerN[e.key]++
	}
	return allowedN, ledgerN, codes
}

func TestJointPasswordResetSpacingAcrossTwoProcesses(t *testing.T) {
	allowedN, ledgerN, codes := raceResets(t, resetRows(0, 0))
	if allowedN != 1 || codes["RESET_TOO_SOON"] != 11 {
		t.Fatalf("%d resets accepted, refusals %v; want exactly 1 accepted and 11 RESET_TOO_SOON", allowedN, codes)
	}
	if ledgerN["joint-reset:E1:ADM1"] != 1 || ledgerN["joint-reset:E1:ADM2"] != 1 {
		t.Fatalf("ledger counts %v, want one reset per administrator", ledgerN)
	}
}

func TestJointPasswordResetHourlyCapAcrossTwoProcesses(t *testing.T) {
	// 14 resets in the last hour, the latest 6 minutes ago: one more is allowed, never two.
	allowedN, ledgerN, codes := raceResets(t, resetRows(14, 6*time.Minute))
	if allowedN != 1 || codes["HOURLY_RESET_LIMIT"] != 11 {
		t.Fatalf("%d resets accepted, refusals %v; want exactly 1 accepted and 11 HOURLY_RESET_LIMIT", allowedN, codes)
	}
	if ledgerN["joint-reset:E1:ADM1"] != 15 {
		t.Fatalf("ledger holds %d resets of ADM1, want 15 (the hourly cap)", ledgerN["joint-reset:E1:ADM1"])
	}
}
