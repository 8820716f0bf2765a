# What coupon.candidates evaluates: every coupon of the payer's wallet against one payment.
package arbiter.coupon.context

import data.arbiter.coupon.lib

coupons := input.facts.wallet

# The wallet rows carry status and activation; per-coupon ledger usage is checked by coupon.redeem.
usage := {}

payment := input.facts.payment

orders := input.facts.orders

lines := input.facts.lines

settings := input.rules.checkout

now := input.now

payment_redeemed := lib.used_up(input.facts.payment_usage)

# The buyer is choosing one coupon: a selection already on the payment does not hide candidates.
check_selection := false
