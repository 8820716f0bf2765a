package arbiter.fh.application

# Judge a partner's FH application: each person's eligibility and amount under the programme, the
# partner's plan and monthly limit, and the one-FH-per-period rule (rules-benefits.md §B). Nothing is
# recorded; fh.grant commits one person's incentive.

import data.arbiter.fh.lib

decision := {
	"outcome": lib.outcome,
	"reasons": lib.reasons,
	"outputs": lib.outputs,
}
