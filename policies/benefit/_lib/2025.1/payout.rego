package arbiter.benefit.payout

# GEN-03 (rules-benefits.md §3): a benefit paid into the partner's bank account needs a completed
# business-information certification and a corporate account in the company's name. Shared by the cash
# benefits of §D (nre.*, capability.*, migration.application, delivery.subsidy) and benefit.matrix.
# Expects facts.partner (benefit.partner) and facts.bank_accounts (benefit.bank_accounts).

partner := input.facts.partner

account_matches if {
	some a in input.facts.bank_accounts
	a.corporate
	a.account_name == partner.legal_name
}

reasons contains {
	"rule": "GEN-03", "code": "GEN_NO_BUSINESS_INFO_CERT", "effect": "refer",
	"message": "Cash benefits are paid only after business-information certification; complete it first.",
} if {
	not partner.business_info_certified
}

reasons contains {
	"rule": "GEN-03", "code": "GEN_NO_CORPORATE_ACCOUNT", "effect": "refer",
	"message": "Cash benefits are paid to a corporate bank account in the company's certified name; none is recorded.",
} if {
	partner.business_info_certified
	not account_matches
}
