package arbiter.mdf.application

# May this MDF usage application go ahead, and how much of the yearly quota would it leave?
# (rules-benefits.md §A1-§A4). Nothing is recorded; mdf.apply makes the same judgement and consumes the quota.

import data.arbiter.mdf.lib

decision := {
	"outcome": lib.outcome,
	"reasons": [r | some r in lib.reasons],
	"outputs": lib.outputs,
}
