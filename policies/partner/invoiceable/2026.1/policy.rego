# Invoiceable amounts and owed invoices (rules-partner.md §G.6). The owed invoice shown on the withdraw
# page is what is owed less the consumption that could be invoiced, never below 0 (BILL-07). Across the
# contracting-entity change (华为软件 -> 华为云计算): consumption before the change never invoiced is
# still invoiced, by 华为软件 (BILL-11); consumption after the change first uses the balance already
# invoiced, which is not invoiced again, and the rest is invoiced by 华为云计算 (BILL-10); a refund after
# the change of a part never invoiced leaves nothing to invoice for it, while a refund of an invoiced part
# whose invoice was not returned is owed invoice, which later consumption pays off (BILL-12).
package arbiter.partner.invoiceable

req := input.request

cfg := input.rules.billing

amt(name) := object.get(req, name, "0")

refunds := object.get(req, "refunds_after_change", [])

refunded_not_invoiced := dec.sum([r.amount | some r in refunds; not r.invoiced])

refunded_invoiced := dec.sum([r.amount | some r in refunds; r.invoiced])

reasons contains {"code": "REFUND_EXCEEDS_CONSUMPTION", "rule": "BILL-12", "message": sprintf("Refunds of parts never invoiced (%s) exceed the consumption never invoiced (%s).", [refunded_not_invoiced, amt("consumed_before_change_not_invoiced")])} if {
	dec.gt(refunded_not_invoiced, amt("consumed_before_change_not_invoiced"))
}

# BILL-11, BILL-12 (example 1).
before_invoiceable := dec.max("0", dec.sub(amt("consumed_before_change_not_invoiced"), refunded_not_invoiced))

# BILL-10: the invoiced balance is used first and not invoiced again.
drawn_invoiced := dec.min(amt("consumed_after_change"), amt("balance_invoiced"))

gross_after := dec.sub(amt("consumed_after_change"), drawn_invoiced)

# BILL-12 (example 2): an invoiced refund whose invoice was kept is owed invoice.
owed_before := dec.add(amt("owed_invoice"), refunded_invoiced)

# BILL-07: owed less what could be invoiced, not below 0; what is left over is invoiced.
owed_after := dec.max("0", dec.sub(owed_before, gross_after))

after_invoiceable := dec.max("0", dec.sub(gross_after, owed_before))

balance_after := dec.max("0", dec.sub(dec.sum([amt("balance_invoiced"), amt("balance_not_invoiced"), refunded_not_invoiced, refunded_invoiced]), amt("consumed_after_change")))

reasons contains {"code": "INVOICE_OWED", "rule": "BILL-07", "effect": "note", "message": sprintf("%s of invoice is still owed (%s owed less %s invoiceable).", [dec.fixed(owed_after, 2), owed_before, gross_after])} if {
	dec.gt(owed_after, "0")
}

reasons contains {"code": "INVOICED_BALANCE_USED", "rule": "BILL-10", "effect": "note", "message": sprintf("%s of the consumption used balance already invoiced and is not invoiced again.", [dec.fixed(drawn_invoiced, 2)])} if {
	dec.gt(drawn_invoiced, "0")
}

decision := {
	"reasons": reasons,
	"outputs": {
		"invoiceable_before_change": {"entity": cfg.entity_before_change, "amount": dec.fixed(before_invoiceable, 2)},
		"invoiceable_after_change": {"entity": cfg.entity_after_change, "amount": dec.fixed(after_invoiceable, 2)},
		"not_invoiced_again": dec.fixed(drawn_invoiced, 2),
		"owed_invoice": dec.fixed(owed_after, 2),
		"balance": dec.fixed(balance_after, 2),
	},
}
