package arbiter.delivery.change

# Change a filed project's workload or people (rules-benefits.md §D4): the workload may only decrease
# after filing (DEL-08); a person may be replaced for force majeure, without effect on the subsidy, or at
# the customer's or rep office's request for insufficient capability, deducting that person's workload
# subsidy (DEL-09).

import data.arbiter.delivery.lib

req := lib.req

terms := lib.terms

project := lib.project

reasons contains r if some r in lib.project_reasons

reasons contains {
	"rule": "DEL-08", "code": "NEEDS_INFO_WORKLOAD", "effect": "refer",
	"message": "Give the new workload in person-days.",
} if {
	req.kind == "workload"
	not req.workload_pd
}

reasons contains {
	"rule": "DEL-08", "code": "DEL_WORKLOAD_INCREASE",
	"message": sprintf("The workload is %s person-days (filed %s); after filing it may only decrease, not rise to %s.", [current, project.filed_workload_pd, req.workload_pd]),
} if {
	req.kind == "workload"
	dec.gt(req.workload_pd, current)
}

current := object.get(project, "current_workload_pd", null) if {
	object.get(project, "current_workload_pd", null) != null
} else := project.filed_workload_pd

person := p if {
	some p in input.facts.persons
	p.person_id == req.person_id
}

reasons contains {
	"rule": "DEL-09", "code": "NEEDS_INFO_PERSON", "effect": "refer",
	"message": "Name the person replaced and the reason.",
} if {
	req.kind == "personnel"
	some f in ["person_id", "reason"]
	object.get(req, f, "") == ""
}

reasons contains {
	"rule": "DEL-09", "code": "DEL_PERSON_UNKNOWN",
	"message": sprintf("%s is not on the project's person list.", [req.person_id]),
} if {
	req.kind == "personnel"
	project
	req.person_id
	not person
}

effect := terms.personnel_change_reasons[req.reason]

reasons contains {
	"rule": "DEL-09", "code": "DEL_PERSONNEL_CHANGE_REASON",
	"message": sprintf("A person is replaced only for force majeure (resignation, illness) or at the customer's or rep office's request for insufficient capability; %v is neither.", [req.reason]),
} if {
	req.kind == "personnel"
	req.reason
	not terms.personnel_change_reasons[req.reason]
}

reasons contains {
	"rule": "DEL-09", "code": "DEL_PERSONNEL_DEDUCTION", "effect": "note",
	"message": sprintf("%s was replaced for insufficient capability: the subsidy for their %s person-days is deducted.", [req.person_id, person.person_days]),
} if {
	req.kind == "personnel"
	effect == "deduct"
	person
}

reasons contains {
	"rule": "DEL-09", "code": "DEL_PERSONNEL_NO_IMPACT", "effect": "note",
	"message": sprintf("%s was replaced for force majeure: the subsidy is not affected.", [req.person_id]),
} if {
	req.kind == "personnel"
	effect == "none"
	person
}

outcome := lib.outcome(reasons)

default deducted_person_days := null

deducted_person_days := dec.fixed(person.person_days, 2) if {
	outcome == "allow"
	req.kind == "personnel"
	effect == "deduct"
}

decision := {
	"outcome": outcome,
	"reasons": [r | some r in reasons],
	"outputs": {"kind": req.kind, "deducted_person_days": deducted_person_days, "verdict": lib.verdict(outcome)},
}
