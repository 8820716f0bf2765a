package arbiter.delivery.plan_change

# Change a filed project's plan (rules-benefits.md §D4, DEL-07, DEL-06): only before delivery completes,
# only for a milestone that has not arrived, at most max_changes_per_milestone times per milestone. An
# allowed change is recorded on the project's ledger key (amount 1, idempotency key
# "<milestone>/<change>"); the engine runs this under the project's lock, so two replicas never
# grant a fourth change.

import data.arbiter.delivery.lib

req := lib.req

terms := lib.terms

milestone := m if {
	some m in input.facts.milestones
	m.id == req.milestone_id
}

committed := {parts[1] |
	some r in input.facts.usage
	r.decision == "delivery.plan_change"
	parts := split(r.idempotency_key, "/")
	count(parts) == 2
	parts[0] == req.milestone_id
	parts[1] != req.change_id
}

default changes_made := null

changes_made := milestone.changes + count(committed) if milestone

reasons contains r if some r in lib.project_reasons

reasons contains {
	"rule": "DEL-07", "code": "DEL_PROJECT_COMPLETED",
	"message": sprintf("Delivery completed on %s; the plan can no longer change.", [lib.project.completed_on]),
} if {
	lib.completed
}

reasons contains {
	"rule": "DEL-07", "code": "DEL_MILESTONE_UNKNOWN",
	"message": sprintf("Milestone %s is not in the filed plan.", [req.milestone_id]),
} if {
	lib.project
	not milestone
}

reasons contains {
	"rule": "DEL-07", "code": "DEL_MILESTONE_REACHED",
	"message": sprintf("Milestone %s (planned %s) has arrived; only milestones not yet arrived may change (an extension is asked before the planned date, DEL-06).", [milestone.id, milestone.planned_date]),
} if {
	lib.arrived(milestone)
}

reasons contains {
	"rule": "DEL-07", "code": "DEL_CHANGE_LIMIT",
	"message": sprintf("Milestone %s has changed %d times; at most %d changes per milestone.", [milestone.id, changes_made, terms.max_changes_per_milestone]),
} if {
	changes_made != null
	changes_made >= terms.max_changes_per_milestone
}

reasons contains {
	"rule": "DEL-06", "code": "DEL_NEW_DATE_NOT_FUTURE",
	"message": sprintf("The new date %s is not after today (%s).", [req.new_planned_date, lib.today]),
} if {
	req.new_planned_date <= lib.today
}

outcome := lib.outcome(reasons)

default changes_after := null

changes_after := changes_made + 1 if outcome == "allow"

ledger := [{"key": sprintf("delivery_project:%s", [req.project_id]), "amount": "1"}] if {
	outcome == "allow"
} else := []

decision := {
	"outcome": outcome,
	"reasons": [r | some r in reasons],
	"outputs": {
		"changes_made": changes_made,
		"changes_after": changes_after,
		"max_changes": terms.max_changes_per_milestone,
		"verdict": lib.verdict(outcome),
	},
	"ledger": ledger,
}
