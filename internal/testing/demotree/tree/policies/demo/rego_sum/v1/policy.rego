package arbiter.demo.rego_sum

total := dec.add(input.facts.account.balance, input.request.amount)

reasons contains {"code": "BELOW_MINIMUM", "rule": "DEMO-01", "message": "the total is below the minimum"} if {
	dec.lt(total, input.rules.rates.minimum)
}

reasons contains {"code": "GOLD_ONLY", "rule": "DEMO-02", "message": "only gold accounts"} if {
	input.facts.account.tier != "gold"
}

decision := {
	"reasons": reasons,
	"outputs": {
		"total": total,
		"fee": dec.mul(total, input.rules.rates.rate),
		"year": time.date(time.parse_rfc3339_ns(input.now))[0],
	},
}
