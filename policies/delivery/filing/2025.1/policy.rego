package arbiter.delivery.filing

# File a delivery-support project (rules-benefits.md §D4, DEL-01..DEL-04, DEL-06): the start strictly
# after the filing date, a milestone plan where the scenario needs one, the person list with a project
# manager. Capability labels of large projects are checked at benefit application (DEL-03), not here.

import data.arbiter.delivery.lib

req := lib.req

terms := lib.terms

reasons contains r if some r in lib.eligibility

reasons contains {
	"rule": "DEL-01", "code": "DEL_SCENARIO_NOT_SUBSIDISED",
	"message": sprintf("Scenario %s is not one of the subsidised scenarios (%s).", [req.scenario, concat(", ", terms.scenarios)]),
} if {
	not req.scenario in terms.scenarios
}

reasons contains {
	"rule": "DEL-02", "code": "DEL_START_NOT_AFTER_FILING",
	"message": sprintf("The project starts on %s, not after the filing date %s (the day the regional department received the filing); file before delivery starts.", [req.start_date, req.filing_date]),
} if {
	req.scenario in terms.filing_before_start_scenarios
	req.start_date <= req.filing_date
}

reasons contains {
	"rule": "DEL-02", "code": "DEL_END_BEFORE_START",
	"message": sprintf("The project ends on %s, before it starts on %s.", [req.end_date, req.start_date]),
} if {
	req.end_date < req.start_date
}

milestones := object.get(req, "milestones", [])

reasons contains {
	"rule": "DEL-06", "code": "NEEDS_INFO_PROJECT_PLAN", "effect": "refer",
	"message": sprintf("A %s project files its plan: list the milestones with their planned dates.", [req.scenario]),
} if {
	req.scenario in terms.plan_scenarios
	count(milestones) == 0
}

reasons contains {
	"rule": "DEL-06", "code": "DEL_MILESTONE_OUTSIDE_PROJECT",
	"message": sprintf("Milestone %s is planned on %s, outside the project's %s to %s.", [m.id, m.planned_date, req.start_date, req.end_date]),
} if {
	some m in milestones
	not within(m.planned_date)
}

within(d) if {
	req.start_date <= d
	d <= req.end_date
}

persons := object.get(req, "persons", [])

reasons contains {
	"rule": "DEL-04", "code": "NEEDS_INFO_PERSON_LIST", "effect": "refer",
	"message": "List the project's people and their roles (certificates are checked at benefit application).",
} if {
	count(persons) == 0
}

reasons contains {
	"rule": "DEL-04", "code": "DEL_NO_PROJECT_MANAGER",
	"message": "The project must have a project-manager role.",
} if {
	count(persons) > 0
	not has_pm
}

has_pm if {
	some p in persons
	p.role in terms.pm_roles
}

reasons contains {
	"rule": "DEL-03", "code": "DEL_LABEL_CHECKED_AT_APPLICATION", "effect": "note",
	"message": sprintf("New annual cloud resources of %s %s reach the large-project threshold of %s: only a partner holding a capability label when it applies for the benefit is subsidised.", [dec.fixed(req.annual_new_cloud_spend, 2), currency, dec.fixed(threshold, 2)]),
} if {
	threshold != null
	dec.gte(req.annual_new_cloud_spend, threshold)
}

currency := object.get(req, "currency", "CNY")

threshold := object.get(terms.large_project_thresholds, currency, null)

large_project if {
	threshold != null
	dec.gte(req.annual_new_cloud_spend, threshold)
} else := false

outcome := lib.outcome(reasons)

decision := {
	"outcome": outcome,
	"reasons": [r | some r in reasons],
	"outputs": {
		"cap": null,
		"large_project": large_project,
		"plan_required": req.scenario in terms.plan_scenarios,
		"verdict": lib.verdict(outcome),
	},
}
