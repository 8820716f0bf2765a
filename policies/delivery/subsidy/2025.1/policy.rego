package arbiter.delivery.subsidy

# The benefit application of a delivery-support project (rules-benefits.md §D4): the capability label of a
# large project at application (DEL-03), eligible people (DEL-04), the SOW within a month of the start
# (DEL-05), milestone delay deductions in working days (DEL-06, AMB-06), replaced people (DEL-09), the
# confirmation e-mail (DEL-13), and the subsidy, exact: rate x eligible person-days less the deductions.

import data.arbiter.benefit.payout
import data.arbiter.delivery.lib

req := lib.req

terms := lib.terms

today := lib.today

project := lib.project

calendar := input.rules.calendar

reasons contains r if some r in lib.eligibility

reasons contains r if some r in lib.project_reasons

reasons contains r if some r in payout.reasons

# ---------------------------------------------------------------- DEL-03

currency := project.currency

threshold := object.get(terms.large_project_thresholds, currency, null)

large_project if {
	threshold != null
	dec.gte(project.annual_new_cloud_spend, threshold)
}

holds_label if {
	some l in input.facts.labels
	l.status == "active"
	l.granted_on <= today
}

reasons contains {
	"rule": "DEL-03", "code": "DEL_THRESHOLD_NOT_CONFIGURED", "effect": "refer",
	"message": sprintf("No large-project threshold is configured for %s (delivery.terms large_project_thresholds.%s).", [currency, currency]),
} if {
	project
	threshold == null
}

reasons contains {
	"rule": "DEL-03", "code": "DEL_LABEL_REQUIRED",
	"message": sprintf("New annual cloud resources of %s %s reach %s: only a partner holding at least one capability label when it applies is subsidised, and you hold none.", [dec.fixed(project.annual_new_cloud_spend, 2), currency, dec.fixed(threshold, 2)]),
} if {
	large_project
	not holds_label
}

# ---------------------------------------------------------------- DEL-05

sow_due := cal.months_later(project.start_date, 1)

reasons contains {
	"rule": "DEL-05", "code": "NEEDS_INFO_SOW", "effect": "refer",
	"message": "Attach the final SOW with the achievement of its work items.",
} if {
	project
	project.sow_delivered_on == null
}

reasons contains {
	"rule": "DEL-05", "code": "DEL_SOW_LATE", "effect": "refer",
	"message": sprintf("The SOW was delivered on %s, after %s, one month from the start on %s.", [project.sow_delivered_on, sow_due, project.start_date]),
} if {
	project.sow_delivered_on != null
	project.sow_delivered_on > sow_due
}

# ---------------------------------------------------------------- DEL-04, DEL-09: eligible people

fh_expert(pid) if {
	some g in input.facts.fh_grants
	g.person_id == pid
	g.programme == "svc_expert_2024"
	g.status in {"pending", "approved", "paid"}
	substring(project.start_date, 0, 7) <= g.coverage_to
	g.coverage_from <= substring(project.end_date, 0, 7)
}

is_pm(p) if p.role in terms.pm_roles

person_findings(p) := {f |
	some f in [
		{"code": "no_work_level_cert", "ok": p.work_level_cert},
		{"code": "no_infosec_exam", "ok": p.infosec_exam_passed},
		{"code": "no_pm_cert", "ok": pm_ok(p)},
		{"code": "fh_expert_service", "ok": not_fh(p)},
		{"code": "replaced_for_capability", "ok": not_deducted(p)},
	]
	f.ok == false
}

pm_ok(p) := false if {
	is_pm(p)
	not p.pm_cert
} else := true

not_fh(p) := false if {
	fh_expert(p.person_id)
} else := true

not_deducted(p) := false if {
	p.replaced
	terms.personnel_change_reasons[p.replacement_reason] == "deduct"
} else := true

excluded := {p.person_id: sort([f.code | some f in person_findings(p)]) |
	some p in input.facts.persons
	count(person_findings(p)) > 0
}

eligible_persons := [p | some p in input.facts.persons; not excluded[p.person_id]]

eligible_days := dec.sum([p.person_days | some p in eligible_persons])

reasons contains {
	"rule": "DEL-04", "code": "DEL_NO_PROJECT_MANAGER",
	"message": "The project has no project manager; a project-manager role is required.",
} if {
	project
	not has_pm
}

has_pm if {
	some p in input.facts.persons
	is_pm(p)
}

reasons contains {
	"rule": "DEL-04", "code": "DEL_PERSON_EXCLUDED", "effect": "note",
	"message": sprintf("%s receives no subsidy: %s.", [pid, concat(", ", codes)]),
} if {
	some pid, codes in excluded
	not "replaced_for_capability" in codes
}

reasons contains {
	"rule": "DEL-09", "code": "DEL_PERSONNEL_DEDUCTION", "effect": "note",
	"message": sprintf("%s was replaced for insufficient capability: their workload subsidy is deducted.", [pid]),
} if {
	some pid, codes in excluded
	"replaced_for_capability" in codes
}

# ---------------------------------------------------------------- DEL-06: delays in working days (AMB-06)

plan_scenario if project.scenario in terms.plan_scenarios

delay := terms.delay

# A milestone's lateness: delivered after its planned day, or not delivered and the planned day passed.
late_until(m) := m.delivered_date if {
	m.delivered_date != null
} else := today

late(m) if late_until(m) > m.planned_date

known(m) if cal.covers(calendar, m.planned_date, late_until(m))

days_late(m) := cal.working_days(calendar, m.planned_date, late_until(m)) if {
	late(m)
} else := 0

milestone_rate(d) := "0" if {
	d <= delay.deduction_after
} else := dec.mul(delay.block_rate, floor((d - delay.deduction_after) / delay.block_days))

milestone_rows := [{"id": m.id, "planned_date": m.planned_date, "delivered_date": m.delivered_date, "days_late": d, "deduction_rate": milestone_rate(d), "cancelled": d > delay.cancel_after} |
	some m in input.facts.milestones
	plan_scenario
	known(m)
	d := days_late(m)
]

reasons contains {
	"rule": "DEL-06", "code": "DEL_CALENDAR_NOT_PUBLISHED", "effect": "refer",
	"message": sprintf("The working-day calendar does not yet publish every year from %s to %s, so milestone %s's delay cannot be counted.", [m.planned_date, late_until(m), m.id]),
} if {
	plan_scenario
	some m in input.facts.milestones
	not known(m)
}

reasons contains {
	"rule": "DEL-06", "code": "DEL_DELAY_FLAGGED", "effect": "note",
	"message": sprintf("Milestone %s is %d working days late, beyond the %d tolerated, without a deduction yet.", [r.id, r.days_late, delay.tolerance_days]),
} if {
	some r in milestone_rows
	r.days_late > delay.tolerance_days
	r.days_late <= delay.deduction_after
}

reasons contains {
	"rule": "DEL-06", "code": "DEL_DELAY_DEDUCTION", "effect": "note",
	"message": sprintf("Milestone %s is %d working days late: %s of the subsidy is deducted (5%% per full 5 working days after the first %d).", [r.id, r.days_late, r.deduction_rate, delay.deduction_after]),
} if {
	some r in milestone_rows
	not r.cancelled
	dec.gt(r.deduction_rate, "0")
}

cancelled if {
	some r in milestone_rows
	r.cancelled
}

reasons contains {
	"rule": "DEL-06", "code": "DEL_SUBSIDY_CANCELLED",
	"message": sprintf("Milestone %s is %d working days late, more than %d: the subsidy is cancelled.", [r.id, r.days_late, delay.cancel_after]),
} if {
	some r in milestone_rows
	r.cancelled
}

# Per-milestone deductions add up, at most the whole subsidy.
deduction_rate := dec.min("1", dec.sum([r.deduction_rate | some r in milestone_rows]))

# ---------------------------------------------------------------- DEL-13: confirmation e-mail

email := object.get(req, "confirmation_email", null)

domain(addr) := lower(parts[count(parts) - 1]) if {
	parts := split(addr, "@")
	count(parts) == 2
} else := ""

public(addr) if domain(addr) in {lower(d) | some d in terms.public_email_domains}

lower_set(xs) := {lower(x) | some x in xs}

reasons contains {
	"rule": "DEL-13", "code": "DEL_EMAIL_PUBLIC_SENDER",
	"message": sprintf("The confirmation comes from %s, a public mailbox; it must come from the customer's company mailbox.", [email.sender]),
} if {
	public(email.sender)
}

reasons contains {
	"rule": "DEL-13", "code": "DEL_EMAIL_SENDER_NOT_CUSTOMER",
	"message": sprintf("The sender %s is not on the customer's company domain (%s).", [email.sender, concat(", ", project.customer_email_domains)]),
} if {
	email != null
	not public(email.sender)
	not domain(email.sender) in lower_set(project.customer_email_domains)
}

reasons contains {
	"rule": "DEL-13", "code": "DEL_EMAIL_SENDER_NOT_DECISION_MAKER",
	"message": "The sender must be a key decision-maker of the customer.",
} if {
	email != null
	not email.sender_is_key_decision_maker
}

reasons contains {
	"rule": "DEL-13", "code": "DEL_EMAIL_NO_CONFIRMATION",
	"message": "The e-mail body must confirm the SOW or accept the project's work.",
} if {
	email != null
	not email.confirms_sow_or_acceptance
}

reasons contains {
	"rule": "DEL-13", "code": "DEL_EMAIL_PUBLIC_RECIPIENT",
	"message": sprintf("The recipient %s is a public mailbox; it must be the delivering partner's company mailbox.", [email.recipient]),
} if {
	public(email.recipient)
}

reasons contains {
	"rule": "DEL-13", "code": "DEL_EMAIL_RECIPIENT_NOT_PARTNER",
	"message": sprintf("The recipient %s is not on your company domain (%s).", [email.recipient, concat(", ", project.partner_email_domains)]),
} if {
	email != null
	not public(email.recipient)
	not domain(email.recipient) in lower_set(project.partner_email_domains)
}

reasons contains {
	"rule": "DEL-13", "code": "DEL_EMAIL_RECIPIENT_ROLE",
	"message": "The recipient must be your project manager or a key decision-maker.",
} if {
	email != null
	not email.recipient_role in {"project_manager", "key_decision_maker"}
}

# ---------------------------------------------------------------- amount

rate := terms.person_day_rate

reasons contains {
	"rule": "DEL-04", "code": "DEL_RATE_NOT_CONFIGURED", "effect": "refer",
	"message": "The subsidy per person-day is not configured (delivery.terms person_day_rate).",
} if {
	rate == null
}

outcome := lib.outcome(reasons)

default base := null

base := dec.round(dec.mul(rate, eligible_days), 2) if {
	rate != null
	not cancelled
}

default deduction := null

deduction := dec.round(dec.mul(base, deduction_rate), 2) if base != null

default subsidy := null

subsidy := dec.fixed(dec.sub(base, deduction), 2) if {
	outcome == "allow"
	base != null
}

fixed_or_null(x) := dec.fixed(x, 2) if {
	x != null
} else := null

decision := {
	"outcome": outcome,
	"reasons": [r | some r in reasons],
	"outputs": {
		"cap": null,
		"large_project": large_project_flag,
		"eligible_person_days": dec.fixed(eligible_days, 2),
		"excluded": excluded,
		"milestones": milestone_rows,
		"deduction_rate": deduction_rate,
		"base": fixed_or_null(base),
		"deduction": fixed_or_null(deduction),
		"subsidy": subsidy,
		"verdict": lib.verdict(outcome),
	},
}

large_project_flag if {
	large_project
} else := false
