# The discount a charge gets and what pays an on-demand charge first (rules-partner.md §E):
# enterprise subs inherit from the master (DISC-07, DISC-09), the commercial authorized discount beats
# the partner-set one on demand (DISC-06), and vouchers pay on-demand usage first unless they cannot be
# combined with the authorized discount in effect (CPN-14).
package arbiter.partner.charge_terms

req := input.request

customer := input.facts.customer

# A sub whose master row is missing inherits nothing.
master := input.facts.master[0] if {
	count(input.facts.master) > 0
} else := {}

custody_sub if {
	customer.enterprise_role == "sub"
	customer.finance_mode == "custody"
}

# DISC-07: a custody sub inherits the master's partner-set discount.
partner_rate := object.get(master, "partner_discount", null) if {
	custody_sub
} else := customer.partner_discount

# DISC-09: a custody sub inherits the master's commercial discount; a non-custody sub when the master allows it.
commercial_rate := object.get(master, "commercial_discount", null) if {
	custody_sub
} else := master.commercial_discount if {
	customer.enterprise_role == "sub"
	master.non_custody_inherits_commercial
} else := customer.commercial_discount

has_partner if partner_rate != null

has_commercial if commercial_rate != null

reasons contains {"code": "INHERITS_MASTER_PARTNER_DISCOUNT", "rule": "DISC-07", "effect": "note", "message": sprintf("Custody sub-account %s inherits its master's partner-set discount.", [customer.id])} if {
	custody_sub
	master.partner_discount != null
}

reasons contains {"code": "INHERITS_MASTER_COMMERCIAL_DISCOUNT", "rule": "DISC-09", "effect": "note", "message": sprintf("Sub-account %s inherits its master's commercial discount.", [customer.id])} if {
	customer.enterprise_role == "sub"
	master.commercial_discount != null
	commercial_rate == master.commercial_discount
}

# DISC-05: on a yearly/monthly order the customer chooses at payment whether to use the partner-set discount.
applied := "partner" if {
	req.billing_mode == "yearly_monthly"
	has_partner
	req.use_partner_discount == true
} else := "commercial" if {
	has_commercial
} else := "partner" if {
	req.billing_mode == "on_demand"
	has_partner
} else := "none"

rate := {"partner": partner_rate, "commercial": commercial_rate, "none": null}[applied]

reasons contains {"code": "PARTNER_DISCOUNT_AT_CUSTOMER_CHOICE", "rule": "DISC-05", "effect": "note", "message": "On a yearly/monthly order the customer chooses at payment whether to use the partner-set discount."} if {
	req.billing_mode == "yearly_monthly"
	has_partner
}

# DISC-06: on demand, the commercial authorized discount beats the partner-set one.
reasons contains {"code": "COMMERCIAL_DISCOUNT_PREVAILS", "rule": "DISC-06", "effect": "note", "message": "Both discounts apply on demand: the commercial authorized discount is applied."} if {
	req.billing_mode == "on_demand"
	has_partner
	has_commercial
}

# CPN-14: on-demand usage is deducted from vouchers first, unless the voucher may not be combined
# with the authorized discount in effect.
voucher_blocked if {
	applied == "commercial"
	req.voucher_combinable_with_authorized_discount == false
}

deduct_from := "voucher" if {
	req.billing_mode == "on_demand"
	req.has_voucher
	not voucher_blocked
} else := "balance" if {
	req.billing_mode == "on_demand"
} else := null

reasons contains {"code": "VOUCHER_NOT_COMBINABLE_BALANCE_DEDUCTED", "rule": "CPN-14", "effect": "note", "message": "The voucher cannot be combined with the authorized discount: the account balance is deducted."} if {
	req.billing_mode == "on_demand"
	req.has_voucher
	voucher_blocked
}

# CPN-15: devcloud vouchers carry no restriction; one that cannot be used points at another commercial discount.
reasons contains {"code": "CHECK_OTHER_COMMERCIAL_DISCOUNT", "rule": "CPN-15", "effect": "note", "message": "Software development cloud vouchers carry no restriction: a commercial discount in effect is why this one is not used."} if {
	req.product == "software_devcloud"
	req.has_voucher
	voucher_blocked
}

decision := {
	"reasons": reasons,
	"outputs": {"discount_applied": applied, "discount_rate": rate, "deduct_from": deduct_from},
}
