package arbiter.coupon.quote

import data.arbiter.coupon.lib

# Would this coupon apply to this cart, and for how much? The same rules as coupon.applicability,
# over a cart the storefront sends before it creates the payment.

coupon := input.facts.coupon

decision := {
	"reasons": lib.reasons(coupon.id),
	"outputs": object.union(lib.amounts(coupon.id), {"coupon": lib.summary(coupon)}),
}
