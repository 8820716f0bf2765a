package arbiter.coupon.redeem

import data.arbiter.coupon.lib

# Redeem one coupon on one payment, exactly once (COUPON-15, COUPON-16). The engine runs this under
# the locks coupon:<id> and payment:<id>, so the ledger read here cannot change before the commit.

coupon := input.facts.coupon

amounts := lib.amounts(coupon.id)

ledger := [
	{"key": sprintf("coupon:%s", [coupon.id]), "amount": "1"},
	{"key": sprintf("payment:%s", [input.request.payment_id]), "amount": "1"},
] if {
	amounts.applicable
} else := []

decision := {
	"reasons": lib.reasons(coupon.id),
	"outputs": object.union(amounts, {
		"redeemed": amounts.applicable,
		"coupon_id": coupon.id,
		"payment_id": input.request.payment_id,
	}),
	"ledger": ledger,
}
