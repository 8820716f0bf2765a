package arbiter.nre.apply

# Submit an NRE application: when it is allowed it takes the solution's one NRE application (NRE-03).
# The engine runs this under the partner's NRE lock, so no second application of the solution can be
# committed between the ledger read here and the commit.

import data.arbiter.nre.lib

ledger := [{"key": sprintf("nre_partner:%s", [lib.req.partner_id]), "amount": "1"}] if {
	lib.outcome == "allow"
} else := []

decision := {
	"outcome": lib.outcome,
	"reasons": [r | some r in lib.reasons],
	"outputs": object.union(lib.outputs, {"recorded": lib.outcome == "allow"}),
	"ledger": ledger,
}
