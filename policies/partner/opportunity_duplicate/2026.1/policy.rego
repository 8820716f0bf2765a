# Duplicate protection of opportunities (rules-partner.md §G.3). A PO (shared by a partner) is valid
# from its PDM approval, an HO (shared by HC) from its CRM creation (OPP-01, OPP-06). For one customer,
# a partner's opportunity and HC's compete; two partners' POs compete when the need is the same too. The
# earlier one is valid and the later the duplicate, HC and partners alike; at the same instant the one
# created first in the system wins, then the lower id (AMB-19).
package arbiter.partner.opportunity_duplicate

opp := input.facts.opportunity

kind(o) := "PO" if {
	o.shared_by == "partner"
} else := "HO"

start(o) := o.pdm_approved_at if {
	kind(o) == "PO"
} else := o.crm_created_at

live(o) if {
	start(o) != null
	not o.status in {"rejected", "expired", "draft"}
}

# HC against a partner: the same customer is enough; partner against partner: the same need too.
competes(o) if {
	o.id != opp.id
	kind(o) != kind(opp)
}

competes(o) if {
	o.id != opp.id
	kind(o) == "PO"
	kind(opp) == "PO"
	o.need_key != null
	o.need_key == opp.need_key
}

order_key(o) := [time.parse_rfc3339_ns(start(o)), time.parse_rfc3339_ns(o.created_at), o.id]

earlier := sort([[order_key(o), o.id] |
	some o in input.facts.same_customer
	live(o)
	competes(o)
	order_key(o) < order_key(opp)
])

reasons contains {"code": "NOT_YET_VALID", "rule": "OPP-06", "effect": "refer", "message": sprintf("%s %s has no validity start yet (%s).", [kind(opp), opp.id, by_kind])} if {
	start(opp) == null
}

by_kind := "PDM approval" if {
	kind(opp) == "PO"
} else := "CRM creation"

reasons contains {"code": "DUPLICATE_OPPORTUNITY", "rule": "OPP-06", "message": sprintf("%s %s is a duplicate of %s, valid earlier for the same customer.", [kind(opp), opp.id, earlier[0][1]])} if {
	start(opp) != null
	count(earlier) > 0
}

duplicate_of := earlier[0][1] if {
	start(opp) != null
	count(earlier) > 0
} else := null

decision := {
	"reasons": reasons,
	"outputs": {
		"kind": kind(opp),
		"valid_from": start(opp),
		"duplicate_of": duplicate_of,
	},
}
