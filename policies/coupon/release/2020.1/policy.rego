package arbiter.coupon.release

# What happens to a redeemed coupon when its payment is cancelled or its order refunded (COUPON-24).
# A coupon that goes back to the wallet gets negative ledger entries that cancel its redemption.

coupon := input.facts.coupon

payment := input.facts.payment

event := input.request.event

settings := input.rules.release

# Net redemption of this coupon on this payment: +1 when redeemed, back to 0 once released.
redeemed_here := dec.sum([r.amount |
	some r in input.facts.coupon_usage
	r.idempotency_key == payment.id
])

redeemed if dec.gt(redeemed_here, "0")

restores := settings.restore_coupon_on_system_failure if {
	event == "failed_provisioning"
} else := settings.restore_on[event]

event_words := {
	"payment_cancelled": "a payment cancelled before it was paid",
	"five_day_no_reason": "a five-day no-reason unsubscribe",
	"failed_provisioning": "the automatic refund of a failed provisioning",
	"negotiated": "a negotiated unsubscribe",
	"image_usage_deducted": "an image unsubscribe with the usage fee deducted",
	"renewal_not_effective": "the unsubscribe of a renewal period not yet in effect",
}

reasons contains {"rule": "COUPON-24", "code": "COUPON_NOT_REDEEMED", "message": sprintf("Coupon %s is not redeemed on payment %s, so there is nothing to return.", [coupon.id, payment.id])} if {
	not redeemed
}

reasons contains {"rule": "COUPON-24", "code": "PAYMENT_NOT_CANCELLED", "message": sprintf("Payment %s is %s, not cancelled.", [payment.id, payment.status])} if {
	event == "payment_cancelled"
	payment.status != "cancelled"
}

reasons contains {"rule": "COUPON-24", "code": "COUPON_NOT_RETURNED", "message": sprintf("A used coupon is not returned after %s; only a five-day no-reason unsubscribe returns it.", [event_words[event]])} if {
	not restores
}

# AMB-10: a returned coupon keeps its original validity, so it may come back already expired.
reasons contains {"rule": "COUPON-08", "code": "COUPON_EXPIRED", "effect": "note", "message": "The coupon is returned with its original validity, which has already ended."} if {
	restores
	time.parse_rfc3339_ns(coupon.valid_to) < time.parse_rfc3339_ns(input.now)
}

blocked if {
	some r in reasons
	object.get(r, "effect", "deny") == "deny"
}

ledger := [
	{"key": sprintf("coupon:%s", [coupon.id]), "amount": "-1"},
	{"key": sprintf("payment:%s", [payment.id]), "amount": "-1"},
] if {
	not blocked
} else := []

restored if {
	not blocked
} else := false

decision := {
	"reasons": reasons,
	"outputs": {
		"restored": restored,
		"coupon_id": coupon.id,
		"payment_id": payment.id,
		"event": event,
		"coupon_valid_to": coupon.valid_to,
	},
	"ledger": ledger,
}
