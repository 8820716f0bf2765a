package arbiter.purchase.payment

# PURCH-09: a pending order that is one item of a combination product is paid only together with the
# rest of its combination.

req := input.request

pending := {o.id: o | some o in input.facts.pending}

chosen := {id | some id in req.order_ids}

unknown contains id if {
	some id in chosen
	not pending[id]
}

combos contains pending[id].combo_id if {
	some id in chosen
	pending[id].combo_id != null
}

# Every pending order of a combination that is partly chosen.
siblings contains o.id if {
	some o in input.facts.pending
	o.combo_id in combos
}

missing := siblings - chosen

to_pay := (chosen - unknown) | siblings

reasons contains {
	"rule": "PURCH-09", "code": "ORDER_NOT_PENDING",
	"message": sprintf("Order %s is not an order of this account awaiting payment.", [id]),
} if {
	some id in unknown
}

reasons contains {
	"rule": "PURCH-09", "code": "COMBINATION_PAYMENT_REQUIRED",
	"message": sprintf("Combination %s is paid as a whole: add order(s) %s to this payment.", [combo, concat(", ", sort(left))]),
} if {
	some combo in combos
	left := {o.id | some o in input.facts.pending; o.combo_id == combo} - chosen
	count(left) > 0
}

decision := {
	"reasons": reasons,
	"outputs": {
		"pay_order_ids": sort(to_pay),
		"combinations": sort(combos),
		"amount": dec.fixed(dec.sum([pending[id].amount | some id in to_pay]), 2),
	},
}
