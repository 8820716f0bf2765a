# Usage charges (rules-partner.md §G.6, BILL-15). Prices have 8 places, so a usage fee is
# price x quantity x seconds / 3600 kept to 8 places; the bill charges down to the fen and drops the rest
# by truncation: that dropped part is the 抹零 amount.
package arbiter.partner.usage_charge

cfg := input.rules.billing

fee(l) := dec.div(dec.mul(dec.mul(l.unit_price_per_hour, l.quantity), l.seconds), 3600)

reasons contains {"code": "NEGATIVE_USAGE", "rule": "BILL-15", "message": "A price or a quantity is negative."} if {
	some l in input.request.lines
	dec.lt(dec.min(l.unit_price_per_hour, l.quantity), "0")
}

unbilled := dec.truncate(dec.sum([fee(l) | some l in input.request.lines]), cfg.price_places)

charged := dec.truncate(unbilled, cfg.charge_places)

decision := {
	"reasons": reasons,
	"outputs": {
		"unbilled": dec.fixed(unbilled, cfg.price_places),
		"charged": dec.fixed(charged, cfg.charge_places),
		"rounded_off": dec.fixed(dec.sub(unbilled, charged), cfg.price_places),
	},
}
