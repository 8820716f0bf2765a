package arbiter.capability.lib

# The service-partner capability-improvement incentive (rules-benefits.md §D2, CAP-02..CAP-07), shared
# by capability.application (the check), capability.apply (the commit that spends the plan's budget
# first come, first served) and benefit.matrix.

import data.arbiter.benefit.payout

req := input.request

plan := input.rules.capability_plan

today := cal.beijing_date(input.now)

partner := input.facts.partner

# CAP-07: the partner's region; every site but the China site is overseas.
region := "china" if {
	partner.site == "china"
} else := "overseas"

service_stage := p.stage if {
	some p in input.facts.paths
	p.path == "service"
} else := "none"

joined if {
	some p in input.facts.plans
	p.plan == plan.plan
	p.status == "active"
}

label_row(code) := l if {
	some l in input.facts.labels
	l.label == code
	l.level == 1
	l.status == "active"
}

# ---------------------------------------------------------------- ledger (CAP-04, CAP-06)

# Incentives committed here: one row on cap_partner:<partner> (amount 1) whose idempotency key is
# "<label>/<application>", and the amount on cap_budget:<year>.
committed_labels(app) := {parts[0] |
	some r in input.facts.partner_usage
	r.decision == "capability.apply"
	parts := split(r.idempotency_key, "/")
	count(parts) == 2
	parts[1] != app
}

recorded_labels := {c.label |
	some c in input.facts.incentives
	c.status in plan.counted_statuses
}

applied_labels(app) := committed_labels(app) | recorded_labels

budget_used := dec.sum([r.amount | some r in object.get(input.facts, "budget_usage", []); not own_row(r)])

own_row(r) if endswith(r.idempotency_key, sprintf("/%s", [req.application_id]))

budget_remaining := dec.max("0", dec.sub(plan.budget, budget_used)) if {
	plan.budget != null
} else := null

# ---------------------------------------------------------------- eligibility of the partner (CAP-02, CAP-06, GEN-03)

partner_reasons contains r if some r in payout.reasons

partner_reasons contains {
	"rule": "CAP-02", "code": "CAP_NOT_ROLE_CERTIFIED",
	"message": sprintf("The incentive is for service partners from role certification on; your service-path stage is %s.", [service_stage]),
} if {
	not service_stage in {"role_certified", "differentiated"}
}

partner_reasons contains {
	"rule": "CAP-02", "code": "CAP_NOT_IN_PLAN",
	"message": "Join the Service-Partner Capability Improvement plan before applying.",
} if {
	not joined
}

partner_reasons contains {
	"rule": "CAP-03", "code": "CAP_PLAN_NOT_CONFIGURED", "effect": "refer",
	"message": sprintf("No %d capability-improvement plan is configured (capability.plan for %d; the latest is %d).", [req.plan_year, req.plan_year, plan.plan_year]),
} if {
	plan.plan_year != req.plan_year
}

partner_reasons contains {
	"rule": "CAP-06", "code": "CAP_BUDGET_NOT_CONFIGURED", "effect": "refer",
	"message": sprintf("The %d plan budget is not configured (capability.plan budget).", [plan.plan_year]),
} if {
	plan.budget == null
}

# ---------------------------------------------------------------- eligibility of one label (CAP-03..CAP-07)

# label_findings(code, app) lists why the label cannot be applied for (empty: it can).
# A label out of scope is judged on that alone.
label_findings(code, app) := {f |
	some f in label_checks(code, app)
	f.code == "CAP_LABEL_NOT_IN_SCOPE"
	not f.ok
} if {
	not in_scope(code)
} else := {f |
	some f in label_checks(code, app)
	not f.ok
}

label_checks(code, app) := [
	{
		"rule": "CAP-07", "code": "CAP_LABEL_NOT_IN_SCOPE", "ok": in_scope(code),
		"message": sprintf("%s is not a level-1 capability label in the plan's scope for %s partners.", [code, region]),
	},
	{
		"rule": "CAP-02", "code": "CAP_LABEL_NOT_HELD", "ok": held(code),
		"message": sprintf("You hold no active level-1 label %s.", [code]),
	},
	{
		"rule": "CAP-03", "code": "CAP_LABEL_OUTSIDE_PLAN_YEAR", "ok": granted_in_window(code),
		"message": sprintf("The label was granted on %v; the %d plan covers labels granted %s to %s.", [granted(code), plan.plan_year, plan.label_granted_from, plan.label_granted_to]),
	},
	{
		"rule": "CAP-05", "code": "CAP_LAPSED", "ok": not_lapsed(code),
		"message": sprintf("Incentives lapse on 31 December of the year the label was granted (%v); it is %s.", [granted(code), today]),
	},
	{
		"rule": "CAP-04", "code": "CAP_DUPLICATE", "ok": not_applied(code, app),
		"message": sprintf("You already applied for the %s incentive; one incentive per label.", [code]),
	},
]

plan_label(code) := plan.labels[code]

granted(code) := label_row(code).granted_on if {
	label_row(code)
} else := null

in_scope(code) if {
	plan_label(code).region in {"global", region}
} else := false

held(code) if {
	label_row(code)
} else := false

granted_in_window(code) if {
	not label_row(code)
} else if {
	g := label_row(code).granted_on
	plan.label_granted_from <= g
	g <= plan.label_granted_to
} else := false

# CAP-05: apply by 31 December of the grant year (Beijing date).
not_lapsed(code) if {
	not label_row(code)
} else if {
	today <= sprintf("%s-12-31", [substring(label_row(code).granted_on, 0, 4)])
} else := false

not_applied(code, app) := false if {
	code in applied_labels(app)
} else := true

finding_reason(f) := {"rule": f.rule, "code": f.code, "message": f.message}

# The labels the partner could apply for now (the matrix lists them).
open_labels := sort([l.label |
	plan.plan_year == req.plan_year
	some l in input.facts.labels
	count(label_findings(l.label, "")) == 0
])

# ---------------------------------------------------------------- reasons

eligibility contains r if some r in partner_reasons

# A label is judged against its own year's plan only (CAP_PLAN_NOT_CONFIGURED otherwise).
eligibility contains finding_reason(f) if {
	plan.plan_year == req.plan_year
	some f in label_findings(req.label, req.application_id)
}

reasons contains r if some r in eligibility

requested := req.requested_amount

reasons contains {
	"rule": "CAP-06", "code": "CAP_AMOUNT_NOT_POSITIVE",
	"message": "The requested amount must be more than zero.",
} if {
	dec.lte(requested, "0")
}

reasons contains {
	"rule": "CAP-06", "code": "CAP_BUDGET_EXHAUSTED",
	"message": sprintf("The %d plan budget has %s left, less than the %s requested; incentives are paid first come, first served.", [plan.plan_year, dec.fixed(budget_remaining, 2), dec.fixed(requested, 2)]),
} if {
	budget_remaining != null
	dec.gt(requested, budget_remaining)
}

effects := {object.get(r, "effect", "deny") | some r in reasons}

outcome := "deny" if {
	"deny" in effects
} else := "refer" if {
	"refer" in effects
} else := "allow"

verdict := {"deny": "REJECT", "refer": "NEEDS_INFO", "allow": "ALLOW"}[outcome]

fixed_or_null(x) := dec.fixed(x, 2) if {
	x != null
} else := null

outputs := {
	"cap": null,
	"region": region,
	"budget": fixed_or_null(plan.budget),
	"budget_remaining": fixed_or_null(budget_remaining),
	"verdict": verdict,
}
