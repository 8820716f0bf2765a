package arbiter.mdf.apply

# Submit this MDF usage application: when it is allowed, its requested amount is consumed from the
# partner's yearly quota on its funding basis (rules-benefits.md §A, GEN-01, MDF-13). The engine runs
# this under the lock of that quota, so the ledger read here cannot change before the commit.

import data.arbiter.mdf.lib

ledger := [{"key": lib.budget_key, "amount": lib.requested}] if {
	lib.outcome == "allow"
} else := []

decision := {
	"outcome": lib.outcome,
	"reasons": [r | some r in lib.reasons],
	"outputs": object.union(lib.outputs, {"consumed": consumed}),
	"ledger": ledger,
}

consumed := dec.fixed(lib.requested, 2) if {
	lib.outcome == "allow"
} else := "0.00"
