# HCPN onboarding and quick registration (rules-partner.md §B.9, SP-14). A domestic entity's account cannot
# join the international-site partner system (HCPN-02). Identifiers: a tax code of 15 or 18 digits or
# uppercase letters, an 18-character USCC or, without one, the organisation code (HCPN-05; the patterns are
# in the partner.certification table; AMB-21: the format is checked, not the merger date). A quick-registered
# account is registered within the window after the verification code, with its own unregistered mobile
# number (SP-14).
package arbiter.partner.hcpn_onboarding

req := input.request

cfg := input.rules.cert

onboard := req.action == "onboard"

reasons contains {"code": "DOMESTIC_ENTITY_INTERNATIONAL_SITE", "rule": "HCPN-02", "message": "A domestic entity's account cannot join the international-site partner system: the sites are separate."} if {
	onboard
	req.domestic_entity
	req.site in cfg.international_sites
}

reasons contains {"code": "TAX_CODE_FORMAT", "rule": "HCPN-05", "message": "A tax code has 15 or 18 digits or uppercase letters."} if {
	onboard
	not regex.match(cfg.tax_code_pattern, req.tax_code)
}

uscc := object.get(req, "uscc", "")

org_code := object.get(req, "organisation_code", "")

reasons contains {"code": "USCC_FORMAT", "rule": "HCPN-05", "message": "A unified social credit code has 18 digits or uppercase letters."} if {
	onboard
	uscc != ""
	not regex.match(cfg.uscc_pattern, uscc)
}

reasons contains {"code": "USCC_OR_ORGANISATION_CODE_REQUIRED", "rule": "HCPN-05", "message": "Give the unified social credit code, or the organisation code when the entity has none."} if {
	onboard
	uscc == ""
	org_code == ""
}

reasons contains {"code": "ORGANISATION_CODE_FORMAT", "rule": "HCPN-05", "message": "The organisation code does not have the expected format."} if {
	onboard
	uscc == ""
	org_code != ""
	not regex.match(cfg.organisation_code_pattern, org_code)
}

# HCPN-01: one legal entity may onboard several accounts; a new one gets fast onboarding.
reasons contains {"code": "FAST_ONBOARDING", "rule": "HCPN-01", "effect": "note", "message": "The company is already a partner: this account may onboard as one more account of the entity, with fast onboarding."} if {
	onboard
	object.get(req, "entity_already_partner", false)
}

# HCPN-04: without a passed automatic verification the onboarding goes to manual review.
reasons contains {"code": "MANUAL_REVIEW", "rule": "HCPN-04", "effect": "refer", "message": "The automatic verification did not pass: the onboarding goes to manual review, answered by in-site message, e-mail or SMS."} if {
	onboard
	object.get(req, "auto_verification_passed", true) == false
}

window_hours := cfg.quick_registration_window_hours

reasons contains {"code": "SETTING_NOT_CONFIGURED", "rule": "SP-14", "effect": "refer", "message": "partner.certification quick_registration_window_hours is not configured."} if {
	not onboard
	window_hours == null
}

deadline_ns := time.parse_rfc3339_ns(req.verification_sent_at) + ((window_hours * 3600) * 1000000000) if {
	not onboard
	window_hours != null
}

reasons contains {"code": "REGISTRATION_LINK_EXPIRED", "rule": "SP-14", "message": sprintf("The new account must be registered within %d hours of the verification; the link expired at %s.", [window_hours, cal.beijing_time(deadline_ns)])} if {
	time.parse_rfc3339_ns(input.now) > deadline_ns
}

reasons contains {"code": "MOBILE_ALREADY_REGISTERED", "rule": "SP-14", "message": "The new account needs a mobile number not yet registered."} if {
	not onboard
	req.mobile_registered
}

reasons contains {"code": "MOBILE_MUST_DIFFER", "rule": "SP-14", "message": "The new account needs a mobile number other than the main account's."} if {
	not onboard
	req.mobile_same_as_main
}

registration_deadline := cal.beijing_time(deadline_ns) if {
	deadline_ns
} else := null

decision := {
	"reasons": reasons,
	"outputs": {
		"action": req.action,
		"registration_deadline": registration_deadline,
	},
}
