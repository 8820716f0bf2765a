package arbiter.capability.application

# Check a capability-improvement incentive application without spending the budget (rules-benefits.md §D2).

import data.arbiter.capability.lib

decision := {
	"outcome": lib.outcome,
	"reasons": [r | some r in lib.reasons],
	"outputs": lib.outputs,
}
