package arbiter.mdf.claim

# Judge every line of an MDF settlement claim by the procedure of rules-benefits.md §A8, then the claim:
# activity gates (CLM-18), line rules (EXP-01..EXP-10, CLM-11..CLM-16, CLM-19, CLM-06), the cap at the
# approved amount (CLM-03..CLM-05), claim timing (CLM-01, CLM-02) and completeness (CLM-10..CLM-17).

import data.arbiter.mdf.approval

partner := input.facts.partner

app := input.facts.application

claim := input.facts.claim

exp := input.rules.expense_categories

timing := input.rules.timing

types := input.rules.activity_types.types

void_statuses := {"rejected", "withdrawn"}

acts := [a | some a in input.facts.activities; a.application_id == app.id]

lines := input.facts.lines

invoices := {i.id: i | some i in input.facts.invoices}

approved := app.requested_amount

default first_start := null

first_start := min({a.start_date | some a in acts})

default last_end := null

last_end := max({a.end_date | some a in acts})

default last_start := null

last_start := max({a.start_date | some a in acts})

approved_on := cal.beijing_date(app.approval_completed_at) if {
	app.approval_completed_at != null
} else := null

claimed_on := cal.beijing_date(claim.submitted_at)

session_value(a, field) := a[field] if {
	a[field] != null
} else := app[field]

# ---------------------------------------------------------------- step 1: activity gates (CLM-18)

gates contains {
	"rule": "CLM-18", "code": "CLM_APPLICATION_MISMATCH",
	"message": sprintf("Claim %s belongs to application %v, not to %s.", [claim.id, claim.application_id, app.id]),
} if {
	claim.application_id != app.id
}

gates contains {
	"rule": "CLM-18", "code": "CLM_APPLICATION_MISMATCH",
	"message": sprintf("Application %s and claim %s are not %s's.", [app.id, claim.id, partner.id]),
} if {
	{app.partner_id, claim.partner_id} != {partner.id}
}

gates contains {
	"rule": "CLM-18", "code": "CLM_APPLICATION_MISMATCH",
	"message": sprintf("Application %s has no activity on record to settle.", [app.id]),
} if {
	count(acts) == 0
}

gates contains {
	"rule": "MDF-23", "code": "MDF_APPLICATION_NOT_APPROVED",
	"message": sprintf("Application %s has not completed approval, so nothing can be settled.", [app.id]),
} if {
	not app_approved
}

app_approved if {
	app.status == "approved"
	app.approval_completed_at != null
}

gates contains {
	"rule": "MDF-22", "code": "MDF_CHANGED_WITHOUT_REAPPLICATION",
	"message": "The activity's time, place, audience or format changed and no new application was submitted before it took place.",
} if {
	app.key_info_changed
	not app.resubmitted_before_activity
}

# MDF-23, MDF-25, MDF-26: the same judgement as when the application was made (mdf.application).
gates contains r if {
	some r in approval.reasons(
		{
			"year": app.budget_year, "approved_on": approved_on, "submitted_on": null,
			"first_start": first_start, "last_start": last_start, "last_end": last_end,
		},
		timing,
	)
}

gates contains {
	"rule": "MDF-09", "code": "MDF_ACTIVITY_TYPE_NOT_COVERED",
	"message": sprintf("Activity type %q is not one of the MDF activity types.", [t]),
} if {
	some t in ({session_value(a, "activity_type") | some a in acts} | {app.activity_type})
	not types[t]
}

# CLM-06: one activity is settled by one claim. A claim is a split or a duplicate when an earlier live
# claim settles the same application, or another application's claim settles the same event.
gates contains {
	"rule": "CLM-06", "code": "CLM_SPLIT_OR_DUPLICATE",
	"message": sprintf("Application %s was already claimed in claim %s; one activity may not be claimed in several submissions.", [app.id, c.id]),
} if {
	some c in input.facts.claims
	c.application_id == app.id
	earlier_live(c)
}

gates contains {
	"rule": "CLM-06", "code": "CLM_SPLIT_OR_DUPLICATE",
	"message": sprintf("Event %s was already claimed under application %s (claim %s); one activity may not be claimed under several programmes.", [a.event_ref, b.application_id, c.id]),
} if {
	some a in acts
	a.event_ref != null
	some b in input.facts.activities
	b.event_ref == a.event_ref
	b.application_id != app.id
	some c in input.facts.claims
	c.application_id == b.application_id
	earlier_live(c)
}

earlier_live(c) if {
	c.id != claim.id
	not c.status in void_statuses
	submitted_before(c, claim)
}

submitted_before(a, b) if time.parse_rfc3339_ns(a.submitted_at) < time.parse_rfc3339_ns(b.submitted_at)

submitted_before(a, b) if {
	time.parse_rfc3339_ns(a.submitted_at) == time.parse_rfc3339_ns(b.submitted_at)
	a.id < b.id
}

gated if count(gates) > 0

# ---------------------------------------------------------------- steps 2-7: line findings

# The disallowed rows by category, indexed once.
disallowed_by_category := {cat: r | some r in exp.disallowed; some cat in r.categories}

disallowed_row(cat) := disallowed_by_category[cat]

# The line predicates below are true or false, never undefined: the evaluator remembers a function's
# value for its arguments, but not its failure, so a predicate read by several rules is judged once per
# line only when it is total.
apparel(l) := l.category in exp.apparel_categories

gift_like(l) if {
	l.category in exp.gift_categories
} else if {
	l.category in exp.prize_categories
} else if {
	apparel(l)
	exp.apparel_as_marketing_material
	l.branded
} else := false

prize(l) if {
	l.category in exp.prize_categories
} else if {
	l.is_prize
} else := false

known_category(cat) if {
	cat in exp.allowed
} else if {
	disallowed_row(cat)
} else := false

line_label(l) := sprintf("Line %s (%s, %s)", [l.id, l.category, dec.fixed(l.amount, 2)])

# findings: {line, kind: reject | partial | needs_info, rule, code, message}
findings contains {
	"line": l.id, "kind": "reject", "rule": "MDF-23", "code": "MDF_ACTIVITY_BEFORE_APPROVAL",
	"message": sprintf("%s: the cost was incurred before the application was approved.", [line_label(l)]),
} if {
	some l in lines
	l.incurred_before_approval
}

findings contains {
	"line": l.id, "kind": "reject", "rule": r.rule, "code": r.code,
	"message": sprintf("%s: %s cannot be claimed from MDF.", [line_label(l), r.label]),
} if {
	some l in lines
	r := disallowed_row(l.category)
}

# EXP-10 / AMB-17: apparel is a marketing material only when activity-branded (and the switch is on).
findings contains {
	"line": l.id, "kind": "reject", "rule": "EXP-08", "code": "PERSONAL",
	"message": sprintf("%s: clothing that is not activity-branded marketing material is a personal item.", [line_label(l)]),
} if {
	some l in lines
	apparel(l)
	not gift_like(l)
}

findings contains {
	"line": l.id, "kind": "needs_info", "rule": "MDF-08", "code": "CLM_CATEGORY_UNKNOWN",
	"message": sprintf("%s: the cost category is not a known MDF category and will be reviewed.", [line_label(l)]),
} if {
	some l in lines
	not known_category(l.category)
}

findings contains {
	"line": l.id, "kind": "reject", "rule": "EXP-01a", "code": "GIFT_ROUTINE_OR_UNRELATED",
	"message": sprintf("%s: gifts for routine customer visits or not tied to this activity are not settled.", [line_label(l)]),
} if {
	some l in lines
	gift_like(l)
	true in {l.gift_routine_visit, l.gift_unrelated_to_activity}
}

findings contains {
	"line": l.id, "kind": "reject", "rule": "EXP-01b", "code": "GIFT_TARGETED",
	"message": sprintf("%s: gifts may not be given to designated individuals.", [line_label(l)]),
} if {
	some l in lines
	gift_like(l)
	l.gift_targeted
}

findings contains {
	"line": l.id, "kind": "reject", "rule": "EXP-01c", "code": "GIFT_TO_STAFF",
	"message": sprintf("%s: gifts may not go to Huawei staff or to event staff.", [line_label(l)]),
} if {
	some l in lines
	gift_like(l)
	l.gift_recipient_type in exp.staff_recipient_types
}

large_gift_threshold := exp.large_gift_thresholds[partner.site]

findings contains {
	"line": l.id, "kind": "reject", "rule": "EXP-01e", "code": "GIFT_HIGH_VALUE",
	"message": sprintf("%s: a gift of %s each is above the regional high-value limit of %s.", [line_label(l), dec.fixed(l.gift_unit_value, 2), dec.fixed(large_gift_threshold, 2)]),
} if {
	some l in lines
	gift_like(l)
	l.gift_unit_value != null
	dec.gt(l.gift_unit_value, large_gift_threshold)
}

# EXP-01e: the high-value standard is set by each region; where the claim's region has none configured
# a gift cannot be judged, so it is referred naming the missing setting, never paid unchecked.
findings contains {
	"line": l.id, "kind": "needs_info", "rule": "EXP-01e", "code": "GIFT_THRESHOLD_NOT_CONFIGURED",
	"message": sprintf("%s: no high-value gift limit is configured for region %v (mdf.expense_categories large_gift_thresholds.%v), so the gift is referred for review.", [line_label(l), partner.site, partner.site]),
} if {
	some l in lines
	gift_like(l)
	not large_gift_threshold
}

findings contains {
	"line": l.id, "kind": "needs_info", "rule": "EXP-01e", "code": "NEEDS_INFO_GIFT_UNIT_VALUE",
	"message": sprintf("%s: state the unit value of the gifts, so it can be checked against the regional high-value limit of %s.", [line_label(l), dec.fixed(large_gift_threshold, 2)]),
} if {
	some l in lines
	gift_like(l)
	l.gift_unit_value == null
}

findings contains {
	"line": l.id, "kind": "needs_info", "rule": "EXP-01d", "code": "NEEDS_INFO_GIFT_QUANTITIES",
	"message": sprintf("%s: state how many gifts were bought and how many were handed out.", [line_label(l)]),
} if {
	some l in lines
	gift_like(l)
	not gift_quantities_known(l)
}

gift_quantities_known(l) if {
	l.gift_qty_purchased != null
	l.gift_qty_distributed != null
	l.gift_qty_purchased > 0
	l.gift_qty_distributed >= 0
	l.gift_qty_distributed <= l.gift_qty_purchased
} else := false

undistributed(l) if {
	gift_like(l)
	gift_quantities_known(l)
	l.gift_qty_distributed < l.gift_qty_purchased
} else := false

findings contains {
	"line": l.id, "kind": "partial", "rule": "EXP-01d", "code": "GIFT_UNDISTRIBUTED",
	"message": sprintf("%s: only %d of %d gifts were handed out; the %d left over are not settled.", [line_label(l), l.gift_qty_distributed, l.gift_qty_purchased, l.gift_qty_purchased - l.gift_qty_distributed]),
} if {
	some l in lines
	undistributed(l)
}

findings contains {
	"line": l.id, "kind": "needs_info", "rule": "CLM-12", "code": "NEEDS_INFO_GIFT_PHOTOS",
	"message": sprintf("%s: attach a photo of the award or lucky draw.", [line_label(l)]),
} if {
	some l in lines
	gift_like(l)
	prize(l)
	not l.gift_award_photo
}

findings contains {
	"line": l.id, "kind": "needs_info", "rule": "CLM-12", "code": "NEEDS_INFO_GIFT_PHOTOS",
	"message": sprintf("%s: attach a photo of the gifts laid out on site.", [line_label(l)]),
} if {
	some l in lines
	gift_like(l)
	not prize(l)
	not l.gift_display_photo
}

findings contains {
	"line": l.id, "kind": "reject", "rule": "CLM-16", "code": "CLM_SPONSORSHIP_NO_CONTRACT",
	"message": sprintf("%s: a sponsorship fee needs the scanned, stamped sponsorship contract.", [line_label(l)]),
} if {
	some l in lines
	l.category in exp.sponsorship_categories
	not l.sponsorship_contract_scan
}

findings contains {
	"line": l.id, "kind": "needs_info", "rule": "CLM-16", "code": "NEEDS_INFO_SPONSORSHIP_EVIDENCE",
	"message": sprintf("%s: %d of the %d sponsorship benefits in the contract have evidence; attach the rest.", [line_label(l), l.sponsorship_benefits_evidenced, l.sponsorship_benefits_listed]),
} if {
	some l in lines
	l.category in exp.sponsorship_categories
	l.sponsorship_contract_scan
	l.sponsorship_benefits_evidenced < l.sponsorship_benefits_listed
}

findings contains {
	"line": l.id, "kind": "reject", "rule": "CLM-11", "code": "CLM_RECEIPT_CATEGORY_MISMATCH",
	"message": sprintf("%s: the stamped receipt says %q but the cost was %q; explain the difference and attach the ecosystem owner's confirmation e-mail.", [line_label(l), l.receipt_category, l.actual_category]),
} if {
	some l in lines
	l.receipt_category != null
	l.actual_category != null
	l.receipt_category != l.actual_category
	not mismatch_confirmed(l)
}

mismatch_confirmed(l) if {
	l.mismatch_explained
	l.mismatch_confirm_email
}

line_invoice(l) := invoices[l.invoice_id] if l.invoice_id != null

findings contains {
	"line": l.id, "kind": "needs_info", "rule": "CLM-13", "code": "NEEDS_INFO_INVOICE",
	"message": sprintf("%s: attach the invoice for this cost.", [line_label(l)]),
} if {
	some l in lines
	not line_invoice(l)
}

findings contains {
	"line": l.id, "kind": "reject", "rule": "CLM-13", "code": "CLM_INVOICE_TITLE_MISMATCH",
	"message": sprintf("%s: the invoice is made out to %q; it must be made out to %q, the partner that ran the activity.", [line_label(l), inv.title, partner.legal_name]),
} if {
	some l in lines
	inv := line_invoice(l)
	not partner.is_overseas
	inv.title != partner.legal_name
}

# Amount claimed against each invoice in this claim (several lines may share one invoice).
lines_by_invoice := coll.group_by(lines, "invoice_id")

invoice_claimed[id] := dec.sum([l.amount | some l in object.get(lines_by_invoice, id, [])]) if {
	some id, _ in invoices
}

invoice_short(l) if {
	not partner.is_overseas
	inv := line_invoice(l)
	dec.lt(inv.amount, invoice_claimed[inv.id])
} else := false

findings contains {
	"line": l.id, "kind": "reject", "rule": "CLM-14", "code": "CLM_INVOICE_BELOW_CLAIM",
	"message": sprintf("%s: invoice %v is for %s, less than the %s claimed against it.", [line_label(l), inv.number, dec.fixed(inv.amount, 2), dec.fixed(invoice_claimed[inv.id], 2)]),
} if {
	timing.invoice_below_claim == "reject"
	some l in lines
	invoice_short(l)
	inv := line_invoice(l)
}

findings contains {
	"line": l.id, "kind": "partial", "rule": "CLM-14", "code": "CLM_INVOICE_BELOW_CLAIM",
	"message": sprintf("%s: invoice %v is for %s, less than the %s claimed against it; only the invoiced amount is paid.", [line_label(l), inv.number, dec.fixed(inv.amount, 2), dec.fixed(invoice_claimed[inv.id], 2)]),
} if {
	timing.invoice_below_claim == "reduce"
	some l in lines
	invoice_short(l)
	inv := line_invoice(l)
}

findings contains {
	"line": l.id, "kind": "reject", "rule": "CLM-19", "code": "CLM_OVERSEAS_INVOICE_MISMATCH",
	"message": sprintf("%s: an overseas invoice must match the payment record exactly (%s).", [line_label(l), concat(", ", overseas_mismatches(l, inv))]),
} if {
	partner.is_overseas
	some l in lines
	inv := line_invoice(l)
	count(overseas_mismatches(l, inv)) > 0
}

overseas_mismatches(l, inv) := {field |
	some field, differs in {
		"company title": inv.title != partner.legal_name,
		"tax ID": inv.tax_id != partner.tax_id,
		"currency": inv.currency != claim.payment_currency,
		"amount": amount_differs(inv),
	}
	differs
}

amount_differs(inv) := false if {
	dec.eq(inv.amount, invoice_claimed[inv.id])
} else := true

findings contains {
	"line": l.id, "kind": "reject", "rule": "CLM-06", "code": "CLM_SPLIT_OR_DUPLICATE",
	"message": sprintf("%s: this cost was already claimed elsewhere (another claim, person or programme).", [line_label(l)]),
} if {
	some l in lines
	l.claimed_elsewhere
}

findings contains {
	"line": l.id, "kind": "reject", "rule": "CLM-06", "code": "CLM_SPLIT_OR_DUPLICATE",
	"message": sprintf("%s: invoice %v was already used in claim %v.", [line_label(l), inv.number, other.claim_id]),
} if {
	some l in lines
	inv := line_invoice(l)
	some other in input.facts.invoices
	other.number == inv.number
	other.claim_id != claim.id
	some c in input.facts.claims
	c.id == other.claim_id
	not c.status in void_statuses
}

# ---------------------------------------------------------------- step 8: line amounts

# The findings of each line, grouped once rather than searched for every line.
findings_by_line := coll.group_by(findings, "line")

line_findings(id) := object.get(findings_by_line, id, [])

line_kinds(id) := {f.kind | some f in line_findings(id)}

line_status(l) := "rejected" if {
	gated
} else := "rejected" if {
	"reject" in line_kinds(l.id)
} else := "needs_info" if {
	"needs_info" in line_kinds(l.id)
} else := "partial" if {
	"partial" in line_kinds(l.id)
} else := "allowed"

gift_ratio_amount(l, x) := dec.div(dec.mul(x, l.gift_qty_distributed), l.gift_qty_purchased) if {
	undistributed(l)
} else := x

invoice_ratio_amount(l, x) := dec.div(dec.mul(x, line_invoice(l).amount), invoice_claimed[l.invoice_id]) if {
	timing.invoice_below_claim == "reduce"
	invoice_short(l)
} else := x

line_allowed(l) := "0" if {
	line_status(l) == "rejected"
} else := dec.round(invoice_ratio_amount(l, gift_ratio_amount(l, l.amount)), 2)

line_results := [{
	"line_id": l.id,
	"category": l.category,
	"claimed": dec.fixed(l.amount, 2),
	"allowed": dec.fixed(line_allowed(l), 2),
	"status": line_status(l),
	"codes": line_codes(l),
} |
	some l in lines
]

line_codes(l) := [g.code | some g in gates] if {
	gated
} else := [f.code | some f in line_findings(l.id)]

# ---------------------------------------------------------------- step 9: claim level

claimed_total := dec.sum([l.amount | some l in lines])

allowed_total := dec.sum([line_allowed(l) | some l in lines])

claim_reasons contains {"rule": "CLM-18", "code": "CLM_NO_LINES", "message": "The claim has no cost lines."} if {
	count(lines) == 0
}

default claim_deadline := null

claim_deadline := cal.add_days(last_end, timing.claim_days_after_end) if last_end != null

late if {
	claim_deadline != null
	claimed_on > claim_deadline
}

claim_reasons contains {
	"rule": "CLM-01", "code": "CLM_LATE", "overridable": true,
	"message": sprintf("The claim was submitted on %s, after the %d days that ended on %s; it can only proceed with your manager's deferred-payment approval e-mail.", [claimed_on, timing.claim_days_after_end, claim_deadline]),
} if {
	late
	not claim.extension_approval_email
}

claim_reasons contains {
	"rule": "CLM-01", "code": "CLM_LATE_EXTENDED", "effect": "note",
	"message": sprintf("Submitted after %s with the deferred-payment approval e-mail attached.", [claim_deadline]),
} if {
	late
	claim.extension_approval_email
}

incomplete_until := cal.add_days(cal.beijing_date(claim.marked_incomplete_at), timing.incomplete_retention_days) if {
	claim.marked_incomplete_at != null
}

claim_reasons contains {
	"rule": "CLM-02", "code": "CLM_INCOMPLETE_EXPIRED", "overridable": true,
	"message": sprintf("The claim was incomplete and is kept only until %s; it is closed.", [incomplete_until]),
} if {
	incomplete_until
	cal.beijing_date(input.now) > incomplete_until
	not claim.extension_approval_email
}

needs := [
	["CLM-10", "NEEDS_INFO_PHOTOS", "Attach on-site photos (theme, Huawei elements, speaker, audience, each cost type) or substitutes such as contracts or screenshots.", not_has(claim.photos_or_substitute)],
	["CLM-15", "NEEDS_INFO_MEDIA_SUMMARY", "Attach the summary of media coverage and placements with contracts, screenshots or photos.", media_summary_missing],
	["CLM-16", "NEEDS_INFO_ACTIVITY_SUMMARY", "Attach the activity summary: time, place, participants, results and a self-assessment.", not_has(claim.activity_summary)],
	["CLM-16", "NEEDS_INFO_SIGN_IN", "Attach the attendee sign-in sheet, or say why there is none (e.g. WeChat check-in).", sign_in_missing],
	["CLM-16", "NEEDS_INFO_OPPORTUNITY_INFO", "Enter the opportunity information: the activity's audience includes end customers.", opportunity_missing],
	["CLM-16", "NEEDS_INFO_LESSONS_LEARNED", "Attach lessons learned and improvement suggestions.", not_has(claim.lessons_learned)],
	["CLM-16", "NEEDS_INFO_CUSTOMER_FEEDBACK", "Attach the attending customers' feedback.", not_has(claim.customer_feedback)],
	["CLM-17", "NEEDS_INFO_PER_SESSION_EVIDENCE", "A combined series needs each session's dates and separate evidence for every session.", per_session_missing],
	["MDF-08", "NEEDS_INFO_OVER_STANDARD_REASON", "Costs above the standard need a stated reason in the claim as well as the application.", over_standard_missing],
]

not_has(x) := x != true

media_summary_missing := not_has(claim.media_summary) if {
	advertising
} else := false

advertising if types[app.activity_type].advertising

advertising if {
	some l in lines
	l.category in exp.advertising_categories
}

sign_in_missing := false if {
	claim.sign_in_sheet
} else := false if {
	has_text(claim.sign_in_missing_reason)
} else := true

opportunity_missing := not_has(claim.opportunity_info_entered) if {
	app.includes_end_customers
} else := false

per_session_missing if {
	count(acts) > 1
	some a in acts
	not a.evidence_attached
} else := false

over_standard_missing if {
	app.exceeds_cost_standard
	not has_text(claim.over_standard_reason)
} else := false

has_text(s) if {
	s != null
	trim_space(s) != ""
}

claim_reasons contains {"rule": n[0], "code": n[1], "effect": "refer", "message": n[2]} if {
	not gated
	some n in needs
	n[3] == true
}

claim_rejected if gated

claim_rejected if {
	some r in claim_reasons
	object.get(r, "effect", "deny") == "deny"
}

needs_info if {
	not claim_rejected
	some r in claim_reasons
	r.effect == "refer"
}

needs_info if {
	not claim_rejected
	some f in findings
	f.kind == "needs_info"
}

payable := "0" if {
	claim_rejected
} else := dec.min(allowed_total, approved)

over_applied := dec.max("0", dec.sub(allowed_total, approved)) if {
	not claim_rejected
} else := "0"

over_reasons contains {
	"rule": "CLM-03", "code": "CLM_OVER_APPLIED", "effect": "note",
	"message": sprintf("Claimable costs of %s exceed the approved %s; %s is paid and the excess is borne by you.", [dec.fixed(allowed_total, 2), dec.fixed(approved, 2), dec.fixed(payable, 2)]),
} if {
	not claim_rejected
	dec.gt(over_applied, "0")
}

returned := dec.sub(approved, payable) if {
	not claim_rejected
} else := null

outcome := "deny" if {
	claim_rejected
} else := "refer" if {
	needs_info
} else := "deny" if {
	dec.eq(payable, "0")
	count(lines) > 0
} else := "partial" if {
	dec.lt(payable, claimed_total)
} else := "allow"

verdict := {"deny": "REJECT", "refer": "NEEDS_INFO", "partial": "PARTIAL", "allow": "ALLOW"}[outcome]

effect_of := {"reject": "deny", "partial": "note", "needs_info": "refer"}

reasons := array.concat(
	array.concat([object.union(g, {"effect": "deny"}) | some g in gates], [r | some r in (claim_reasons | over_reasons)]),
	[{"rule": f.rule, "code": f.code, "message": f.message, "effect": effect_of[f.kind]} | not gated; some f in findings],
)

decision := {
	"outcome": outcome,
	"reasons": [object.remove(r, ["overridable"]) | some r in reasons],
	"outputs": {
		"claim_id": claim.id,
		"application_id": app.id,
		"approved_amount": dec.fixed(approved, 2),
		"claimed_total": dec.fixed(claimed_total, 2),
		"allowed_total": dec.fixed(allowed_total, 2),
		"payable": dec.fixed(payable, 2),
		"over_applied": dec.fixed(over_applied, 2),
		"not_payable": dec.fixed(dec.sub(claimed_total, payable), 2),
		"returned_to_quota": fixed_or_null(returned),
		"claim_deadline": claim_deadline,
		"overridable": overridable,
		"lines": line_results,
		"verdict": verdict,
	},
}

fixed_or_null(x) := dec.fixed(x, 2) if {
	x != null
} else := null

overridable if {
	some r in claim_reasons
	r.overridable
} else := false
