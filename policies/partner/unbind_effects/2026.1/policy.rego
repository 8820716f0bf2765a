# The effects of unbinding or switching association mode (ASSOC-19's table, SRC §12.4.4 L5352-5440),
# with the grace period (ASSOC-23), the direct-sales status (ASSOC-21) and a CR leaving its plan
# (ASSOC-27). Cells the source leaves blank use the catalog's PROPOSED reading or say "not_stated".
package arbiter.partner.unbind_effects

req := input.request

cfg := input.rules.association

effects := {
	"advisory_unbind": {
		"balance": "stays_customer_tops_up",
		"hc_vouchers": "remain_usable",
		"partner_vouchers": "returned_to_partner",
		"cash_coupons": "not_stated",
		"contract_and_invoicing": "hc",
		"funding_duty": "customer_tops_up",
		"partner_discount": "invalid_list_price_from_next_billing_cycle",
		"refunds_for_association_period": "not_applicable",
	},
	"resale_unbind": {
		"balance": "returned_to_partner",
		"hc_vouchers": "remain_usable",
		"partner_vouchers": "returned_to_partner",
		"cash_coupons": "returned_to_issuer",
		"contract_and_invoicing": "hc",
		"funding_duty": "not_applicable",
		"partner_discount": "invalid_list_price_from_next_billing_cycle",
		"refunds_for_association_period": "partner_of_that_period",
	},
	"resale_to_advisory": {
		"balance": "returned_to_partner",
		"hc_vouchers": "remain_usable",
		"partner_vouchers": "returned_to_partner",
		"cash_coupons": "returned_to_issuer",
		"contract_and_invoicing": "hc",
		"funding_duty": "customer_tops_up",
		"partner_discount": "invalid_list_price_from_next_billing_cycle",
		"refunds_for_association_period": "not_applicable",
	},
	"advisory_to_resale": {
		"balance": "stays_not_consumable_withdrawable",
		"hc_vouchers": "remain_usable",
		"partner_vouchers": "returned_to_partner",
		"cash_coupons": "returned_to_issuer",
		"contract_and_invoicing": "partner",
		"funding_duty": "partner_allocates_credit",
		"partner_discount": "invalid_list_price_from_next_billing_cycle",
		"refunds_for_association_period": "not_applicable",
	},
}

row := effects[req.change]

mode_change := req.change in object.keys(effects)

reasons contains {"code": "UNBIND_EFFECTS", "rule": "ASSOC-19", "effect": "note", "message": sprintf("Effects of %s per SRC §12.4.4.", [req.change])} if mode_change

reasons contains {"code": "PARTNER_DISCOUNT_VOID", "rule": "DISC-11", "effect": "note", "message": "Partner-set discounts become invalid: list price from the next billing cycle; partner and customer settle any difference themselves."} if mode_change

reasons contains {"code": "BALANCE_NOT_CONSUMABLE", "rule": "ASSOC-30", "effect": "note", "message": "In resale mode the customer consumes the partner's allocations; its own balance cannot be consumed but can be withdrawn."} if {
	req.change == "advisory_to_resale"
}

reasons contains {"code": "BECOMES_DIRECT_SALES", "rule": "ASSOC-21", "effect": "note", "message": "An advisory customer that unbinds becomes a direct-sales account."} if {
	req.change == "advisory_unbind"
}

reasons contains {"code": "ON_DEMAND_ARREARS_RISK", "rule": "ASSOC-22", "effect": "note", "message": "Yearly/monthly products are unaffected; on-demand products may fall into arrears if the balance is insufficient."} if mode_change

# ASSOC-23: a resale sub-customer that unbinds gets at least 7 days of grace.
resale_leaving if req.change in {"resale_unbind", "resale_to_advisory"}

grace := dec.max(req.grace_period_days, cfg.grace_min_on_resale_unbind_days) if {
	resale_leaving
	req.grace_period_days
} else := req.grace_period_days if {
	req.grace_period_days
} else := null

reasons contains {"code": "GRACE_PERIOD_RAISED", "rule": "ASSOC-23", "effect": "note", "message": sprintf("The on-demand grace period is raised from %s to %s days.", [req.grace_period_days, grace])} if {
	resale_leaving
	dec.lt(req.grace_period_days, cfg.grace_min_on_resale_unbind_days)
}

reasons contains {"code": "ADVISORY_PERIOD_INVOICES_FROM_HC", "rule": "ASSOC-24", "effect": "note", "message": "Invoices for advisory-period consumption are still issued by HC; the advisory-period balance is under 资金管理 > 提现."} if {
	req.change == "advisory_to_resale"
}

reasons contains {"code": "PARTNER_SEES_ASSOCIATION_PERIOD_ONLY", "rule": "ASSOC-25", "effect": "note", "message": "After unbinding the partner sees only the income and expense details of the associated period."} if {
	req.change in {"advisory_unbind", "resale_unbind"}
}

# ASSOC-27: a CR leaving its plan does not hand its advisory customers to the GD.
reasons contains {"code": "NOT_REASSOCIATED_TO_GD", "rule": "ASSOC-27", "effect": "note", "message": "The CR's advisory customers (credit-payment ones included) are not re-associated to the GD; they may agree to associate with another CR or an SP."} if {
	req.change == "cr_plan_exit"
}

balance_to := {
	"returned_to_partner": "partner",
	"stays_customer_tops_up": "customer",
	"stays_not_consumable_withdrawable": "customer",
}

outputs := object.union(row, {
	"change": req.change,
	"balance_amount": object.get(req, "balance", null),
	"balance_goes_to": balance_to[row.balance],
	"grace_period_days": grace,
	"becomes_direct_sales": req.change == "advisory_unbind",
}) if mode_change

outputs := {"change": req.change, "reassociated_to": null, "customers_remain": "associated_until_they_agree_to_another_cr_or_sp"} if {
	req.change == "cr_plan_exit"
}

decision := {"reasons": reasons, "outputs": outputs}
