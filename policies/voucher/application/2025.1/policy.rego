package arbiter.voucher.application

# Check a voucher application without consuming anything (rules-benefits.md §C, GEN-01).

import data.arbiter.voucher.lib

decision := {
	"outcome": lib.outcome,
	"reasons": [r | some r in lib.reasons],
	"outputs": lib.outputs,
}
