package arbiter.demo.spend

key := sprintf("spend:%s:%d", [input.request.account_id, time.date(time.parse_rfc3339_ns(input.now))[0]])

used := dec.sum([e.amount | some e in input.facts.used])

reasons contains {"code": "LIMIT_REACHED", "rule": "DEMO-04", "message": "the yearly limit of 2 is used up"} if {
	dec.gte(used, "2")
}

decision := {
	"reasons": reasons,
	"outputs": {"used_before": used},
	"ledger": [{"key": key, "amount": "1"}],
}
