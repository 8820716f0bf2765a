# Business-information certification (rules-partner.md §G.2). It is required of SP and GD partners and
# wherever HC pays into the partner's bank account, e.g. MDF cash-out and incentive claims (BIZ-01). The
# bank account is a corporate account named exactly as the company (BIZ-02); the enterprise code is the
# USCC, 18 characters of the national standard's alphabet (BIZ-03).
package arbiter.partner.business_info_cert

req := input.request

account := input.facts.account

required_by contains sprintf("partner type %s", [k]) if {
	some k in account.partner_kinds
	k in {"sp", "gd"}
}

required_by contains sprintf("purpose %s", [req.purpose]) if {
	req.purpose in {"incentive_claim", "mdf_cash_out", "bank_payout"}
}

submit if req.action == "submit"

reasons contains {"code": "NOT_REQUIRED", "rule": "BIZ-01", "effect": "note", "message": "Business-information certification is needed only by SP and GD partners or when HC pays into the partner's bank account."} if {
	req.action == "check"
	count(required_by) == 0
}

reasons contains {"code": "CORPORATE_ACCOUNT_REQUIRED", "rule": "BIZ-02", "message": "A corporate bank account is required."} if {
	submit
	object.get(req, "bank_account_type", "") != "corporate"
}

reasons contains {"code": "ACCOUNT_NAME_MISMATCH", "rule": "BIZ-02", "message": sprintf("The bank account name must be the company name %s.", [account.company_name])} if {
	submit
	trim_space(object.get(req, "bank_account_name", "")) != account.company_name
}

reasons contains {"code": "USCC_REQUIRED", "rule": "BIZ-03", "message": "The enterprise code type is the unified social credit code (USCC)."} if {
	submit
	object.get(req, "enterprise_code_type", "") != "uscc"
}

reasons contains {"code": "USCC_FORMAT", "rule": "BIZ-03", "message": "A USCC is 18 characters: digits and capital letters other than I, O, S, V, Z."} if {
	submit
	object.get(req, "enterprise_code_type", "") == "uscc"
	not regex.match(`^[0-9A-HJ-NPQRTUWXY]{18}$`, object.get(req, "enterprise_code", ""))
}

decision := {"reasons": reasons, "outputs": {"required": count(required_by) > 0, "required_by": sort([r | some r in required_by])}}
