# Who buys HC resources (rules-partner.md §G.2, INFO-03): a non-BP account in none of the general
# distributor, cloud reseller and solution provider plans. A reseller uses cloud resources through a
# separate cloud account associated with it as a customer.
package arbiter.partner.resource_purchase

account := input.facts.account

reseller_plans := {"general_distributor", "cloud_reseller", "solution_provider"}

kind_plans := {"gd": "general_distributor", "cr": "cloud_reseller", "sp": "solution_provider"}

held contains p.plan if {
	some p in input.facts.plans
	p.plan in reseller_plans
	not p.status in {"exited", "delisted", "invalid"}
}

held contains kind_plans[k] if {
	some k in account.partner_kinds
	kind_plans[k]
}

reasons contains {"code": "BP_ACCOUNT", "rule": "INFO-03", "message": sprintf("Account %s is a BP-type account; it buys through an associated customer account.", [account.id])} if {
	account.account_type == "bp"
}

reasons contains {"code": "RESELLER_ACCOUNT", "rule": "INFO-03", "message": sprintf("Account %s is in the %s plan; a reseller buys through a separate cloud account associated as its customer.", [account.id, concat(", ", sort([p | some p in held]))])} if {
	count(held) > 0
}

decision := {"reasons": reasons, "outputs": {"reseller_plans": sort([p | some p in held])}}
