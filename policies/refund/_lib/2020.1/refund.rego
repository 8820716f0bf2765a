package arbiter.refund.lib

# Refund (unsubscribe) path selection of rules-marketplace.md §2, shared by refund.path and
# refund.request: which paths are open for an instance or one of its renewal orders, for how much, on
# what terms, and every reason that closes the others. Table 6-1 is the refund.matrix rule table, the
# windows and switches are refund.settings, the coupon's fate is coupon.release (COUPON-24, AMB-10).

settings := input.rules.settings

matrix := input.rules.matrix

coupon_release := input.rules.coupon_release

request := input.request

subscription := input.facts.subscription

product := input.facts.product

order := input.facts.target_order

payments := input.facts.payments

hour_ns := 3600000000000

now_ns := time.parse_rfc3339_ns(input.now)

ts(s) := time.parse_rfc3339_ns(s)

scope := object.get(request, "scope", "whole_instance")

renewal_scope if scope == "renewal_period"

reason(rule, code, message) := {"rule": rule, "code": code, "message": message}

refer(rule, code, message) := {"rule": rule, "code": code, "message": message, "effect": "refer"}

negotiated_paths := {"NEGOTIATED", "NEGOTIATED_HW_NOT_RECEIVED", "NEGOTIATED_HW_RECEIVED"}

full_paths := {"AUTO_FAILED_PROVISION", "RENEWAL_NOT_EFFECTIVE_FULL", "FIVE_DAY_NO_REASON"}

path_rule := {
	"AUTO_FAILED_PROVISION": "REFUND-FAIL-01",
	"RENEWAL_NOT_EFFECTIVE_FULL": "REFUND-REN-01",
	"FIVE_DAY_NO_REASON": "REFUND-5D-01",
	"IMAGE_USAGE_DEDUCTED": "REFUND-IMG-01",
	"NEGOTIATED": "REFUND-NEG-01",
	"NEGOTIATED_HW_NOT_RECEIVED": "REFUND-HW-01",
	"NEGOTIATED_HW_RECEIVED": "REFUND-HW-02",
}

# The coupon.release event each path is (COUPON-24).
coupon_event := {
	"AUTO_FAILED_PROVISION": "failed_provisioning",
	"RENEWAL_NOT_EFFECTIVE_FULL": "renewal_not_effective",
	"FIVE_DAY_NO_REASON": "five_day_no_reason",
	"IMAGE_USAGE_DEDUCTED": "image_usage_deducted",
	"NEGOTIATED": "negotiated",
	"NEGOTIATED_HW_NOT_RECEIVED": "negotiated",
	"NEGOTIATED_HW_RECEIVED": "negotiated",
}

# ---------------------------------------------------------------------------------------------------
# Money: what was actually paid for the order, and the coupon used on it.

paid := dec.fixed(dec.sum([p.cash_amount | some p in payments]), 2)

coupons := [{"id": p.coupon_id, "amount": dec.fixed(p.coupon_amount, 2), "payment_id": p.id} |
	some p in payments
	p.coupon_id != null
]

coupon := coupons[0] if {
	count(coupons) > 0
} else := null

coupon_returned(p) if {
	coupon != null
	p == "AUTO_FAILED_PROVISION"
	coupon_release.restore_coupon_on_system_failure
}

coupon_returned(p) if {
	coupon != null
	p != "AUTO_FAILED_PROVISION"
	coupon_release.restore_on[coupon_event[p]]
}

paid_times := array.concat(
	[ts(order.paid_at) | order.paid_at != null],
	[ts(p.paid_at) | some p in payments; p.paid_at != null],
)

paid_at_ns := paid_times[0] if count(paid_times) > 0

returns_coupon(p) if {
	coupon_returned(p)
} else := false

# ---------------------------------------------------------------------------------------------------
# Five-day window (REFUND-5D-01, AMB-02) and the yearly quota (REFUND-5D-02, AMB-14).

anchor_ns := ts(subscription.provisioned_at) if {
	subscription.provisioned_at != null
} else := paid_at_ns if {
	settings.five_day.anchor_fallback_to_paid_at
}

window_ns := settings.five_day.window_hours * hour_ns

within_five_days if {
	settings.five_day.window_inclusive
	now_ns - anchor_ns <= window_ns
}

within_five_days if {
	not settings.five_day.window_inclusive
	now_ns - anchor_ns < window_ns
}

# The quota year is the Beijing calendar year of now; the engine keys the counts and the ledger by it.
quota_year := cal.year(cal.beijing_date(input.now))

quota_limit := settings.yearly_quota

quota_counted := sum([c.refunds | some c in input.facts.quota_counts; c.calendar_year == quota_year])

quota_recorded := to_number(dec.sum([e.amount | some e in input.facts.quota_usage]))

quota_used := quota_counted + quota_recorded

quota_exhausted if quota_used >= quota_limit

quota_key := sprintf("refund_quota:%s:%d", [request.account_id, quota_year])

# ---------------------------------------------------------------------------------------------------
# Table 6-1 (REFUND-T01..T20): the first row matching the product and the instance's billing mode.

matching_rows := [r |
	some r in coll.where_in(matrix.rows, "delivery_type", [product.delivery_type])
	subscription.billing_mode in r.billing_modes
	r.supervised == product.supervised
]

row := object.union(matching_rows[0], {"listed": true}) if {
	count(matching_rows) > 0
} else := object.union(matrix.unlisted.supervised, {"rule": matrix.unlisted.rule, "listed": false}) if {
	product.supervised
} else := object.union(matrix.unlisted.not_supervised, {"rule": matrix.unlisted.rule, "listed": false})

failed_provisioning if subscription.provisioning_status == "failed"

devcloud_failure if {
	failed_provisioning
	product.is_devcloud
}

# Paths of the whole instance before any gate: a failed provisioning is refunded by the system alone.
whole_paths := ["AUTO_FAILED_PROVISION"] if {
	failed_provisioning
	not product.is_devcloud
} else := [] if {
	failed_provisioning
} else := [p | some p in row.paths; offered(p)]

offered(p) if not p in {"IMAGE_USAGE_DEDUCTED", "NEGOTIATED_HW_NOT_RECEIVED", "NEGOTIATED_HW_RECEIVED"}

# REFUND-IMG-01 / AMB-03 / AMB-04: the usage-deducted refund replaces a lapsed five-day refund.
offered("IMAGE_USAGE_DEDUCTED") if {
	settings.image.usage_deducted_enabled
	usage_deduction_due
}

offered("NEGOTIATED_HW_NOT_RECEIVED") if object.get(request, "goods_status", "not_received") == "not_received"

offered("NEGOTIATED_HW_RECEIVED") if object.get(request, "goods_status", "received") == "received"

usage_deduction_due if not within_five_days

usage_deduction_due if {
	quota_exhausted
	settings.image.usage_deducted_when_quota_exhausted
}

candidate_paths := ["RENEWAL_NOT_EFFECTIVE_FULL"] if {
	renewal_scope
} else := whole_paths

# ---------------------------------------------------------------------------------------------------
# Facts the gates read.

already_unsubscribed if dec.gt(dec.sum([e.amount | some e in input.facts.subscription_usage]), "0")

order_already_refunded if dec.gt(dec.sum([e.amount | some e in input.facts.order_usage]), "0")

covered := {request.subscription_id} | {id | some id in object.get(request, "together_with", [])}

uncovered_members := [m | some m in subscription.bundle_members; not m in covered]

partial if scope == "partial_component"

partial if count(uncovered_members) > 0

trial_gated if {
	order.order_type == "trial"
	settings.trial_gate_scope == "all"
}

trial_gated if {
	order.order_type == "trial"
	settings.trial_gate_scope == "saas"
	product.delivery_type == "saas"
}

expired if {
	subscription.expires_at != null
	now_ns > ts(subscription.expires_at)
}

campaign_terms := [t | some t in input.facts.campaign_terms; t.activity_id == order.activity_id]

campaign_closes(_) if {
	some t in campaign_terms
	not t.refund_allowed
}

campaign_closes(p) if {
	some t in campaign_terms
	t.refund_allowed
	count(t.allowed_paths) > 0
	not p in t.allowed_paths
}

blocking_invoices := [i | some i in input.facts.invoices; i.status in settings.invoice.blocking_statuses]

invoice_material(i) := settings.invoice.materials.applied if {
	i.status == "applied"
} else := settings.invoice.materials.paper_special_deducted if {
	i.kind == "paper_special"
	i.deducted
} else := settings.invoice.materials[i.kind]

returned_invoices := [i | some i in input.facts.invoices; i.status == "returned"]

image_prerequisite_met if {
	"with_ecs" in settings.image.prerequisite_accepts
	request.with_ecs == true
}

image_prerequisite_met if {
	"image_detached" in settings.image.prerequisite_accepts
	subscription.image_detached == true
}

supervision_completed if subscription.supervision_status == "completed"

license_code_claimed if {
	product.delivery_type == "license"
	product.license_flow == "online_auth_code"
	subscription.license_auth_code_claimed
}

renewal_started if {
	order.period_start != null
	now_ns >= ts(order.period_start)
}

renewal_outside_guarantee if {
	product.supervised
	supervision_completed
}

renewal_outside_guarantee if {
	not product.supervised
	not within_five_days
}

# ---------------------------------------------------------------------------------------------------
# Negotiated amounts (REFUND-NEG-02, REFUND-NEG-04).

milestones := input.facts.milestones

negotiated_cap := dec.fixed(dec.min(paid, dec.sum([m.amount | some m in milestones; not m.completed])), 2) if {
	count(milestones) > 0
} else := paid

requested_amount := request.amount

requirement_exempt if product.delivery_type in settings.negotiated.requirement_exempt_delivery_types

requirement_exempt if {
	product.delivery_type == "license"
	product.license_flow in settings.negotiated.requirement_exempt_license_flows
}

# Whole calendar months in Beijing time, clamped to the end of a shorter month (Jan 31 + 1 = Feb 28).
requirement_deadline_ns := cal.add_months(paid_at_ns, settings.negotiated.requirement_deadline_months)

requirement_late if {
	not requirement_exempt
	subscription.requirement_submitted_at == null
	now_ns > requirement_deadline_ns
}

requirement_late if {
	not requirement_exempt
	subscription.requirement_submitted_at != null
	ts(subscription.requirement_submitted_at) > requirement_deadline_ns
}

no_full_refund if requirement_late

no_full_refund if {
	some f in subscription.supervision_flags
	f in settings.negotiated.no_full_refund_flags
}

full_refund_allowed := false if {
	no_full_refund
} else := true

# ---------------------------------------------------------------------------------------------------
# Why a path is closed: every failing check, in the catalog's order.

checks := [
	"G08", "G08-order", "G07", "G06", "G05", "G03", "G01", "TYPE", "REN-type", "REN-effective", "G04",
	"5D-01", "5D-02", "5D-05", "NEG-07", "NEG-03", "NEG-02", "NEG-04", "HW-01",
]

# Evaluated once per candidate path; everything else reads this object.
closing_of := {p: [r | some c in checks; r := check(p, c)] | some p in candidate_paths}

closing(p) := closing_of[p]

check(_, "G08") := reason("REFUND-G08", "ALREADY_UNSUBSCRIBED", msg) if {
	already_unsubscribed
	msg := "This instance was already unsubscribed, together with its renewal periods."
}

check(_, "G08-order") := reason("REFUND-G08", "ALREADY_UNSUBSCRIBED", msg) if {
	not already_unsubscribed
	order_already_refunded
	msg := sprintf("Order %s was already unsubscribed.", [order.id])
}

check(p, "G07") := reason("REFUND-G07", "PARTIAL_UNSUBSCRIBE_NOT_ALLOWED", msg) if {
	p != "AUTO_FAILED_PROVISION"
	not renewal_scope
	partial
	msg := "Only the whole order can be unsubscribed: include every resource of the combination, package or master-slave group."
}

check(p, "G06") := reason("REFUND-G06", "TRIAL_ORDER", "Trial orders cannot be unsubscribed.") if {
	p != "AUTO_FAILED_PROVISION"
	trial_gated
}

check(p, "G05") := reason("REFUND-G05", "ORDER_EXPIRED", "The order has expired and can no longer be unsubscribed.") if {
	p != "AUTO_FAILED_PROVISION"
	expired
}

check(p, "G03") := reason("REFUND-G03", "ACTIVITY_NO_REFUND", msg) if {
	p != "AUTO_FAILED_PROVISION"
	campaign_closes(p)
	msg := sprintf("The terms of campaign %s do not allow this unsubscribe.", [order.activity_id])
}

check(p, "G01") := reason("REFUND-G01", "RETURN_INVOICE_FIRST", msg) if {
	p != "AUTO_FAILED_PROVISION"
	count(blocking_invoices) > 0
	msg := sprintf("Return the invoice first (%s).", [concat("; ", [invoice_material(i) | some i in blocking_invoices])])
}

check("RENEWAL_NOT_EFFECTIVE_FULL", "REN-type") := reason(row.rule, "NOT_REFUNDABLE_BY_TYPE", msg) if {
	not row.renewal_period
	msg := "Renewal periods of this product cannot be unsubscribed on their own."
}

check("RENEWAL_NOT_EFFECTIVE_FULL", "REN-effective") := reason("REFUND-REN-01", "NOT_A_RENEWAL_ORDER", msg) if {
	order.order_type != "renewal"
	msg := sprintf("Order %s is not a renewal order; unsubscribe the whole instance instead.", [order.id])
}

check("RENEWAL_NOT_EFFECTIVE_FULL", "REN-effective") := reason("REFUND-REN-01", "RENEWAL_ALREADY_EFFECTIVE", msg) if {
	order.order_type == "renewal"
	renewal_started
	msg := sprintf("The renewal period started at %s and can no longer be unsubscribed on its own.", [cal.beijing_time(order.period_start)])
}

check("RENEWAL_NOT_EFFECTIVE_FULL", "G04") := reason("REFUND-G04", "OUTSIDE_GUARANTEE_PERIOD", msg) if {
	settings.renewal_requires_guarantee_period
	renewal_outside_guarantee
	msg := "No full refund outside the transaction guarantee period."
}

check("FIVE_DAY_NO_REASON", "5D-01") := reason("REFUND-5D-01", "OUTSIDE_5_DAY_WINDOW", msg) if {
	not within_five_days
	msg := sprintf("The no-reason unsubscribe is only possible within %d hours of provisioning.", [settings.five_day.window_hours])
}

check("FIVE_DAY_NO_REASON", "5D-02") := reason("REFUND-5D-02", "YEARLY_QUOTA_EXHAUSTED", msg) if {
	quota_exhausted
	msg := sprintf("The account has used all %d self-service unsubscribes of %d.", [quota_limit, quota_year])
}

check(p, "5D-05") := reason("REFUND-5D-05", "IMAGE_DETACHED_OR_WITH_ECS", msg) if {
	p in {"FIVE_DAY_NO_REASON", "IMAGE_USAGE_DEDUCTED"}
	product.delivery_type == "image"
	not image_prerequisite_met
	msg := "Unsubscribe the image together with its ECS, or first switch the server to another system disk image."
}

check(p, "NEG-07") := reason("REFUND-NEG-07", "SUPERVISION_COMPLETED", msg) if {
	p in negotiated_paths
	supervision_completed
	msg := "Service supervision has completed, so the order can no longer be unsubscribed."
}

check(p, "NEG-03") := reason("REFUND-NEG-03", "LICENSE_CODE_CLAIMED", msg) if {
	p in negotiated_paths
	license_code_claimed
	msg := "The License authorization code has been claimed, so the order cannot be unsubscribed."
}

check(p, "NEG-02") := reason("REFUND-NEG-02", "AMOUNT_OUT_OF_RANGE", msg) if {
	p in negotiated_paths
	amount_out_of_range
	msg := sprintf("The refund amount must be more than 0.00 and at most %s.", [negotiated_cap])
}

check(p, "NEG-04") := reason("REFUND-NEG-04", "FULL_REFUND_NOT_SUPPORTED", msg) if {
	p in negotiated_paths
	not amount_out_of_range
	no_full_refund
	dec.gte(requested_amount, negotiated_cap)
	msg := sprintf("A full refund is not supported for this order: ask for less than %s.", [negotiated_cap])
}

check("NEGOTIATED_HW_NOT_RECEIVED", "HW-01") := refer("REFUND-HW-01", "HW_IN_TRANSIT_NEEDS_HUAWEI_CONFIRMATION", msg) if {
	subscription.shipment_status == "in_transit"
	msg := "The goods are on their way: a not-received unsubscribe needs Huawei Cloud's confirmation first."
}

amount_out_of_range if dec.lte(negotiated_cap, "0")

amount_out_of_range if dec.lte(requested_amount, "0")

amount_out_of_range if dec.gt(requested_amount, negotiated_cap)

# ---------------------------------------------------------------------------------------------------
# Open paths and their terms.

is_open(p) if count(closing_of[p]) == 0

open_paths := [p | some p in settings.preference; p in candidate_paths; is_open(p)]

closed_paths := [{"path": p, "reasons": [r.code | some r in closing_of[p]]} |
	some p in settings.preference
	p in candidate_paths
	not is_open(p)
]

primary_path := open_paths[0] if {
	count(open_paths) > 0
} else := "MANUAL_REVIEW" if {
	some r in raw_reasons
	r.effect == "refer"
} else := "NOT_SUPPORTED"

# REFUND-IMG-01 / AMB-03: the billed usage fee, else pro rata by time over the paid period.
usage_fee := dec.fixed(subscription.usage_fee, 2) if {
	subscription.usage_fee != null
} else := dec.fixed(dec.div(dec.mul(paid, now_ns - anchor_ns), ts(subscription.expires_at) - anchor_ns), 2) if {
	subscription.expires_at != null
	ts(subscription.expires_at) > anchor_ns
} else := null

usage_refund := dec.fixed(dec.max(dec.sub(paid, usage_fee), "0"), 2) if {
	usage_fee != null
} else := null

fixed_or_null(x) := dec.fixed(x, 2) if {
	x != null
} else := null

requested_or_null := fixed_or_null(object.get(request, "amount", null))

refund_terms(p) := {
	"refund_kind": "full", "refund_amount": paid, "amount_max": paid, "amount_min_exclusive": null,
	"full_refund_allowed": true, "usage_fee": null,
} if {
	p in full_paths
}

refund_terms("IMAGE_USAGE_DEDUCTED") := {
	"refund_kind": "usage_deducted", "refund_amount": usage_refund, "amount_max": usage_refund, "amount_min_exclusive": null,
	"full_refund_allowed": false, "usage_fee": usage_fee,
}

refund_terms(p) := {
	"refund_kind": "negotiated", "refund_amount": requested_or_null, "amount_max": negotiated_cap,
	"amount_min_exclusive": "0.00", "full_refund_allowed": full_refund_allowed, "usage_fee": null,
} if {
	p in negotiated_paths
}

deadlines(p) := {"refund_within_hours_after_approval": settings.negotiated.refund_within_hours_after_approval} if {
	p in {"NEGOTIATED", "NEGOTIATED_HW_NOT_RECEIVED"}
} else := {
	"refund_within_hours_after_approval": settings.negotiated.refund_within_hours_after_approval,
	"return_goods_within_days_after_approval": settings.hardware.return_days,
	"auto_accept_days_after_return_upload": settings.hardware.auto_accept_days,
} if {
	p == "NEGOTIATED_HW_RECEIVED"
} else := {}

prerequisites(p) := ["IMAGE_DETACHED_OR_WITH_ECS"] if {
	p in {"FIVE_DAY_NO_REASON", "IMAGE_USAGE_DEDUCTED"}
	product.delivery_type == "image"
} else := ["RETURN_GOODS_AFTER_APPROVAL"] if {
	p == "NEGOTIATED_HW_RECEIVED"
} else := []

# REFUND-G01: every invoice of the order was returned (or none was asked for); REFUND-G02: no invoice
# application while a negotiated request awaits the merchant.
invoice_prerequisite := "invoice_returned" if {
	count(returned_invoices) > 0
} else := "none"

describe(p) := object.union(refund_terms(p), {
	"path": p,
	"rule": path_rule[p],
	"approval": settings.paths[p].approval,
	"channel": settings.paths[p].channel,
	"refund_destination": settings.paths[p].refund_destination,
	"resulting_state": settings.paths[p].resulting_state,
	"handling_fee": "0.00",
	"coupon_returned": returns_coupon(p),
	"coupon_event": coupon_event[p],
	"consumes_quota": p == "FIVE_DAY_NO_REASON",
	"invoice_prerequisite": invoice_prerequisite,
	"no_invoice_application_during_review": p in negotiated_paths,
	"prerequisites": prerequisites(p),
	"deadlines": deadlines(p),
})

# ---------------------------------------------------------------------------------------------------
# Reasons: every closing reason once; notes when some path is open anyway.

type_reasons := [reason(row.rule, code, msg) |
	not renewal_scope
	not failed_provisioning
	count(row.paths) == 0
	code := type_code
	msg := object.get(row, "note", "This product type cannot be unsubscribed.")
]

type_code := "NOT_REFUNDABLE_BY_TYPE" if {
	row.listed
} else := "TYPE_NOT_IN_REFUND_TABLE"

devcloud_reasons := [refer("REFUND-FAIL-01", "DEVCLOUD_NO_AUTO_UNSUBSCRIBE", msg) |
	not renewal_scope
	devcloud_failure
	msg := "Provisioning failed, but CodeArts (软开云) products are not unsubscribed automatically: manual review."
]

raw_reasons := {r |
	some r in array.concat(type_reasons, devcloud_reasons)
} | {r |
	some rs in closing_of
	some r in rs
}

reasons := {object.union(r, {"effect": "note"}) | some r in raw_reasons} | renewal_payment_reasons if {
	count(open_paths) > 0
} else := raw_reasons

# ---------------------------------------------------------------------------------------------------
# Outputs.

consumes_quota(p) if p == "FIVE_DAY_NO_REASON"

quota(path) := {
	"year": quota_year,
	"limit": quota_limit,
	"used": quota_used,
	"remaining": max([quota_limit - quota_used, 0]),
	"used_after": used_after(path),
	"remaining_after": max([quota_limit - used_after(path), 0]),
}

used_after(path) := quota_used + 1 if {
	consumes_quota(path)
} else := quota_used

renewals_cancelled := [o.id |
	not renewal_scope
	some o in input.facts.orders
	o.order_type == "renewal"
	o.id != order.id
	o.period_start != null
	ts(o.period_start) > now_ns
]

# REFUND-G08 (S002 L2852): unsubscribing the instance unsubscribes its renewal periods too, and a
# renewal order not yet in effect is refunded in full (REFUND-REN-01, L2804, L2809, L2817): each
# cancelled period gives back what was paid for it, on top of the refund of the order in use.
renewal_refunds := [{
	"order_id": id,
	"path": "RENEWAL_NOT_EFFECTIVE_FULL",
	"rule": "REFUND-REN-01",
	"refund_kind": "full",
	"refund_amount": dec.fixed(dec.sum([p.cash_amount | some p in renewal_payments(id)]), 2),
	"coupon": [{"id": p.coupon_id, "amount": dec.fixed(p.coupon_amount, 2)} | some p in renewal_payments(id); p.coupon_id != null],
} |
	some id in renewals_cancelled
]

renewal_payments(id) := [p | some p in object.get(input.facts, "subscription_payments", []); p.order_id == id]

# A cancelled renewal period whose payment cannot be found is not refunded as zero: a person checks it.
renewal_payment_reasons := {refer("REFUND-G08", "RENEWAL_PAYMENT_NOT_FOUND", msg) |
	some id in renewals_cancelled
	count(renewal_payments(id)) == 0
	msg := sprintf("Renewal order %s is cancelled with the instance, but no payment of it is on record: check what it cost before refunding it.", [id])
}

# refund_breakdown is every order the refund gives money back for: the order on path p, then each
# cancelled renewal period. refund_total adds them up (null while a negotiated amount is not given).
refund_breakdown(p, amount) := array.concat(
	[{"order_id": order.id, "path": p, "rule": path_rule[p], "refund_kind": refund_terms(p).refund_kind, "refund_amount": amount}],
	renewal_refunds,
)

refund_total(amount) := dec.fixed(dec.sum(array.concat([amount], [r.refund_amount | some r in renewal_refunds])), 2) if {
	amount != null
} else := null

# REFUND-NEG-02: the most a negotiated path may refund, whether or not the path is open.
cap_if_negotiated := negotiated_cap if {
	some p in candidate_paths
	p in negotiated_paths
} else := null

descriptions := {p: describe(p) | some p in open_paths}

refund_amount_out := refund_total(primary_terms.refund_amount) if {
	primary_path in open_paths
} else := primary_terms.refund_amount

breakdown_out := refund_breakdown(primary_path, primary_terms.refund_amount) if {
	primary_path in open_paths
} else := []

primary_terms := descriptions[primary_path] if {
	primary_path in open_paths
} else := {"refund_amount": "0.00", "coupon_returned": false}

outputs := {
	"path": primary_path,
	"scope": scope,
	"open_paths": [descriptions[p] | some p in open_paths],
	"closed_paths": closed_paths,
	"paid_amount": paid,
	"refund_amount": refund_amount_out,
	"order_refund_amount": primary_terms.refund_amount,
	"refund_breakdown": breakdown_out,
	"coupon": coupon,
	"coupon_returned": primary_terms.coupon_returned,
	"matrix_rule": row.rule,
	"negotiated_cap": cap_if_negotiated,
	"quota": quota(primary_path),
	"invoice": {
		"must_return": count(blocking_invoices) > 0,
		"returns": [{"invoice_id": i.id, "kind": i.kind, "status": i.status, "material": invoice_material(i)} | some i in blocking_invoices],
	},
	"renewal_periods_cancelled": renewals_cancelled,
}
