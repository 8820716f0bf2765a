# Activity-voucher applications (CPN-12): the customer's own partner applies, except that for a cloud
# reseller's sub-customer only its general distributor may; IAM operators need the role granted by the
# main account. The voucher is bound to the promotion chosen at creation and cannot be reclaimed.
package arbiter.partner.activity_voucher_apply

req := input.request

customer_partner := input.facts.customer_partner[0] if count(input.facts.customer_partner) > 0

cr_customer if customer_partner.partner_type == "cr"

reasons contains {"code": "ONLY_GD_APPLIES_FOR_CR_CUSTOMER", "rule": "CPN-12", "message": sprintf("Customer %s belongs to cloud reseller %s: only its general distributor %s may apply.", [req.customer_id, customer_partner.id, customer_partner.general_distributor_id])} if {
	cr_customer
	req.partner_id != customer_partner.general_distributor_id
}

reasons contains {"code": "NOT_PARTNER_CUSTOMER", "rule": "CPN-12", "message": sprintf("Customer %s is not associated with partner %s.", [req.customer_id, req.partner_id])} if {
	not cr_customer
	input.facts.customer.associated_partner_id != req.partner_id
}

reasons contains {"code": "ACTIVITY_VOUCHER_ROLE_NOT_GRANTED", "rule": "CPN-12", "message": "The main account has not granted this operator the activity-voucher role."} if {
	not req.operator.main_account
	not req.operator.granted_activity_voucher_role
}

decision := {
	"reasons": reasons,
	"outputs": {
		"promotion_id": req.promotion_id,
		"reclaimable": false,
		"visible_to": ["partner_sales_eco_manager", "rep_office"],
	},
}
