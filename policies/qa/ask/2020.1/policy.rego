package arbiter.qa.ask

# Ask a question about a product (QA-01, QA-02). The engine runs this under the lock of the account,
# product and Beijing day, so the count read here cannot change before the commit; an accepted question
# records one unit under that key.

req := input.request

settings := input.rules.qa

# The Beijing calendar day of the request.
day := cal.beijing_date(input.now)

key := sprintf("qa:%s:%s:%s", [req.account_id, req.product_id, day])

asked := dec.add(
	dec.sum([l.count | some l in input.facts.log]),
	dec.sum([r.amount | some r in input.facts.usage]),
)

reasons contains {
	"rule": "QA-01", "code": "DAILY_QUESTION_LIMIT",
	"message": sprintf("You have asked %s questions about this product today; the limit is %d a day. Ask again tomorrow.", [asked, settings.questions_per_product_per_day]),
} if {
	dec.gte(asked, settings.questions_per_product_per_day)
}

found := {w | some w in settings.sensitive_words; contains(lower(req.text), lower(w))}

reasons contains {
	"rule": "QA-02", "code": "SENSITIVE_WORDS",
	"message": sprintf("Edit the question before submitting it: it contains %s.", [concat(", ", [sprintf("%q", [w]) | some w in sort(found)])]),
} if {
	count(found) > 0
}

accepted if count(reasons) == 0

ledger := [{"key": key, "amount": "1"}] if {
	accepted
} else := []

decision := {
	"reasons": reasons,
	"outputs": {
		"question_id": req.question_id,
		"day": day,
		"accepted": accepted_value,
		"asked_today": asked_after,
		"remaining_today": dec.max(dec.sub(settings.questions_per_product_per_day, asked_after), "0"),
	},
	"ledger": ledger,
}

accepted_value if {
	accepted
} else := false

asked_after := dec.add(asked, "1") if {
	accepted
} else := asked
