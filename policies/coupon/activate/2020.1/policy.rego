package arbiter.coupon.activate

# Activate an offline coupon into its owner's wallet with its 16-character code (COUPON-01, AMB-17).

coupon := input.facts.coupon

settings := input.rules.activation

strip := {ch: "" | some ch in settings.ignored_characters}

fold(s) := upper(s) if {
	settings.case_insensitive
} else := s

# The code as typed, without separators.
code := fold(strings.replace_n(strip, input.request.code))

well_formed if {
	count(code) == settings.code_length
	regex.match(`^[A-Za-z0-9]+$`, code)
}

activated_before if coupon.activated == true

activated_before if {
	dec.gt(dec.sum([r.amount | some r in input.facts.activation_usage]), "0")
}

reasons contains {"rule": "COUPON-01", "code": "INVALID_ACTIVATION_CODE", "message": sprintf("An activation code has %d letters or digits (separators aside); this one has %d.", [settings.code_length, count(code)])} if {
	count(code) != settings.code_length
}

reasons contains {"rule": "COUPON-01", "code": "INVALID_ACTIVATION_CODE", "message": "An activation code has letters and digits only."} if {
	count(code) == settings.code_length
	not regex.match(`^[A-Za-z0-9]+$`, code)
}

reasons contains {"rule": "COUPON-01", "code": "ACTIVATION_NOT_REQUIRED", "message": "This coupon was issued to the account or claimed by it and needs no activation."} if {
	coupon.acquisition != "offline_code"
}

reasons contains {"rule": "COUPON-01", "code": "COUPON_ALREADY_ACTIVATED", "message": "This coupon is already activated and in the wallet."} if {
	coupon.acquisition == "offline_code"
	activated_before
}

reasons contains {"rule": "COUPON-01", "code": "ACTIVATION_CODE_MISMATCH", "message": "This activation code does not belong to this coupon."} if {
	well_formed
	coupon.acquisition == "offline_code"
	code != fold(strings.replace_n(strip, object.get(coupon, "activation_code", "")))
}

reasons contains {"rule": "COUPON-04", "code": "COUPON_NOT_OWNED", "message": sprintf("This coupon was issued to another account than %s; coupons cannot be transferred.", [input.request.account_id])} if {
	coupon.owner_account_id != input.request.account_id
}

activated if {
	count(reasons) == 0
} else := false

ledger := [{"key": sprintf("activation:%s", [coupon.id]), "amount": "1"}] if {
	activated
} else := []

decision := {
	"reasons": reasons,
	"outputs": {
		"activated": activated,
		"coupon_id": coupon.id,
		"code_checked": code,
		"valid_to": coupon.valid_to,
	},
	"ledger": ledger,
}
