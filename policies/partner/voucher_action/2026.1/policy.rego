# What a partner may do with a voucher once it holds quota or has issued it (rules-partner.md §E.1):
# an issued voucher never changes, an unused one may be reclaimed (activity vouchers excepted), and
# quota goes only to the partner's own customers, within its restrictions.
package arbiter.partner.voucher_action

req := input.request

voucher := input.facts.voucher

actor := input.facts.actor

customer := input.facts.customer[0] if count(input.facts.customer) > 0

issued if voucher.customer_id != null

# CPN-05: face value, scope and validity of an issued voucher are fixed.
reasons contains {"code": "VOUCHER_IMMUTABLE", "rule": "CPN-05", "message": "An issued voucher's face value, scope and validity cannot be changed; reclaim it if unused and issue a new one."} if {
	req.action == "edit"
	issued
}

# CPN-05 (PROPOSED): a used voucher cannot be reclaimed.
reasons contains {"code": "VOUCHER_USED_NOT_RECLAIMABLE", "rule": "CPN-05", "message": "A used voucher cannot be reclaimed."} if {
	req.action == "reclaim"
	voucher.used
}

# CPN-06: only the issuing partner reclaims, and only what was issued to that customer.
reasons contains {"code": "NOT_VOUCHER_ISSUER", "rule": "CPN-06", "message": sprintf("Partner %s did not issue voucher %s.", [req.partner_id, voucher.id])} if {
	req.action in {"edit", "reclaim"}
	voucher.partner_id != req.partner_id
}

reasons contains {"code": "VOUCHER_NOT_ISSUED", "rule": "CPN-06", "message": sprintf("Voucher %s was not issued to customer %s.", [voucher.id, req.customer_id])} if {
	req.action == "reclaim"
	voucher.customer_id != req.customer_id
}

# CPN-12: activity vouchers cannot be reclaimed once issued.
reasons contains {"code": "ACTIVITY_VOUCHER_NOT_RECLAIMABLE", "rule": "CPN-12", "message": "An activity voucher cannot be reclaimed once issued."} if {
	req.action == "reclaim"
	voucher.kind == "activity"
}

# CPN-07: quota is the partner's own, not spendable by it, and turns into vouchers for its customers only.
reasons contains {"code": "QUOTA_NOT_HELD", "rule": "CPN-07", "message": sprintf("Partner %s does not hold quota %s.", [req.partner_id, voucher.id])} if {
	req.action == "issue"
	voucher.partner_id != req.partner_id
}

reasons contains {"code": "VOUCHER_ALREADY_ISSUED", "rule": "CPN-07", "message": sprintf("Voucher %s is already issued; reclaim it first.", [voucher.id])} if {
	req.action == "issue"
	issued
}

reasons contains {"code": "QUOTA_NOT_FOR_OWN_USE", "rule": "CPN-07", "message": "A partner cannot spend its voucher quota itself."} if {
	req.action == "issue"
	req.customer_id == req.partner_id
}

reasons contains {"code": "NOT_PARTNER_CUSTOMER", "rule": "CPN-07", "message": sprintf("Customer %s is not associated with partner %s.", [req.customer_id, req.partner_id])} if {
	req.action == "issue"
	req.customer_id != req.partner_id
	not own_customer
}

own_customer if customer.associated_partner_id == req.partner_id

# CPN-08: a CR's customer vouchers come only from GD-issued quota.
reasons contains {"code": "VOUCHER_FROM_BEFORE_CLOUD_RESELLER", "rule": "CPN-08", "message": "A voucher received before becoming a cloud reseller cannot be issued to the reseller's customers."} if {
	req.action == "issue"
	actor.partner_type == "cr"
	voucher.obtained_before_cloud_reseller
}

# CPN-16: quota reclaimed from an unbound enterprise sub is reissued only when it has no customer restriction.
reasons contains {"code": "QUOTA_CUSTOMER_RESTRICTED", "rule": "CPN-16", "message": sprintf("The quota is restricted to customer %s.", [voucher.restricted_customer_id])} if {
	req.action == "issue"
	voucher.restricted_customer_id != null
	voucher.restricted_customer_id != req.customer_id
}

decision := {
	"reasons": reasons,
	"outputs": {
		"action": req.action,
		"voucher_id": voucher.id,
		# CPN-06: after a reclaim the customer no longer sees the voucher.
		"customer_sees_voucher": req.action != "reclaim",
	},
}
