package arbiter.nre.application

# Check an NRE application without spending the solution's one application (rules-benefits.md §D1).

import data.arbiter.nre.lib

decision := {
	"outcome": lib.outcome,
	"reasons": [r | some r in lib.reasons],
	"outputs": lib.outputs,
}
