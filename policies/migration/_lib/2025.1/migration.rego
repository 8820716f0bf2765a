package arbiter.migration.lib

# The software-partner model adaptation and migration incentive (rules-benefits.md §D3, MOD-02, MOD-03),
# shared by migration.application and benefit.matrix: may this partner join the plan, or apply for the
# incentive?

import data.arbiter.benefit.payout

req := input.request

plan := input.rules.migration_plan

today := cal.beijing_date(input.now)

action := object.get(req, "action", "apply")

on_path if {
	some p in input.facts.paths
	p.path == plan.join_path
}

joined if {
	some p in input.facts.plans
	p.plan == plan.plan
	p.status == "active"
}

# Eligibility reasons: whether the partner may act at all (the matrix asks them for "apply").
eligibility contains {
	"rule": "MOD-02", "code": "MOD_PLAN_END_NOT_CONFIGURED", "effect": "refer",
	"message": "The plan's last day is not configured (migration.plan last_day).",
} if {
	plan.last_day == null
}

eligibility contains {
	"rule": "MOD-02", "code": "MOD_PLAN_EXPIRED",
	"message": sprintf("The model-migration plan ran until %s; it is %s.", [plan.last_day, today]),
} if {
	plan.last_day != null
	today > plan.last_day
}

eligibility contains {
	"rule": "MOD-03", "code": "MOD_NOT_SOFTWARE_PATH",
	"message": sprintf("Only partners on the %s path may join the model-migration plan.", [plan.join_path]),
} if {
	not on_path
}

eligibility contains {
	"rule": "MOD-03", "code": "MOD_NOT_IN_PLAN",
	"message": "Join the software-partner model adaptation and migration plan before applying for the incentive.",
} if {
	action == "apply"
	on_path
	not joined
}

eligibility contains r if {
	action == "apply"
	some r in payout.reasons
}

reasons contains r if some r in eligibility

reasons contains {
	"rule": "MOD-03", "code": "MOD_ALREADY_JOINED", "effect": "note",
	"message": "The partner has already joined the plan.",
} if {
	action == "join"
	joined
}

effects := {object.get(r, "effect", "deny") | some r in reasons}

outcome := "deny" if {
	"deny" in effects
} else := "refer" if {
	"refer" in effects
} else := "allow"

verdict := {"deny": "REJECT", "refer": "NEEDS_INFO", "allow": "ALLOW"}[outcome]
