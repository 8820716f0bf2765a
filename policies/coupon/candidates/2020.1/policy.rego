package arbiter.coupon.candidates

import data.arbiter.coupon.lib

# Which of the payer's coupons apply to this payment? (rules-marketplace.md §1, Decision B, COUPON-03)

coupons := lib.coupon_by_id

results := lib.results

# Best first: the largest deduction, then the coupon that expires first, then the id.
ranked := sort([[0 - to_number(dec.mul(v.deduction, "100")), lib.ns(coupons[id].valid_to), id] |
	some id, v in results
	v.applicable
])

applicable := [entry |
	some k in ranked
	v := results[k[2]]
	c := coupons[k[2]]
	entry := {
		"coupon_id": c.id,
		"face_value": dec.fixed(c.face_value, 2),
		"deduction": v.deduction,
		"eligible_base": v.eligible_base,
		"eligible_line_ids": v.eligible_line_ids,
		"cash_payable": dec.fixed(dec.sub(lib.total_payable, v.deduction), 2),
		"valid_to": c.valid_to,
	}
]

rejected := [{"coupon_id": id, "coupon_status": lib.coupon_status(id), "reasons": lib.reasons(id)} |
	some id in sort(object.keys(results))
	not results[id].applicable
]

best := applicable[0].coupon_id if {
	count(applicable) > 0
} else := null

reasons := [lib.reason("COUPON-03", "NO_APPLICABLE_COUPON", "None of your coupons meets the restrictions of this payment.")] if {
	count(applicable) == 0
} else := []

rejected_output := {"rejected": rejected} if {
	input.request.include_rejected == true
} else := {}

decision := {
	"reasons": [object.union(r, {"effect": "note"}) | some r in reasons],
	"outputs": object.union(
		{
			"coupons": applicable,
			"best_coupon_id": best,
			"applicable_count": count(applicable),
			"wallet_size": count(coupons),
			"total_payable": dec.fixed(lib.total_payable, 2),
		},
		rejected_output,
	),
}
