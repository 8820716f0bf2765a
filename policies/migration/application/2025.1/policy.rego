package arbiter.migration.application

# May this partner join the model adaptation and migration plan, or apply for its incentive
# (rules-benefits.md §D3)?

import data.arbiter.migration.lib

decision := {
	"outcome": lib.outcome,
	"reasons": [r | some r in lib.reasons],
	"outputs": {
		"cap": null,
		"action": lib.action,
		"plan": lib.plan.plan,
		"plan_last_day": lib.plan.last_day,
		"verdict": lib.verdict,
	},
}
