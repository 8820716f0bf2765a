# What coupon.applicability and coupon.redeem evaluate: one coupon against one payment from the fact store.
package arbiter.coupon.context

import data.arbiter.coupon.lib

coupons := [input.facts.coupon]

usage := {input.facts.coupon.id: {
	"consumed": lib.used_up(input.facts.coupon_usage),
	"activated": lib.used_up(input.facts.activation_usage),
}}

payment := input.facts.payment

orders := input.facts.orders

lines := input.facts.lines

settings := input.rules.checkout

now := input.now

payment_redeemed := lib.used_up(input.facts.payment_usage)

check_selection := true
