# Per-coupon evaluation of rules-marketplace.md §1, shared by every coupon decision. Each decision's
# context.rego says what is evaluated: package arbiter.coupon.context with coupons, usage, payment,
# orders, lines, settings, now, payment_redeemed and check_selection.
#
# A coupon is checked in two steps: verdict (findings, eligible lines, deduction) for every coupon,
# and reasons (buyer-readable messages) only for the coupons an answer explains.
package arbiter.coupon.lib

import data.arbiter.coupon.context as cx

# The catalog's evaluation order: wallet and state, line scope, order level, threshold, amount.
# Written as the rank of each rule, so that no decision builds it.
rule_rank := {
	"COUPON-01": 0, "COUPON-02": 1, "COUPON-03": 2, "COUPON-04": 3, "COUPON-08": 4, "COUPON-09": 5,
	"COUPON-16": 6, "COUPON-05": 7, "COUPON-06": 8, "COUPON-07": 9, "COUPON-11": 10, "COUPON-13": 11,
	"COUPON-17": 12, "COUPON-18": 13, "COUPON-12": 14, "COUPON-14": 15, "COUPON-15": 16, "COUPON-19": 17,
	"COUPON-10": 18, "COUPON-20": 19, "COUPON-21": 20, "COUPON-22": 21, "COUPON-23": 22, "COUPON-24": 23,
	"COUPON-25": 24,
}

discount_codes := {
	"promotion": "EXCLUSIVE_WITH_PROMOTION",
	"business_authorization": "EXCLUSIVE_WITH_BUSINESS_AUTH_DISCOUNT",
	"channel_partner_authorization": "EXCLUSIVE_WITH_CHANNEL_DISCOUNT",
}

discount_flags := {
	"promotion": "not_with_promotion",
	"business_authorization": "not_with_business_auth",
	"channel_partner_authorization": "not_with_partner_auth",
}

discount_names := {
	"EXCLUSIVE_WITH_PROMOTION": "a promotional discount",
	"EXCLUSIVE_WITH_BUSINESS_AUTH_DISCOUNT": "a business-authorization discount",
	"EXCLUSIVE_WITH_CHANNEL_DISCOUNT": "a partner-granted (channel) discount",
}

reason(rule, code, msg) := {"rule": rule, "code": code, "message": msg}

ns(ts) := time.parse_rfc3339_ns(ts)

# bj formats a timestamp as Beijing wall-clock time, "2025-03-01 00:00:00 (UTC+08:00)".
bj(ts) := sprintf("%s (UTC+08:00)", [replace(trim_suffix(cal.beijing_time(ts), "+08:00"), "T", " ")])

present(x) if {
	x != null
	x != ""
}

# usage_total sums ledger rows (a release is a negative row).
usage_total(rows) := dec.sum([r.amount | some r in rows])

used_up(rows) := dec.gt(usage_total(rows), "0")

# ---------------------------------------------------------------------------------------------
# What is evaluated, computed once per decision.

settings := cx.settings

payment := cx.payment

now_ns := ns(cx.now)

coupon_by_id := coll.index_by(cx.coupons, "id")

line_by_id := coll.index_by(cx.lines, "id")

orders := coll.index_by(cx.orders, "id")

total_payable := dec.sum([l.payable_amount | some l in cx.lines])

# The coupons the ledger shows redeemed (and not released) and activated.
consumed_ids := {id | some id, u in cx.usage; u.consumed == true}

activated_ids := {id | some id, u in cx.usage; u.activated == true}

finding(rule, code, line) := {"rule": rule, "code": code, "line": line}

# Payment-level findings that do not depend on the coupon (COUPON-14, 15, 19).
payment_findings := ((discount_coupon | selection) | redeemed) | partner if {
	discount_coupon := {finding("COUPON-14", "EXCLUSIVE_WITH_DISCOUNT_COUPON", "") | present(payment.discount_coupon_id)}
	selection := {object.union(finding("COUPON-15", "MULTIPLE_COUPONS_IN_PAYMENT", ""), {"detail": "selected"}) |
		cx.check_selection
		count(payment.selected_coupon_ids) > 1
	}
	redeemed := {object.union(finding("COUPON-15", "MULTIPLE_COUPONS_IN_PAYMENT", ""), {"detail": "redeemed"}) | cx.payment_redeemed}
	partner := {object.union(finding("COUPON-19", "PARTNER_PAID_ORDER", ""), {"order": o.id}) |
		some o in cx.orders
		o.payer_type == "partner"
	}
}

# ---------------------------------------------------------------------------------------------
# Coupon state (COUPON-01, 04, 05 kind, 06 status, 08, 09, 16)

is_activated(c) if c.acquisition != "offline_code"

is_activated(c) if c.activated == true

is_activated(c) if c.id in activated_ids

not_activated(c) if not is_activated(c)

not_activated(c) if {
	c.status == "unactivated"
	not c.id in activated_ids
}

window_known(c) if {
	is_string(c.valid_from)
	is_string(c.valid_to)
}

window_code(c) := "COUPON_NOT_YET_EFFECTIVE" if {
	window_known(c)
	now_ns < ns(c.valid_from)
} else := "COUPON_EXPIRED" if {
	window_known(c)
	now_ns > ns(c.valid_to)
} else := "COUPON_EXPIRED" if {
	c.status == "expired"
}

config_valid(c) if {
	present(c.face_value)
	dec.gt(c.face_value, "0")
	window_known(c)
	from := ns(c.valid_from)
	to := ns(c.valid_to)
	from <= to
	within_max_validity(from, to)
}

# AMB-08: a window ends at most max_validity_months calendar months (Beijing time, clamped to the
# end of a shorter month) after it starts.
within_max_validity(from, to) if to <= cal.add_months(from, settings.max_validity_months)

spent(c) if c.status == "used"

spent(c) if c.id in consumed_ids

coupon_findings(c) := (((((activation | owner) | kind) | window) | config) | used) | status if {
	activation := {finding("COUPON-01", "COUPON_NOT_ACTIVATED", "") | not_activated(c)}
	owner := {finding("COUPON-04", "COUPON_NOT_OWNED", "") | c.owner_account_id != payment.payer_account_id}
	kind := {finding("COUPON-05", "COUPON_KIND_NOT_SUPPORTED", "") | not c.kind in settings.supported_kinds}
	window := {finding("COUPON-08", code, "") | code := window_code(c)}
	config := {finding("COUPON-09", "COUPON_CONFIG_INVALID", "") | not config_valid(c)}
	used := {finding("COUPON-16", "COUPON_USED", "") | spent(c)}
	status := {finding("COUPON-06", "COUPON_INVALIDATED_CATEGORY_CHANGED", "") | c.status == "invalidated"}
}

# ---------------------------------------------------------------------------------------------
# Lines (COUPON-05, 06, 07, 11, 13, 17, 18). The marketplace lines are grouped once by merchant;
# each coupon then reads only the lines of its issuer, and every line rule is one pass over those.

non_marketplace_lines := coll.where_in(cx.lines, "is_marketplace_line", [false])

marketplace_lines := coll.where_not_in(cx.lines, "is_marketplace_line", [false])

non_marketplace := {l.id | some l in non_marketplace_lines}

marketplace := {l.id | some l in marketplace_lines}

lines_by_merchant := coll.group_by(marketplace_lines, "merchant_id")

# by_discount holds, per discount, the lines of the payment carrying it (read when the exclusion
# scope is the whole payment).
by_discount := {d: {l.id | some l in cx.lines; d in l.applied_discounts} | some d, _ in discount_codes}

# in_scope_ids are the ids of the issuer's marketplace lines whose product or sku the coupon names.
in_scope_ids(c) := {l.id | some l in coll.where_in(issuer_lines, "product_id", c.applicable_product_ids)} | {l.id | some l in coll.where_in(issuer_lines, "sku_id", c.applicable_sku_ids)} if {
	issuer_lines := object.get(lines_by_merchant, c.issuer_merchant_id, [])
}

# The helpers below take the one coupon field they read, so that coupons with equal fields share
# one evaluation.
covered_modes(c) := modes_covered(c.billing_modes)

modes_covered(modes) := {m | some m in modes} | {m | some m, target in settings.billing_mode_aliases; target in modes}

# conflicting_discounts are the line discounts this coupon cannot be combined with (COUPON-13, AMB-05).
conflicting_discounts(c) := discounts_conflicting(c.flags)

discounts_conflicting(flags) := {d | some d in settings.universal_exclusive_discounts} | {d | some d, flag in discount_flags; flag in flags}

changed_after_claim(c, l) if {
	present(l.product_category_changed_at)
	present(c.claimed_at)
	ns(l.product_category_changed_at) > ns(c.claimed_at)
}

# grouped is one finding for all the lines a rule rejects for the same reason whatever the line.
grouped(rule, code, ids) := {object.union(finding(rule, code, lines[0]), {"lines": lines})} if {
	lines := sort(ids)
	count(lines) > 0
} else := set()

category_code(c, l) := "COUPON_INVALIDATED_CATEGORY_CHANGED" if {
	changed_after_claim(c, l)
} else := "CATEGORY_MISMATCH"

# line_rejections holds, per line rule, the lines in scope it rejects; the verdict and the reasons
# both read it, so that they cannot disagree.
line_rejections(c, scope) := {
	"category": id_set(coll.where_not_in(lines, "product_category", [c.applicable_category])),
	"on_demand": id_set(coll.where_in(lines, "billing_mode", settings.never_eligible_billing_modes)),
	"mode": id_set(coll.where_not_in(lines, "billing_mode", covered | never)),
	"discount": {l.id |
		settings.discount_exclusion_scope == "line"
		some l in lines
		some d in l.applied_discounts
		d in conflicts
		discount_codes[d]
	},
	"special": {id | "not_for_special_packages" in c.flags; some id in id_set(coll.where_in(lines, "special_price_package", [true]))},
	"region": {id | count(c.regions) > 0; some id in id_set(coll.where_not_in(lines, "region", c.regions))},
	"excluded": id_set(coll.where_in(lines, "product_id", c.excluded_product_ids)),
} if {
	lines := [line_by_id[id] | some id in scope]
	covered := covered_modes(c)
	never := {m | some m in settings.never_eligible_billing_modes}
	conflicts := conflicting_discounts(c)
}

id_set(lines) := {l.id | some l in lines}

rejected_ids(rejections) := union({ids | some _, ids in rejections})

# line_findings lists, per failing line, the rule it fails.
line_findings(c, scope) := (((((((nm | out) | cat) | never) | mode) | disc) | special) | region) | excluded if {
	r := line_rejections(object.filter(c, scope_fields), scope)
	nm := grouped("COUPON-11", "NON_MARKETPLACE_LINE", non_marketplace)
	out := grouped("COUPON-05", "PRODUCT_NOT_IN_SCOPE", marketplace - scope)
	cat := {finding("COUPON-06", category_code(c, line_by_id[id]), id) | some id in r.category}
	never := {finding("COUPON-07", "ON_DEMAND_NOT_ALLOWED", id) | some id in r.on_demand}
	mode := {finding("COUPON-07", "BILLING_MODE_MISMATCH", id) | some id in r.mode}
	conflicts := conflicting_discounts(c)
	disc := {finding("COUPON-13", discount_codes[d], id) |
		some id in r.discount
		some d in line_by_id[id].applied_discounts
		d in conflicts
	}
	special := {finding("COUPON-13", "SPECIAL_PACKAGE_EXCLUDED", id) | some id in r.special}
	region := {finding("COUPON-17", "REGION_MISMATCH", id) | some id in r.region}
	excluded := {finding("COUPON-18", "PRODUCT_EXCLUDED", id) | some id in r.excluded}
}

payment_discount_findings(c) := {object.union(finding("COUPON-13", discount_codes[d], id), {"detail": "payment"}) |
	settings.discount_exclusion_scope == "payment"
	some d in conflicting_discounts(c)
	some id in object.get(by_discount, d, set())
}

# ---------------------------------------------------------------------------------------------
# Orders (COUPON-12): only orders holding a line the coupon covers are checked for their type.

order_type_ok(c, t) if t in c.order_types

order_type_ok(c, t) if settings.order_type_aliases[t] in c.order_types

order_findings(c, scope) := {object.union(finding("COUPON-12", "ORDER_TYPE_MISMATCH", ""), {"order": oid}) |
	some oid in {line_by_id[id].order_id | some id in scope}
	not order_type_ok(c, orders[oid].order_type)
}

# ---------------------------------------------------------------------------------------------
# Threshold (COUPON-10) and amount (COUPON-20)

threshold_inclusive(c) := c.threshold_inclusive if {
	is_boolean(c.threshold_inclusive)
} else := settings.threshold_inclusive

threshold(c) := c.threshold_amount if {
	present(c.threshold_amount)
} else := "0"

# threshold_met is true when the eligible base reaches the threshold (AMB-01: >= or >).
threshold_met(c, base) := dec.gte(base, threshold(c)) if {
	threshold_inclusive(c)
} else := dec.gt(base, threshold(c))

threshold_findings(c, eligible, base) := {finding("COUPON-10", "NO_ELIGIBLE_LINE", "")} if {
	count(eligible) == 0
} else := {finding("COUPON-10", "THRESHOLD_NOT_MET", "")} if {
	not threshold_met(c, base)
} else := set()

# coupon_usable holds when no coupon-level or payment-level rule blocks the coupon, whatever the lines:
# it reads the same findings the reasons report, so the verdict and the explanation cannot disagree.
# It is true or false, never undefined: the evaluator remembers a function's value for its arguments,
# but not its failure, and the verdict reads it twice.
coupon_usable(c) if {
	payment_ok
	count(coupon_findings(c)) == 0
} else := false

payment_ok if count(payment_findings) == 0

accepted_order_types(c) := order_types_accepted(c.order_types)

order_types_accepted(types) := {t | some t in types} | {t | some t, target in settings.order_type_aliases; target in types}

# A line whose order is unknown has no order type, which no coupon accepts.
orders_fit(c, scope) if {
	count({object.get(orders, [line_by_id[id].order_id, "order_type"], null) | some id in scope} - accepted_order_types(c)) == 0
}

payment_discount_conflict(c) if {
	settings.discount_exclusion_scope == "payment"
	some d in conflicting_discounts(c)
	count(object.get(by_discount, d, set())) > 0
}

category_changed(c, rejections) if {
	some id in rejections.category
	changed_after_claim(c, line_by_id[id])
}

# applies holds exactly when findings(c.id) holds no blocking finding.
applies(c, lines, base) if {
	coupon_usable(c)
	count(lines.eligible_ids) > 0
	threshold_met(c, base)
	lines.orders_fit
	not lines.payment_discount_conflict
	not category_changed(c, lines.rejections)
}

# The coupon fields the line rules read: coupons issued with the same scope (a merchant's tiers of
# one campaign) share one evaluation of the lines.
scope_fields := [
	"issuer_merchant_id", "applicable_product_ids", "applicable_sku_ids", "excluded_product_ids",
	"applicable_category", "billing_modes", "order_types", "regions", "flags",
]

# line_verdict applies the line rules to a coupon scope (an object with the scope_fields of a coupon).
line_verdict(sig) := {
	"scope": scope,
	"rejections": rejections,
	"eligible_ids": eligible_ids,
	"eligible_line_ids": sort(eligible_ids),
	"base": base,
	"base_text": dec.fixed(base, 2),
	"orders_fit": orders_fit_value(sig, scope),
	"payment_discount_conflict": payment_discount_conflict_value(sig),
} if {
	scope := in_scope_ids(sig)
	rejections := line_rejections(sig, scope)
	eligible_ids := scope - rejected_ids(rejections)
	base := dec.sum([line_by_id[id].payable_amount | some id in eligible_ids])
}

orders_fit_value(sig, scope) if {
	orders_fit(sig, scope)
} else := false

payment_discount_conflict_value(sig) if {
	payment_discount_conflict(sig)
} else := false

# results holds a verdict for every coupon of the context; a coupon that cannot be used whatever
# the lines is not checked line by line (reasons(id) still explains it in full). It is one object
# comprehension rather than a rule per key: OPA checks each key of a partial rule against every key
# before it, which made a wallet quadratic.
results := {id: verdict(c) | some id, c in coupon_by_id}

verdict(c) := {"coupon_id": c.id, "applicable": false, "eligible_line_ids": [], "eligible_base": "0.00", "deduction": "0.00"} if {
	not c.issuer_merchant_id in payment_merchants
} else := {"coupon_id": c.id, "applicable": false, "eligible_line_ids": [], "eligible_base": "0.00", "deduction": "0.00"} if {
	not coupon_usable(c)
} else := full_verdict(c)

# The merchants of the payment's marketplace lines: a coupon of any other merchant has no line in scope.
payment_merchants := {line_by_id[id].merchant_id | some id in marketplace}

full_verdict(c) := {
	"coupon_id": c.id,
	"applicable": true,
	"eligible_line_ids": lines.eligible_line_ids,
	"eligible_base": lines.base_text,
	"deduction": dec.fixed(dec.min(c.face_value, lines.base), 2),
} if {
	lines := line_verdict(object.filter(c, scope_fields))
	applies(c, lines, lines.base)
} else := {
	"coupon_id": c.id,
	"applicable": false,
	"eligible_line_ids": lines.eligible_line_ids,
	"eligible_base": lines.base_text,
	"deduction": "0.00",
} if {
	lines := line_verdict(object.filter(c, scope_fields))
}

# findings lists every failing rule of coupon id, for its reasons.
findings(id) := {"blocking": blocking, "notes": lf - line_blocking} if {
	c := coupon_by_id[id]
	scope := in_scope_ids(object.filter(c, scope_fields))
	lf := line_findings(c, scope)
	eligible := full_results[id].eligible_line_ids

	# A category change after the claim invalidates the whole coupon, not just the line.
	line_blocking := {f | some f in lf; f.code == "COUPON_INVALIDATED_CATEGORY_CHANGED"}
	blocking := ((((coupon_findings(c) | payment_findings) | order_findings(c, scope)) | payment_discount_findings(c)) | threshold_findings(c, eligible, full_results[id].eligible_base)) | line_blocking
}

full_results[id] := full_verdict(coupon_by_id[id]) if some id, _ in coupon_by_id

# ---------------------------------------------------------------------------------------------
# Reasons: findings in the catalog's order with a message a buyer understands.

reasons(id) := [k[3] |
	c := coupon_by_id[id]
	v := full_results[id]
	fs := findings(id)
	note_effect := {true: "note", false: "deny"}[v.applicable]
	rs := {reason_of(f, c, v, "deny") | some f in fs.blocking} | {reason_of(f, c, v, note_effect) | some f in fs.notes}
	keys := [[object.get(rule_rank, r.rule, 999), r.code, r.message, r] | some r in rs]
	some k in sort(keys)
]

reason_of(f, c, v, effect) := {"rule": f.rule, "code": f.code, "message": message(f, c, v), "effect": effect}

line_text(f) := sprintf("Lines %s", [concat(", ", [sprintf("%s (%s)", [id, line_by_id[id].product_id]) | some id in f.lines])]) if {
	count(f.lines) > 1
} else := sprintf("Line %s (%s)", [f.line, line_by_id[f.line].product_id])

message(f, c, v) := line_message(f, c) if {
	f.line != ""
} else := coupon_message(f, c, v)

# Line messages: a template and the names of its arguments, by code (and detail).
line_templates := {
	"NON_MARKETPLACE_LINE": ["%s: a cloud resource bundled with a marketplace product; only the marketplace line can use the coupon.", ["line"]],
	"PRODUCT_NOT_IN_SCOPE": ["%s: not a product this coupon was issued for.", ["line"]],
	"CATEGORY_MISMATCH": ["%s is a %s product; this coupon is for %s products only.", ["line", "category", "coupon_category"]],
	"COUPON_INVALIDATED_CATEGORY_CHANGED": ["%s became a %s product after this %s coupon was claimed, so the coupon is no longer valid.", ["line", "category", "coupon_category"]],
	"ON_DEMAND_NOT_ALLOWED": ["%s is billed %s; on-demand purchases can never use a marketplace coupon.", ["line", "mode"]],
	"BILLING_MODE_MISMATCH": ["%s is billed %s; this coupon covers %s purchases only.", ["line", "mode", "modes"]],
	"SPECIAL_PACKAGE_EXCLUDED": ["%s is a special-price package; this coupon is not for special-price packages.", ["line"]],
	"REGION_MISMATCH": ["%s is in region %s; this coupon is for %s only.", ["line", "region", "regions"]],
	"PRODUCT_EXCLUDED": ["%s is explicitly excluded from this coupon.", ["line"]],
	"discount": ["%s already carries %s, which cannot be combined with a coupon.", ["line", "discount"]],
	"discount/payment": ["%s of this payment carries %s, so no coupon can be used on the payment.", ["line", "discount"]],
}

line_template(f) := line_templates[f.code] if {
	not discount_names[f.code]
} else := line_templates["discount/payment"] if {
	f.detail == "payment"
} else := line_templates.discount

line_message(f, c) := sprintf(template, [value(f, c, name) | some name in names]) if {
	[template, names] := line_template(f)
}

value(f, c, "line") := line_text(f)

value(f, c, "category") := object.get(line_by_id[f.line], "product_category", "")

value(f, c, "coupon_category") := c.applicable_category

value(f, c, "mode") := object.get(line_by_id[f.line], "billing_mode", "")

value(f, c, "modes") := concat("/", c.billing_modes)

value(f, c, "region") := object.get(line_by_id[f.line], "region", "")

value(f, c, "regions") := concat(", ", c.regions)

value(f, c, "discount") := discount_names[f.code]

coupon_message(f, c, v) := "This coupon was obtained offline and must first be activated with its 16-character code." if {
	f.code == "COUPON_NOT_ACTIVATED"
	c.acquisition == "offline_code"
} else := "This coupon has not been activated yet." if {
	f.code == "COUPON_NOT_ACTIVATED"
} else := sprintf("This coupon belongs to another account than the payer %s; coupons cannot be transferred.", [payment.payer_account_id]) if {
	f.code == "COUPON_NOT_OWNED"
} else := sprintf("A %s voucher is not a marketplace merchant coupon and cannot be used at marketplace checkout.", [c.kind]) if {
	f.code == "COUPON_KIND_NOT_SUPPORTED"
} else := sprintf("This coupon takes effect at %s; wait until then to use it.", [bj(c.valid_from)]) if {
	f.code == "COUPON_NOT_YET_EFFECTIVE"
} else := sprintf("This coupon expired at %s and can no longer be used.", [bj(c.valid_to)]) if {
	f.code == "COUPON_EXPIRED"
	window_known(c)
} else := "This coupon has expired and can no longer be used." if {
	f.code == "COUPON_EXPIRED"
} else := sprintf("This coupon is misconfigured (it needs a positive face value and a validity of at most %d months) and cannot be used.", [settings.max_validity_months]) if {
	f.code == "COUPON_CONFIG_INVALID"
} else := "This coupon has already been used; a coupon can be used only once." if {
	f.code == "COUPON_USED"
} else := "This coupon became invalid because the category of its product changed after it was claimed." if {
	f.code == "COUPON_INVALIDATED_CATEGORY_CHANGED"
} else := sprintf("Order %s is a %s order; this coupon is for %s orders only.", [f.order, object.get(orders, [f.order, "order_type"], "unknown"), concat("/", c.order_types)]) if {
	f.code == "ORDER_TYPE_MISMATCH"
} else := sprintf("This payment already uses discount coupon %s; a discount coupon and a cash coupon cannot be combined.", [payment.discount_coupon_id]) if {
	f.code == "EXCLUSIVE_WITH_DISCOUNT_COUPON"
} else := sprintf("Coupons %s are selected for this payment; keep exactly one.", [concat(", ", payment.selected_coupon_ids)]) if {
	f.code == "MULTIPLE_COUPONS_IN_PAYMENT"
	f.detail == "selected"
} else := "A coupon has already been used on this payment; only one coupon can be used per payment." if {
	f.code == "MULTIPLE_COUPONS_IN_PAYMENT"
} else := sprintf("Order %s is paid by a partner on the customer's behalf; such orders cannot use coupons.", [f.order]) if {
	f.code == "PARTNER_PAID_ORDER"
} else := "No line of this payment can use this coupon." if {
	f.code == "NO_ELIGIBLE_LINE"
} else := sprintf("The eligible items come to %s; this coupon needs %s %s.", [v.eligible_base, comparison_words(c), dec.fixed(threshold(c), 2)]) if {
	f.code == "THRESHOLD_NOT_MET"
} else := f.code

comparison_words(c) := "at least" if {
	threshold_inclusive(c)
} else := "more than"

coupon_status(id) := "used" if {
	spent(coupon_by_id[id])
} else := statuses[0] if {
	# A coupon may match several statuses (unactivated and expired): the first in this order wins.
	codes := {f.code | some f in findings(id).blocking}
	statuses := [status |
		some status in ["invalidated", "unactivated", "expired", "not_yet_effective", "invalid"]
		status_codes[status] in codes
	]
	count(statuses) > 0
} else := "available"

status_codes := {
	"invalidated": "COUPON_INVALIDATED_CATEGORY_CHANGED",
	"unactivated": "COUPON_NOT_ACTIVATED",
	"expired": "COUPON_EXPIRED",
	"not_yet_effective": "COUPON_NOT_YET_EFFECTIVE",
	"invalid": "COUPON_CONFIG_INVALID",
}

# ---------------------------------------------------------------------------------------------
# Amounts (COUPON-20, 21, AMB-06)

# allocate splits a deduction over the eligible lines pro rata to their payable amounts, truncated to
# the fen, the residual fen going to the largest line (the first by line id on a tie).
allocate(eligible, deduction, base) := [] if {
	count(eligible) == 0
} else := allocations if {
	shares := [dec.truncate(dec.div(dec.mul(deduction, l.payable_amount), base), 2) | some l in eligible]
	residual := dec.sub(deduction, dec.sum(shares))
	top := dec.max_of([l.payable_amount | some l in eligible])
	largest := [i | some i, l in eligible; dec.eq(l.payable_amount, top)][0]
	final := array.concat(
		array.concat(array.slice(shares, 0, largest), [dec.add(shares[largest], residual)]),
		array.slice(shares, largest + 1, count(shares)),
	)
	allocations := [a |
		some i, l in eligible
		share := final[i]
		a := {
			"line_id": l.id,
			"payable_amount": dec.fixed(l.payable_amount, 2),
			"deduction": dec.fixed(share, 2),
			"cash_payable": dec.fixed(dec.sub(l.payable_amount, share), 2),
		}
	]
}

forfeited(c, v) := dec.fixed(dec.sub(c.face_value, v.deduction), 2) if {
	v.applicable
} else := "0.00"

cash_payable(id) := dec.fixed(dec.sub(total_payable, full_results[id].deduction), 2)

# amounts are the outputs of one evaluated coupon against the whole payment.
amounts(id) := {
	"applicable": v.applicable,
	"eligible_line_ids": v.eligible_line_ids,
	"eligible_base": v.eligible_base,
	"deduction": v.deduction,
	"allocations": allocate([line_by_id[l] | some l in v.eligible_line_ids], v.deduction, v.eligible_base),
	"total_payable": dec.fixed(total_payable, 2),
	"cash_payable": cash_payable(id),
	"invoiceable_amount": cash_payable(id),
	"forfeited": forfeited(coupon_by_id[id], v),
	"coupon_status": coupon_status(id),
} if {
	v := full_results[id]
}

face_text(c) := dec.fixed(c.face_value, 2) if {
	present(c.face_value)
} else := null

# summary is what a buyer is shown about a coupon (COUPON-25).
summary(c) := {
	"id": c.id,
	"face_value": face_text(c),
	"threshold_amount": dec.fixed(threshold(c), 2),
	"valid_from": c.valid_from,
	"valid_to": c.valid_to,
	"status": c.status,
	"applicable_category": c.applicable_category,
	"billing_modes": c.billing_modes,
	"order_types": c.order_types,
	"regions": c.regions,
	"applicable_product_ids": c.applicable_product_ids,
	"applicable_sku_ids": c.applicable_sku_ids,
	"excluded_product_ids": c.excluded_product_ids,
	"flags": c.flags,
}
