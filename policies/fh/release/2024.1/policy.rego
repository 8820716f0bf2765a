package arbiter.fh.release

# Free the period held by a referred FH application the desk rejected (FH-01). fh.grant records a
# referral as zero-amount rows on fh_person:<person> and fh_partner:<partner>; this decision records
# zero-amount fh.release rows with the same key, which fh.grant and fh.application read as freed.
# Only a pending referral is released: a granted incentive is not undone here.

req := input.request

key := sprintf("%s/%s/%s/%s", [req.application_id, req.person_id, req.programme, req.month])

rows := [r | some r in input.facts.person_ledger; r.idempotency_key == key]

pending if {
	some r in rows
	r.decision == "fh.grant"
	dec.eq(r.amount, "0")
}

granted if {
	some r in rows
	r.decision == "fh.grant"
	dec.gt(r.amount, "0")
}

already_released if {
	some r in rows
	r.decision == "fh.release"
}

reasons contains {
	"rule": "FH-01", "code": "FH_GRANT_NOT_PENDING",
	"message": sprintf("Application %s was granted for %s, not referred; a release does not undo a grant.", [req.application_id, req.person_id]),
} if {
	granted
}

reasons contains {
	"rule": "FH-01", "code": "FH_NOTHING_HELD",
	"message": sprintf("No referred application %s for %s (%s, %s) holds a period.", [req.application_id, req.person_id, req.programme, req.month]),
} if {
	not granted
	not pending
}

reasons contains {
	"rule": "FH-01", "code": "FH_ALREADY_RELEASED",
	"message": sprintf("The period held by application %s for %s was already released.", [req.application_id, req.person_id]),
} if {
	pending
	already_released
}

released if {
	pending
	not granted
	not already_released
}

ledger := [
	{"key": sprintf("fh_person:%s", [req.person_id]), "amount": "0"},
	{"key": sprintf("fh_partner:%s", [req.partner_id]), "amount": "0"},
] if {
	released
} else := []

released_flag if {
	released
} else := false

decision := {
	"reasons": [r | some r in reasons],
	"outputs": {"application_id": req.application_id, "person_id": req.person_id, "programme": req.programme, "month": req.month, "released": released_flag},
	"ledger": ledger,
}
