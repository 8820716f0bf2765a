# Paying for KooGallery general goods (rules-partner.md §G.6, BILL-14): under the contracting entity
# 华为云计算 (from the account's change day) only the balance, Huawei Pay (online) and enterprise online
# banking are accepted. Before the change the source sets no restriction.
package arbiter.partner.koogallery_payment

account := input.facts.account

cfg := input.rules.billing

under_cloud if {
	account.contracting_entity_change_on != null
	cal.beijing_date(input.now) >= account.contracting_entity_change_on
}

entity := cfg.entity_after_change if {
	under_cloud
} else := cfg.entity_before_change

reasons contains {"code": "PAYMENT_METHOD_NOT_ACCEPTED", "rule": "BILL-14", "message": sprintf("Under %s KooGallery general goods are paid by balance, Huawei Pay or enterprise online banking, not %s.", [entity, input.request.payment_method])} if {
	under_cloud
	not input.request.payment_method in {"balance", "huawei_pay", "enterprise_online_banking"}
}

decision := {"reasons": reasons, "outputs": {"contracting_entity": entity}}
