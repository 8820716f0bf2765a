package arbiter.fh.grant

# Grant one person's FH incentive from an application. When it is allowed the grant is recorded on the
# person's and the partner's ledger keys; the engine holds both locks, so two applications for one
# person (under any programmes) or two applications of one partner in a month are decided one after
# the other and never both granted for overlapping periods (FH-01, FH-23, FH-32).

import data.arbiter.fh.lib

line := lib.line_results[0]

granted if {
	lib.outcome == "allow"
	line.amount != null
}

ledger := [
	{"key": sprintf("fh_person:%s", [input.request.person_id]), "amount": line.amount},
	{"key": sprintf("fh_partner:%s", [input.request.partner_id]), "amount": line.amount},
] if {
	granted
} else := hold if {
	held
} else := []

# FH-01: a referred application is pending with the desk and blocks the person's period like a grant.
# The manifest's hold_on_refer records these zero-amount rows; fh.release frees them when the desk
# rejects the application.
held if lib.outcome == "refer"

hold := [
	{"key": sprintf("fh_person:%s", [input.request.person_id]), "amount": "0"},
	{"key": sprintf("fh_partner:%s", [input.request.partner_id]), "amount": "0"},
]

decision := {
	"outcome": lib.outcome,
	"reasons": lib.reasons,
	"outputs": object.union(object.remove(lib.outputs, ["lines", "eligible_lines", "total_amount"]), object.union(line, {"granted": granted_flag, "held_pending": held_flag})),
	"ledger": ledger,
}

granted_flag if {
	granted
} else := false

held_flag if {
	held
} else := false
