package arbiter.mdf.lib

# MDF application rules (rules-benefits.md §A1-§A4), shared by mdf.application (the check) and
# mdf.apply (the commit that consumes the budget).

import data.arbiter.mdf.approval

req := input.request

partner := input.facts.partner

caps := input.rules.caps

timing := input.rules.timing

elig := input.rules.eligibility

types := input.rules.activity_types.types

workdays := input.rules.calendar

basis := req.funding_basis

year := req.budget_year

year_text := format_int(year, 10)

# budget_key is the ledger key of this partner's yearly quota on this basis; it equals the commit lock.
budget_key := sprintf("mdf_budget:%s:%s:%s", [req.partner_id, basis, year_text])

path_bases := {"software", "service", "si", "lp"}

# ---------------------------------------------------------------- cap (MDF-11, MDF-12, MDF-14)

path_row := p if {
	basis in path_bases
	some p in input.facts.paths
	p.path == basis
}

plan_row(name) := p if {
	some p in input.facts.plans
	p.plan == name
	p.status == "active"
}

# AMB-10: the contracted region of a regional distributor, else its registered province.
distributor_province := p.contract_province if {
	p := plan_row("distribution")
	p.contract_province != null
} else := partner.registered_province

region_class := c if {
	some c, provinces in caps.distributor_region_classes
	distributor_province in provinces
} else := caps.default_region_class if {
	distributor_province != null
}

# cap_level names the stage, level or region class whose cap applies (MDF-14: the one held now).
default cap_level := null

cap_level := path_row.stage if basis in path_bases

cap_level := plan_row("solution_provider").level if basis == "solution_provider"

cap_level := sprintf("%s_%s", [plan_row("distribution").level, region_class]) if basis == "distributor"

table_cap := caps.paths[basis][cap_level] if basis in path_bases

table_cap := caps.solution_provider[cap_level] if basis == "solution_provider"

table_cap := caps.distributor[cap_level] if basis == "distributor"

budget_row := b if {
	some b in input.facts.budgets
	b.funding_basis == basis
	b.year == year
}

default cap := null

cap := budget_row.cap_override if {
	budget_row.cap_override != null
} else := table_cap

# ---------------------------------------------------------------- usage (MDF-13, GEN-01)

# Ledger rows of this application itself (an earlier commit of the same id) are not counted twice.
other_usage := [r.amount | some r in input.facts.usage; r.idempotency_key != req.application_id]

already_committed if {
	some r in input.facts.usage
	r.idempotency_key == req.application_id
}

used_outside := budget_row.used_outside if {
	budget_row.used_outside != null
} else := "0"

used := dec.add(used_outside, dec.sum(other_usage))

requested := req.requested_amount

default remaining := null

remaining := dec.max("0", dec.sub(cap, used)) if cap != null

# ---------------------------------------------------------------- activities and dates

acts := req.activities

session_value(a, field) := object.get(a, field, object.get(req, field, null))

first_start := min({a.start_date | some a in acts})

last_end := max({a.end_date | some a in acts})

last_start := max({a.start_date | some a in acts})

# mdf.apply (a commit) is submitted at its own instant; mdf.application checks a planned submitted_at.
submitted_on := cal.beijing_date(object.get(req, "submitted_at", input.now))

calendar_known := cal.covers(workdays, submitted_on, first_start)

# AMB-21: without the calendar of those days the lead time is not counted at all, not guessed.
lead_days := cal.working_days(workdays, submitted_on, first_start) if {
	calendar_known
} else := null

late if {
	calendar_known
	lead_days < timing.lead_working_days
}

has_text(s) if trim_space(s) != ""

late_reason_given if has_text(object.get(req, "late_reason", ""))

approved_on := cal.beijing_date(req.approval_completed_at) if {
	req.approval_completed_at
} else := null

series if count(acts) > 1

series_window_end := cal.months_later(first_start, timing.series_max_months)

# ---------------------------------------------------------------- reasons

reasons contains {
	"rule": "MDF-01", "code": "MDF_NO_BUSINESS_INFO_CERT",
	"message": "Only a partner that has passed business-information certification may apply for MDF.",
} if {
	not partner.business_info_certified
}

reasons contains {
	"rule": "MDF-10", "code": "MDF_PARTNER_BANNED_FOR_YEAR",
	"message": sprintf("Your MDF eligibility for %s was cancelled after a false, split or duplicate claim.", [year_text]),
} if {
	year_text in partner.mdf_banned_years
}

reasons contains {
	"rule": "MDF-11", "code": "MDF_NO_CAP_FOR_STAGE",
	"message": no_cap_message,
} if {
	cap == null
}

no_cap_message := sprintf("You are not on the %s path, so it gives you no MDF quota.", [basis]) if {
	basis in path_bases
	not path_row
} else := sprintf("The %s path gives no MDF quota at the %s stage.", [basis, path_row.stage]) if {
	basis in path_bases
} else := sprintf("You hold no active %s plan with an MDF quota.", [basis]) if {
	basis == "solution_provider"
	not plan_row("solution_provider")
} else := sprintf("The Solution Provider level %v has no MDF quota.", [plan_row("solution_provider").level]) if {
	basis == "solution_provider"
} else := "You hold no active distribution plan with an MDF quota." if {
	not plan_row("distribution")
} else := "Your distribution region is unknown, so no MDF quota can be set." if {
	not region_class
} else := sprintf("A %v general distributor in region %s has no MDF quota.", [plan_row("distribution").level, region_class])

reasons contains {
	"rule": "MDF-13", "code": "MDF_AMOUNT_NOT_POSITIVE",
	"message": "The requested amount must be more than zero.",
} if {
	dec.lte(requested, "0")
}

reasons contains {
	"rule": "MDF-13", "code": "MDF_CAP_EXCEEDED",
	"message": sprintf("You requested %s but only %s of your %s %s MDF quota of %s is left.", [dec.fixed(requested, 2), dec.fixed(remaining, 2), year_text, basis, dec.fixed(cap, 2)]),
} if {
	cap != null
	dec.gt(dec.add(used, requested), cap)
}

reasons contains {
	"rule": "MDF-03", "code": "MDF_SOLUTION_NOT_RELEASED",
	"message": sprintf("Solution %s must be built and released on Huawei Cloud (a launched baseline solution or a listed joint-operation product) before it can be used for MDF.", [sid]),
} if {
	basis in elig.solution_release_required_for
	some sid in object.get(req, "solution_ids", [])
	not solution_released(sid)
}

solution_released(sid) if {
	some s in input.facts.solutions
	s.id == sid
	s.built_and_released
}

reasons contains {
	"rule": "MDF-06", "code": "MDF_SI_JOINT_ELEMENT_MISSING", "effect": "refer",
	"message": "An SI activity should include a joint customer-facing showcase or a joint white paper; the ecosystem manager will review it.",
} if {
	basis == "si"
	elig.si_joint_element == "manual_review"
	not object.get(req, "si_joint_showcase", false)
	not object.get(req, "si_joint_white_paper", false)
}

reasons contains {
	"rule": "MDF-07", "code": "MDF_LP_BUSINESS_NOT_AUTHORISED",
	"message": "Learning & Enablement MDF may only promote the training or certification business you are authorised for.",
} if {
	basis == "lp"
	elig.lp_requires_authorised_business
	not object.get(req, "promotes_authorised_business", false)
}

reasons contains {
	"rule": "MDF-08", "code": "MDF_AUDIENCE_NOT_ELIGIBLE",
	"message": sprintf("MDF must be spent entirely on activities for your customers or partners, not for audience %q.", [aud]),
} if {
	some aud in ({session_value(a, "audience") | some a in acts} | {req.audience})
	not aud in elig.eligible_audiences
}

reasons contains {
	"rule": "MDF-08", "code": "NEEDS_INFO_OVER_STANDARD_REASON", "effect": "refer",
	"message": "Costs above the standard need a stated reason in the application.",
} if {
	object.get(req, "exceeds_cost_standard", false)
	not has_text(object.get(req, "over_standard_reason", ""))
}

reasons contains {
	"rule": "MDF-09", "code": "MDF_ACTIVITY_TYPE_NOT_COVERED",
	"message": sprintf("Activity type %q is not one of the MDF activity types.", [t]),
} if {
	some t in ({session_value(a, "activity_type") | some a in acts} | {req.activity_type})
	not types[t]
}

reasons contains {
	"rule": "MDF-20", "code": "CALENDAR_NOT_CONFIGURED", "effect": "refer",
	"message": sprintf("The working-day calendar does not cover %s to %s yet, so the lead time cannot be counted.", [submitted_on, first_start]),
} if {
	not calendar_known
}

reasons contains {
	"rule": "MDF-20", "code": "NEEDS_INFO_LATE_REASON", "effect": "refer",
	"message": sprintf("The application was submitted %d working days before the activity; at least %d are required, so please explain why it is late.", [lead_days, timing.lead_working_days]),
} if {
	late
	not late_reason_given
}

reasons contains {
	"rule": "MDF-20", "code": "LATE_WITH_REASON", "effect": "note",
	"message": sprintf("Submitted %d working days before the activity (fewer than %d); the approver will see your reason.", [lead_days, timing.lead_working_days]),
} if {
	late
	late_reason_given
}

reasons contains {
	"rule": "MDF-21", "code": "ACTIVITY_DATES_INVALID",
	"message": sprintf("A session cannot end (%s) before it starts (%s).", [a.end_date, a.start_date]),
} if {
	some a in acts
	a.end_date < a.start_date
}

reasons contains {
	"rule": "MDF-21", "code": "MDF_SERIES_NOT_COMBINABLE",
	"message": sprintf("Sessions of one application must share the same %s.", [concat(", ", differing)]),
} if {
	series
	count(differing) > 0
}

differing contains label if {
	some field, label in {"audience": "target audience", "activity_type": "activity type", "approving_dept": "approving department"}
	count({session_value(a, field) | some a in acts}) > 1
}

reasons contains {
	"rule": "MDF-21", "code": "MDF_SERIES_NOT_COMBINABLE",
	"message": sprintf("A combined series may span at most %d months: it starts %s, so it must end before %s, but ends %s.", [timing.series_max_months, first_start, series_window_end, last_end]),
} if {
	series
	timing.series_window == "rolling"
	last_end >= series_window_end
}

reasons contains {
	"rule": "MDF-21", "code": "MDF_SERIES_NOT_COMBINABLE",
	"message": sprintf("A combined series must stay within one calendar quarter: it starts %s and ends %s.", [first_start, last_end]),
} if {
	series
	timing.series_window == "calendar_quarter"
	cal.quarter_start(first_start) != cal.quarter_start(last_end)
}

# MDF-23, MDF-25, MDF-26: the same judgement as at settlement (mdf.claim).
reasons contains r if {
	some r in approval.reasons(
		{
			"year": year, "approved_on": approved_on, "submitted_on": submitted_on,
			"first_start": first_start, "last_start": last_start, "last_end": last_end,
		},
		timing,
	)
}

reasons contains {
	"rule": "MDF-24", "code": "MDF_OUTSIDE_BUDGET_YEAR",
	"message": sprintf("The %s budget can only fund activities held from %s-01-01.", [year_text, year_text]),
} if {
	first_start < sprintf("%s-01-01", [year_text])
}

# ---------------------------------------------------------------- answer

outcome := "deny" if {
	some r in reasons
	object.get(r, "effect", "deny") == "deny"
} else := "refer" if {
	some r in reasons
	r.effect == "refer"
} else := "allow"

verdict := {"deny": "REJECT", "refer": "NEEDS_INFO", "allow": "ALLOW"}[outcome] if {
	not manual_review_only
} else := "MANUAL_REVIEW"

manual_review_only if {
	outcome == "refer"
	every r in reasons {
		r.code in {"MDF_SI_JOINT_ELEMENT_MISSING", "LATE_WITH_REASON"}
	}
}

fixed_or_null(x) := dec.fixed(x, 2) if {
	x != null
} else := null

outputs := {
	"application_id": req.application_id,
	"partner_id": req.partner_id,
	"funding_basis": basis,
	"budget_year": year,
	"budget_key": budget_key,
	"cap_level": cap_level,
	"cap": fixed_or_null(cap),
	"used": dec.fixed(used, 2),
	"requested": dec.fixed(requested, 2),
	"remaining": fixed_or_null(remaining),
	"remaining_after": remaining_after,
	"already_committed": already_committed_flag,
	"working_days_before_activity": lead_days,
	"required_working_days": timing.lead_working_days,
	"late": late_flag,
	"first_activity_start": first_start,
	"last_activity_end": last_end,
	"sessions": count(acts),
	"verdict": verdict,
}

remaining_after := dec.fixed(dec.sub(remaining, requested), 2) if {
	outcome == "allow"
	remaining != null
} else := null

already_committed_flag if {
	already_committed
} else := false

late_flag if {
	late
} else := false
