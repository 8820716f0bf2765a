package arbiter.coupon.conversion

# A coupon pays marketplace orders only: it is never paid out as cash (COUPON-22) and never settles
# arrears (COUPON-23), whatever the coupon and the account.

coupon := input.facts.coupon

account := input.facts.account

reasons contains {"rule": "COUPON-22", "code": "COUPON_NOT_CASHABLE", "message": "A coupon cannot be withdrawn or converted to cash."} if {
	input.request.use == "cash_out"
}

reasons contains {"rule": "COUPON-23", "code": "COUPON_CANNOT_OFFSET_ARREARS", "message": "A coupon cannot be used to settle the account's outstanding arrears."} if {
	input.request.use == "settle_arrears"
}

decision := {
	"reasons": reasons,
	"outputs": {
		"coupon_id": coupon.id,
		"account_in_arrears": account.in_arrears,
		"face_value": dec.fixed(coupon.face_value, 2),
	},
}
