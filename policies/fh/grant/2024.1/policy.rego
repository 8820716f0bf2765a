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
] if granted else := []

decision := {
	"outcome": lib.outcome,
	"reasons": lib.reasons,
	"outputs": object.union(object.remove(lib.outputs, ["lines", "eligible_lines", "total_amount"]), object.union(line, {"granted": granted_flag})),
	"ledger": ledger,
}

granted_flag := true if granted else := false
