package arbiter.coupon.applicability

import data.arbiter.coupon.lib

# Does this coupon apply to this payment, and for how much? (rules-marketplace.md §1, Decision A)

coupon := input.facts.coupon

decision := {
	"reasons": lib.reasons(coupon.id),
	"outputs": object.union(lib.amounts(coupon.id), {"coupon": lib.summary(coupon)}),
}
