# Software-path test vouchers after cloud-software certification (rules-partner.md SW-10): the cap is per
# partner entity, not per solution, and the vouchers may build and test any of its solutions. The engine
# runs this under the lock partner_test_voucher:<USCC>; each allowed grant records its amount, so the
# amounts granted (before the ledger plus the ledger) with the request never exceed the cap across
# replicas. The right needs a valid cloud-software (or advanced) certification of the entity (SW-02,
# SW-08). An unset cap refers naming the setting.
package arbiter.partner.test_voucher_grant

req := input.request

cfg := input.rules.cert

cap := cfg.test_voucher_cap_per_entity

months := cfg.solution_cert_validity_months

today := cal.beijing_date(input.now)

requested := req.requested_amount

granted_before := input.facts.entity.test_voucher_granted_before

in_ledger := dec.sum([e.amount | some e in input.facts.usage])

granted := dec.add(granted_before, in_ledger)

valid_certified contains s.id if {
	some s in input.facts.solutions
	s.kind in {"cloud_software", "advanced_cloud_software"}
	s.cert_status == "certified"
	s.approved_at != null
	months != null
	today < cal.add_months(s.approved_at, months)
}

reasons contains {"code": "ACCOUNT_NOT_OF_ENTITY", "rule": "SW-10", "message": sprintf("Account %s does not belong to entity %s.", [req.account_id, req.uscc])} if {
	input.facts.profile.uscc != req.uscc
}

reasons contains {"code": "AMOUNT_NOT_POSITIVE", "rule": "SW-10", "message": "The requested amount must be more than zero."} if {
	dec.lte(requested, "0")
}

reasons contains {"code": "SETTING_NOT_CONFIGURED", "rule": "SW-10", "effect": "refer", "message": "The test-voucher cap per entity is not configured for this policy year (partner.certification test_voucher_cap_per_entity)."} if {
	cap == null
}

reasons contains {"code": "SETTING_NOT_CONFIGURED", "rule": "SW-08", "effect": "refer", "message": "The solution-certification validity is not configured (partner.certification solution_cert_validity_months)."} if {
	months == null
}

reasons contains {"code": "NOT_SOFTWARE_CERTIFIED", "rule": "SW-02", "message": "Test vouchers follow a cloud-software certification: the entity has no valid certified solution."} if {
	months != null
	count(valid_certified) == 0
}

reasons contains {"code": "CAP_EXCEEDED", "rule": "SW-10", "message": sprintf("The entity has been granted %s of its %s test-voucher cap; %s more would exceed it (%s left).", [dec.fixed(granted, 2), dec.fixed(cap, 2), dec.fixed(requested, 2), dec.fixed(remaining_before, 2)])} if {
	cap != null
	dec.gt(dec.add(granted, requested), cap)
}

remaining_before := dec.max("0", dec.sub(cap, granted)) if {
	cap != null
} else := null

denied if some r in reasons

ledger := [{"key": sprintf("partner_test_voucher:%s", [req.uscc]), "amount": requested}] if {
	not denied
} else := []

granted_after := dec.add(granted, requested) if {
	not denied
} else := granted

remaining := dec.fixed(dec.sub(cap, granted_after), 2) if {
	cap != null
} else := null

decision := {
	"reasons": reasons,
	"outputs": {
		"uscc": req.uscc,
		"cap": cap,
		"granted_before_request": dec.fixed(granted, 2),
		"granted_after": dec.fixed(granted_after, 2),
		"remaining": remaining,
		"certified_solutions": sort([id | some id in valid_certified]),
	},
	"ledger": ledger,
}
