# A customer pays an order with one partner-issued or HC-issued voucher (rules-partner.md §E.1). The
# engine runs this under the locks partner_order:<order> and partner_voucher:<voucher>, so "one voucher
# per order" and "a voucher is used once" hold across replicas.
package arbiter.partner.voucher_redeem

voucher := input.facts.voucher

req := input.request

used_on_order := dec.sum([e.amount | some e in input.facts.order_usage])

voucher_used := dec.sum([e.amount | some e in input.facts.voucher_usage])

# CPN-03: one voucher per order, whether asked for together or one after another.
reasons contains {"code": "ONE_VOUCHER_PER_ORDER", "rule": "CPN-03", "message": "An order can use one voucher only."} if {
	count(object.get(req, "other_voucher_ids", [])) > 0
}

reasons contains {"code": "ONE_VOUCHER_PER_ORDER", "rule": "CPN-03", "message": "The order already used a voucher."} if {
	dec.gt(used_on_order, "0")
}

# CPN-07: a voucher is redeemed by the customer it was issued to; quota never pays the partner's own orders.
reasons contains {"code": "VOUCHER_NOT_ISSUED_TO_CUSTOMER", "rule": "CPN-07", "message": sprintf("Voucher %s was not issued to customer %s.", [voucher.id, req.customer_id])} if {
	voucher.kind != "partner_voucher"
	voucher.customer_id != req.customer_id
}

# CPN-10: a partner voucher (issued by HC to the partner) is deducted from the partner bill's settlement amount only.
reasons contains {"code": "PARTNER_VOUCHER_SETTLEMENT_ONLY", "rule": "CPN-10", "message": "A partner voucher is deducted from the partner bill, not used on a customer order."} if {
	voucher.kind == "partner_voucher"
}

# CPN-05 (PROPOSED): a used voucher is spent.
reasons contains {"code": "VOUCHER_USED", "rule": "CPN-05", "message": sprintf("Voucher %s has already been used.", [voucher.id])} if {
	voucher_spent
}

voucher_spent if voucher.used

voucher_spent if dec.gt(voucher_used, "0")

# CPN-02: new-customer acquisition vouchers pay yearly/monthly products only.
reasons contains {"code": "NEW_CUSTOMER_VOUCHER_NOT_FOR_ON_DEMAND", "rule": "CPN-02", "message": "A new-customer acquisition voucher applies to yearly/monthly products only."} if {
	voucher.kind == "new_customer_acquisition"
	req.billing_mode == "on_demand"
}

# CPN-04: the product must be inside the purchase-type scope set at issuance.
reasons contains {"code": "VOUCHER_OUT_OF_SCOPE", "rule": "CPN-04", "message": sprintf("Purchase type %s is outside the voucher's scope.", [req.purchase_type])} if {
	not in_scope
}

in_scope if req.purchase_type in voucher.purchase_type_scope

# CPN-04 with AMB-07 switched to the source's strict reading: an equal voucher may not pay in full.
reasons contains {"code": "VOUCHER_NOT_ABOVE_ORDER_AMOUNT", "rule": "CPN-04", "message": "The voucher must exceed the order amount to pay it in full (strict reading of AMB-07)."} if {
	not input.rules.vouchers.full_payment_at_equal_amount
	dec.eq(voucher.amount, req.order_amount)
}

full_payment if dec.gt(voucher.amount, req.order_amount)

full_payment if {
	input.rules.vouchers.full_payment_at_equal_amount
	dec.eq(voucher.amount, req.order_amount)
}

default full_payment := false

deduction := dec.fixed(dec.min(voucher.amount, req.order_amount), 2)

cash_due := dec.fixed(dec.sub(req.order_amount, deduction), 2)

denied if some r in reasons

ledger := [] if {
	denied
} else := [
	{"key": sprintf("partner_order:%s", [req.order_id]), "amount": "1"},
	{"key": sprintf("partner_voucher:%s", [req.voucher_id]), "amount": "1"},
]

decision := {
	"reasons": reasons,
	"outputs": {
		"voucher_id": voucher.id,
		"order_id": req.order_id,
		"full_payment": full_payment,
		"voucher_deduction": deduction,
		"cash_due": cash_due,
		# CPN-13: consumption paid with vouchers is neither performance nor rebate base.
		"performance_amount": cash_due,
	},
	"ledger": ledger,
}
