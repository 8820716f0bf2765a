package arbiter.refund.request

import data.arbiter.refund.lib

# File one refund on the path the buyer chose. The engine runs this under the locks of the account's
# quota year, the instance and the order, so the quota and refunds read here cannot change before the
# commit: concurrent five-day refunds never exceed the yearly quota (REFUND-5D-02).

chosen := input.request.path

accepted if chosen in lib.open_paths

# A path the product type or situation never offers has no closing check of its own.
not_offered := [lib.reason(lib.row.rule, "PATH_NOT_OFFERED", msg) |
	not chosen in lib.candidate_paths
	msg := sprintf("%s is not a refund path for this order (%s).", [chosen, lib.row.rule])
]

reasons := [r | some r in lib.renewal_payment_reasons] if {
	accepted
} else := array.concat(lib.type_reasons, array.concat(lib.devcloud_reasons, not_offered)) if {
	not chosen in lib.candidate_paths
} else := lib.closing(chosen)

quota_entries := [{"key": lib.quota_key, "amount": "1"}] if {
	lib.consumes_quota(chosen)
} else := []

# The instance (or, for a renewal period, the order) is refunded once; a negotiated request only waits
# for the merchant, who may still refuse it, so it records nothing but its answer.
target_entries := [] if {
	chosen in lib.negotiated_paths
} else := [{"key": sprintf("refund_order:%s", [input.request.order_id]), "amount": "1"}] if {
	lib.renewal_scope
} else := [{"key": sprintf("refund_subscription:%s", [input.request.subscription_id]), "amount": "1"}]

ledger := array.concat(quota_entries, target_entries) if {
	accepted
} else := []

is_accepted if {
	accepted
} else := false

terms := lib.describe(chosen) if {
	accepted
} else := {"refund_amount": "0.00", "coupon_returned": false}

quota := lib.quota(chosen) if {
	accepted
} else := lib.quota("")

# REFUND-G08: an accepted whole-instance refund gives back its cancelled renewal periods too.
refund_amount := lib.refund_total(terms.refund_amount) if {
	accepted
} else := terms.refund_amount

breakdown := lib.refund_breakdown(chosen, terms.refund_amount) if {
	accepted
} else := []

renewals := lib.renewals_cancelled if {
	accepted
} else := []

decision := {
	"reasons": reasons,
	"outputs": {
		"request_id": input.request.request_id,
		"path": chosen,
		"accepted": is_accepted,
		"terms": terms,
		"refund_amount": refund_amount,
		"order_refund_amount": terms.refund_amount,
		"refund_breakdown": breakdown,
		"renewal_periods_cancelled": renewals,
		"coupon": lib.coupon,
		"coupon_returned": terms.coupon_returned,
		"quota": quota,
		"open_path_codes": lib.open_paths,
	},
	"ledger": ledger,
}
