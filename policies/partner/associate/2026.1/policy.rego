# Establishing a customer-partner association (rules-partner.md §F.1), decided at the instant the
# customer accepts (now). Every blocker is reported.
package arbiter.partner.associate

req := input.request

customer := input.facts.customer

cfg := input.rules.association

now_ns := time.parse_rfc3339_ns(input.now)

# ASSOC-02: one partner at a time; changing partner means unbinding first.
reasons contains {"code": "ALREADY_ASSOCIATED", "rule": "ASSOC-02", "message": sprintf("Customer %s is already associated with partner %s; unbind first.", [customer.id, customer.associated_partner_id])} if {
	customer.associated_partner_id != null
}

# ASSOC-03: both sides agree; there is no unilateral association.
reasons contains {"code": "MUTUAL_CONSENT_REQUIRED", "rule": "ASSOC-03", "message": "Both the partner and the customer must agree to the association."} if {
	not all_agreed
}

all_agreed if {
	req.partner_agreed
	req.customer_agreed
}

# ASSOC-06: binding codes are no longer used.
reasons contains {"code": "BINDING_CODE_NOT_SUPPORTED", "rule": "ASSOC-06", "message": "Binding codes are no longer used: associate through an invitation link or QR code, or a ticket."} if {
	req.channel == "binding_code"
}

# ASSOC-04: an online invitation is valid 7 x 24 h from sending (boundary included); offline links never expire.
reasons contains {"code": "INVITATION_SENT_AT_REQUIRED", "rule": "ASSOC-04", "message": "An online invitation gives the time it was sent."} if {
	req.channel == "online_invitation"
	not req.invitation_sent_at
}

reasons contains {"code": "INVITATION_EXPIRED", "rule": "ASSOC-04", "message": sprintf("The online invitation sent at %s has expired; send it again.", [req.invitation_sent_at])} if {
	req.channel == "online_invitation"
	now_ns > cal.add_days(time.parse_rfc3339_ns(req.invitation_sent_at), cfg.online_invite_validity_days)
}

# ASSOC-05 with AMB-04: an offline invitation binds only an account created within 7 x 24 h.
reasons contains {"code": "ACCOUNT_OLDER_THAN_7_DAYS", "rule": "ASSOC-05", "message": "An offline invitation binds only an account created within 7 days; re-associate through an online invitation."} if {
	req.channel == "offline_invitation"
	now_ns > cal.add_days(time.parse_rfc3339_ns(customer.created_at), cfg.offline_new_account_max_age_days)
}

# ASSOC-07: the customer is real-name registered.
reasons contains {"code": "REAL_NAME_REQUIRED", "rule": "ASSOC-07", "message": "The customer must be real-name registered."} if {
	not customer.real_name_verified
}

# ASSOC-09: a custody sub may not associate in advisory mode; only its master may.
reasons contains {"code": "CUSTODY_SUB_CANNOT_ASSOCIATE_ADVISORY", "rule": "ASSOC-09", "message": "A financial-custody sub-account cannot associate in advisory mode; its master may."} if {
	req.mode == "advisory"
	customer.enterprise_role == "sub"
	customer.finance_mode == "custody"
}

# ASSOC-10: customers from IAM federation or the 创建客户 API are resale customers.
reasons contains {"code": "API_CUSTOMER_IS_RESALE", "rule": "ASSOC-10", "message": sprintf("A customer created through %s is a resale customer.", [customer.created_via])} if {
	req.mode == "advisory"
	customer.created_via in {"create_customer_api", "iam_federation"}
}

reasons contains {"code": "BALANCE_NEED_NOT_BE_WITHDRAWN", "rule": "ASSOC-08", "effect": "note", "message": "An existing recharge balance need not be withdrawn before a resale association."} if {
	req.mode == "resale"
}

# ASSOC-12: no limit on sub-customers or resale customers per partner, so nothing is counted here.

# ASSOC-13 with AMB-05: an enterprise's first binding is 新客 iff all the partner's SMB customers consumed <= 1000 before it.
tag := "new_customer" if {
	first_enterprise_binding
	dec.lte(input.facts.partner.smb_cumulative_consumption, cfg.new_customer_smb_consumption_max)
} else := "not_new_customer" if {
	first_enterprise_binding
} else := null

first_enterprise_binding if {
	customer.is_enterprise
	not customer.has_bound_before
}

reasons contains {"code": "NEW_CUSTOMER_TAG", "rule": "ASSOC-13", "effect": "note", "message": sprintf("First enterprise binding: the partner's SMB customers consumed %s before it, so the tag is %s.", [input.facts.partner.smb_cumulative_consumption, tag])} if {
	tag != null
}

# ASSOC-23: a resale association raises an on-demand grace period below 1 day to 1 day.
grace := dec.max(req.grace_period_days, cfg.grace_min_on_resale_association_days) if {
	req.mode == "resale"
	req.grace_period_days
} else := req.grace_period_days if {
	req.grace_period_days
} else := null

reasons contains {"code": "GRACE_PERIOD_RAISED", "rule": "ASSOC-23", "effect": "note", "message": sprintf("The on-demand grace period is raised from %s to %s days.", [req.grace_period_days, grace])} if {
	req.mode == "resale"
	dec.lt(req.grace_period_days, cfg.grace_min_on_resale_association_days)
}

decision := {
	"reasons": reasons,
	"outputs": {
		"mode": req.mode,
		"tag": tag,
		"grace_period_days": grace,
	},
}
