# Opportunity actions (rules-partner.md §G.3). An opportunity is a PO when the partner shared it with HC
# and an HO when HC shared it with the partner, whatever the contribution (OPP-01). Any PCE member
# submits POs (OPP-02); a PO is edited only as a draft and never withdrawn once submitted (OPP-04); a PO
# rejected as incomplete or invalid is completed and resubmitted, a duplicate is not (OPP-05). An HO is
# accepted or rejected by 23:59:59 of the 3rd working day after the day it was shared, on the PRC
# working-day calendar (OPP-07 with AMB-11); otherwise it has expired.
package arbiter.partner.opportunity_action

req := input.request

opp := input.facts.opportunity

cfg := input.rules.org

kind := "PO" if {
	opp.shared_by == "partner"
} else := "HO"

po_actions := {"submit", "edit", "withdraw", "resubmit"}

reasons contains {"code": "NOT_YOUR_OPPORTUNITY", "rule": "OPP-01", "message": sprintf("Opportunity %s is not partner %s's.", [opp.id, req.partner_id])} if {
	opp.partner_id != req.partner_id
}

reasons contains {"code": "WRONG_OPPORTUNITY_KIND", "rule": "OPP-01", "message": sprintf("%s is an %s (shared by %s); %s does not apply to it.", [opp.id, kind, opp.shared_by, req.action])} if {
	kind == "HO"
	req.action in po_actions
}

reasons contains {"code": "WRONG_OPPORTUNITY_KIND", "rule": "OPP-01", "message": sprintf("%s is a PO (shared by the partner); only an HO is accepted or rejected.", [opp.id])} if {
	kind == "PO"
	not req.action in po_actions
}

pce_member if {
	some p in input.facts.plans
	p.plan == "pce"
	p.status == "active"
}

reasons contains {"code": "NOT_PCE_MEMBER", "rule": "OPP-02", "message": "Only members of the co-expansion plan (PCE) submit POs."} if {
	kind == "PO"
	req.action in {"submit", "resubmit"}
	not pce_member
}

# OPP-03: a PO states the customer, need, pain point, budget and procurement plan, has the customer's
# authorisation, and is a purchase expected within a year or early procurement planning.
missing_content := [c | some c in cfg.po_required_content; not c in opp.content]

reasons contains {"code": "PO_INCOMPLETE", "rule": "OPP-03", "message": sprintf("PO %s does not state %s clearly.", [opp.id, concat(", ", missing_content)])} if {
	kind == "PO"
	req.action in {"submit", "resubmit"}
	count(missing_content) > 0
}

reasons contains {"code": "CUSTOMER_NOT_AUTHORISED", "rule": "OPP-03", "message": "The customer's authorisation is obtained before a PO is submitted."} if {
	kind == "PO"
	req.action in {"submit", "resubmit"}
	not opp.customer_authorised
}

within_horizon if opp.early_planning

within_horizon if {
	opp.expected_purchase_on != null
	opp.expected_purchase_on <= cal.add_months(today, cfg.opportunity_horizon_months)
}

reasons contains {"code": "NOT_AN_OPPORTUNITY", "rule": "OPP-03", "message": sprintf("A PO is a purchase expected within %d months or early procurement planning.", [cfg.opportunity_horizon_months])} if {
	kind == "PO"
	req.action in {"submit", "resubmit"}
	not within_horizon
}

reasons contains {"code": "NOT_DRAFT", "rule": "OPP-04", "message": sprintf("PO %s is %s; only a draft is edited or submitted.", [opp.id, opp.status])} if {
	kind == "PO"
	req.action in {"edit", "submit"}
	opp.status != "draft"
	not resubmittable_edit
}

# OPP-05: a PO rejected as incomplete or invalid is completed (edited) before it is resubmitted.
resubmittable_edit if {
	req.action == "edit"
	opp.status == "rejected"
	opp.reject_reason in {"incomplete", "invalid"}
}

reasons contains {"code": "NO_WITHDRAWAL", "rule": "OPP-04", "message": sprintf("PO %s has been submitted: it cannot be withdrawn; the PDM may reject it for resubmission.", [opp.id])} if {
	kind == "PO"
	req.action == "withdraw"
	opp.status != "draft"
}

reasons contains {"code": "NOT_REJECTED", "rule": "OPP-05", "message": sprintf("PO %s is %s; only a rejected PO is resubmitted.", [opp.id, opp.status])} if {
	kind == "PO"
	req.action == "resubmit"
	opp.status != "rejected"
}

reasons contains {"code": "DUPLICATE_NOT_RESUBMITTABLE", "rule": "OPP-05", "message": sprintf("PO %s was rejected as a duplicate; it cannot be resubmitted.", [opp.id])} if {
	kind == "PO"
	req.action in {"resubmit", "edit"}
	opp.status == "rejected"
	not opp.reject_reason in {"incomplete", "invalid"}
}

# OPP-07 with AMB-11.
shared_day := cal.beijing_date(opp.shared_at) if opp.shared_at != null

calendar_known if cal.can_add_working_days(input.rules.calendar, shared_day, cfg.ho_accept_working_days)

deadline_day := cal.add_working_days(input.rules.calendar, shared_day, cfg.ho_accept_working_days) if calendar_known

today := cal.beijing_date(input.now)

reasons contains {"code": "NOT_PENDING_ACCEPTANCE", "rule": "OPP-07", "message": sprintf("HO %s is %s, not awaiting acceptance.", [opp.id, opp.status])} if {
	kind == "HO"
	not req.action in po_actions
	opp.status != "pending_accept"
}

reasons contains {"code": "HO_EXPIRED", "rule": "OPP-07", "message": sprintf("HO %s shared on %s expired after %s 23:59:59 (%d working days).", [opp.id, shared_day, deadline_day, cfg.ho_accept_working_days])} if {
	kind == "HO"
	not req.action in po_actions
	today > deadline_day
}

reasons contains {"code": "CALENDAR_NOT_PUBLISHED", "rule": "OPP-07", "effect": "refer", "message": sprintf("The working-day calendar (calendar.prc_workdays) does not publish the days after %s yet.", [shared_day])} if {
	kind == "HO"
	not req.action in po_actions
	shared_day
	not calendar_known
}

reasons contains {"code": "NOT_SHARED", "rule": "OPP-07", "message": sprintf("HO %s has no share time.", [opp.id])} if {
	kind == "HO"
	not req.action in po_actions
	opp.shared_at == null
}

deadline := sprintf("%sT23:59:59+08:00", [deadline_day]) if {
	deadline_day
} else := null

decision := {
	"reasons": reasons,
	"outputs": {"kind": kind, "accept_deadline": deadline},
}
