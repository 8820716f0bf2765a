# Invoicing customers (rules-partner.md §G.6). Electronic invoices are ordinary invoices only (BILL-01).
# Only what was consumed and actually paid is invoiced, never a recharge or reward money (BILL-02); a
# bill is invoiced whole, several bills may share one invoice (BILL-03); a paper invoice under 100 goes
# cash on delivery at the customer's cost, from 100 HC pays the postage (BILL-04); the title is at most
# 100 bytes counted in GBK, a Chinese character 2 (BILL-05 with AMB-26).
package arbiter.partner.customer_invoice

req := input.request

cfg := input.rules.billing

bills := {b.id: b | some b in input.facts.bills}

invoiceable(b) := dec.max("0", dec.sub(dec.min(b.consumed, b.cash_paid), b.invoiced))

missing := [id | some id in req.bill_ids; not bills[id]]

selected := [bills[id] | some id in req.bill_ids; bills[id]]

total := dec.sum([invoiceable(b) | some b in selected])

reasons contains {"code": "ELECTRONIC_ORDINARY_ONLY", "rule": "BILL-01", "message": "Electronic invoices are VAT ordinary invoices only."} if {
	req.delivery == "electronic"
	req.invoice_type != "vat_ordinary"
}

reasons contains {"code": "BILL_NOT_FOUND", "rule": "BILL-02", "message": sprintf("Bills %s are not the customer's.", [concat(", ", missing)])} if {
	count(missing) > 0
}

reasons contains {"code": "NOTHING_TO_INVOICE", "rule": "BILL-02", "message": sprintf("Bill %s has nothing consumed and paid left to invoice.", [b.id])} if {
	some b in selected
	dec.eq(invoiceable(b), "0")
}

reasons contains {"code": "AMOUNT_EXCEEDS_INVOICEABLE", "rule": "BILL-02", "message": sprintf("%s asked; only %s was consumed and paid and not yet invoiced on these bills.", [req.amount, total])} if {
	dec.gt(req.amount, total)
}

reasons contains {"code": "BILL_SPLIT", "rule": "BILL-03", "message": sprintf("A bill is not split across invoices: the selected bills invoice %s, not %s.", [total, req.amount])} if {
	dec.lt(req.amount, total)
}

gbk_title if text.gbk_valid(req.title)

title_bytes := text.gbk_len(req.title) if {
	gbk_title
} else := null

reasons contains {"code": "TITLE_NOT_GBK", "rule": "BILL-05", "message": "The invoice title has a character an invoice (GBK) cannot print."} if {
	not gbk_title
}

reasons contains {"code": "TITLE_TOO_LONG", "rule": "BILL-05", "message": sprintf("The invoice title is %d bytes; at most %d (%d Chinese characters).", [title_bytes, cfg.invoice_title_max_bytes, cfg.invoice_title_max_bytes / 2])} if {
	gbk_title
	title_bytes > cfg.invoice_title_max_bytes
}

postage := "none" if {
	req.delivery == "electronic"
} else := "hc" if {
	dec.gte(req.amount, cfg.postage_hc_pays_from)
} else := "customer_cash_on_delivery"

decision := {
	"reasons": reasons,
	"outputs": {
		"invoiceable": dec.fixed(total, 2),
		"postage": postage,
		"title_bytes": title_bytes,
	},
}
