# A customer-initiated unbind event is approved or rejected by the partner's admin role only (ASSOC-18).
# The account's system administrator holds every permission of the partner account (DISC-01), so it
# counts as admin here too.
package arbiter.partner.unbind_review

req := input.request

customer := input.facts.customer

reasons contains {"code": "ADMIN_ONLY", "rule": "ASSOC-18", "message": "Only the partner-admin role may approve or reject a customer's unbind application."} if {
	count({r | some r in req.operator_roles; r in {"admin", "system_admin"}}) == 0
}

reasons contains {"code": "NOT_PARTNER_CUSTOMER", "rule": "ASSOC-18", "message": sprintf("Customer %s is not associated with partner %s.", [customer.id, req.partner_id])} if {
	customer.associated_partner_id != req.partner_id
}

decision := {
	"reasons": reasons,
	"outputs": {"verdict": req.verdict, "association_ends": req.verdict == "approve"},
}
