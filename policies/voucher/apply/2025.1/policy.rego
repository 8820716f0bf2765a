package arbiter.voucher.apply

# Submit a voucher application: when it is allowed, its amount is consumed from the partner's yearly
# cap of that kind on that basis (VCH-03, GEN-01). The engine runs this under the lock of that cap, so
# the ledger read here cannot change before the commit.

import data.arbiter.voucher.lib

ledger := [{"key": lib.budget_key, "amount": lib.requested}] if {
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
