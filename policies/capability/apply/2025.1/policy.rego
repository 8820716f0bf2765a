package arbiter.capability.apply

# Submit a capability-improvement incentive application: when it is allowed its amount is taken from the
# plan's budget, first come, first served (CAP-06), and the label's one incentive is recorded (CAP-04).
# The engine runs this under the locks of the plan budget and of the partner, so the ledger read here
# cannot change before the commit.

import data.arbiter.capability.lib

ledger := [
	{"key": sprintf("cap_budget:%d", [lib.req.plan_year]), "amount": lib.requested},
	{"key": sprintf("cap_partner:%s", [lib.req.partner_id]), "amount": "1"},
] if {
	lib.outcome == "allow"
} else := []

consumed := dec.fixed(lib.requested, 2) if {
	lib.outcome == "allow"
} else := "0.00"

decision := {
	"outcome": lib.outcome,
	"reasons": [r | some r in lib.reasons],
	"outputs": object.union(lib.outputs, {"consumed": consumed}),
	"ledger": ledger,
}
