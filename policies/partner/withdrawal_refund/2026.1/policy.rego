# Withdrawals (rules-partner.md §G.6). The bank account withdrawn to is named as the Alipay or WeChat
# holder for top-ups by those, and as the account's real-name entity for online-banking top-ups,
# incentive credits and transaction-mode-change credits (BILL-08). After the contracting-entity change
# an online top-up is refunded by its original route from the entity that received it (before the change
# day 华为软件, from it 华为云计算); an offline bank transfer is always refunded by 华为云计算, so payer
# and refunder can differ (BILL-13).
package arbiter.partner.withdrawal_refund

req := input.request

account := input.facts.account

cfg := input.rules.billing

change_on := account.contracting_entity_change_on

topped_up_after_change if {
	change_on != null
	cal.beijing_date(req.topped_up_at) >= change_on
}

received_by := cfg.entity_after_change if {
	topped_up_after_change
} else := cfg.entity_before_change

offline if req.topup_channel == "offline_transfer"

withdrawn_after_change if {
	change_on != null
	cal.beijing_date(input.now) >= change_on
}

refunder := cfg.offline_transfer_refunder if {
	offline
	withdrawn_after_change
} else := received_by

route := "bank_transfer" if {
	offline
} else := "original_route"

holder_channels := {"alipay", "wechat"}

expected_name := object.get(req, "payer_name", "") if {
	req.topup_channel in holder_channels
} else := account.company_name

reasons contains {"code": "PAYEE_NAME_MISMATCH", "rule": "BILL-08", "message": sprintf("A %s top-up is withdrawn to an account named %s.", [req.topup_channel, expected_name])} if {
	trim_space(req.payee_account_name) != expected_name
}

reasons contains {"code": "PAYER_NAME_REQUIRED", "rule": "BILL-08", "message": "An Alipay or WeChat top-up names its account holder (payer_name)."} if {
	req.topup_channel in holder_channels
	object.get(req, "payer_name", "") == ""
}

reasons contains {"code": "REFUNDER_DIFFERS", "rule": "BILL-13", "effect": "note", "message": sprintf("Paid to %s, refunded by %s.", [received_by, refunder])} if {
	refunder != received_by
}

decision := {
	"reasons": reasons,
	"outputs": {"received_by": received_by, "refunded_by": refunder, "route": route},
}
