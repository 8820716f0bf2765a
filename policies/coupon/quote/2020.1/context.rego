# What coupon.quote evaluates: one coupon against a cart sent in the request, before a payment exists.
package arbiter.coupon.context

import data.arbiter.coupon.lib

cart := input.request.cart

coupons := [input.facts.coupon]

usage := {input.facts.coupon.id: {
	"consumed": lib.used_up(input.facts.coupon_usage),
	"activated": lib.used_up(input.facts.activation_usage),
}}

payment := {
	"id": "cart",
	"payer_account_id": input.request.account_id,
	"discount_coupon_id": object.get(cart, "discount_coupon_id", null),
	"selected_coupon_ids": [],
}

orders := [{
	"id": o.id,
	"order_type": o.order_type,
	"payer_type": object.get(o, "payer_type", "self"),
} |
	some o in cart.orders
]

line_defaults := {
	"sku_id": null,
	"product_category": "general",
	"product_category_changed_at": null,
	"special_price_package": false,
	"region": null,
	"is_marketplace_line": true,
	"applied_discounts": [],
}

raw_lines := [object.union_n([line_defaults, l, {"order_id": o.id}]) |
	some o in cart.orders
	some l in o.lines
]

# Line ids repeated in the cart get their position appended, so that every line is evaluated.
repeated := {id | some id, same in coll.group_by(raw_lines, "id"); count(same) > 1}

lines := raw_lines if {
	count(repeated) == 0
} else := [line |
	some i, l in raw_lines
	line := unique_id(l, i)
]

unique_id(l, i) := object.union(l, {"id": sprintf("%s#%d", [l.id, i + 1])}) if {
	l.id in repeated
} else := l

settings := input.rules.checkout

now := input.now

payment_redeemed := false

check_selection := true
