# Channel permissions of a partner (rules-partner.md CR-08, ASSOC-36, ASSOC-37, CPN-18, BILL-19,
# BILL-21): rebates a cloud reseller never gets, where sub-customers order, who handles sales-expansion
# tasks, what the fund-allocation API moves, who may subscribe to which file and see whose consumption,
# and how a personal real-name account becomes an enterprise one.
package arbiter.partner.channel_permission

req := input.request

partner := input.facts.partner

customer := input.facts.customer[0] if count(input.facts.customer) > 0

member := input.facts.member[0] if count(input.facts.member) > 0

manager := input.facts.manager[0] if count(input.facts.manager) > 0

# The partner the customer is associated with (its sub-customer relation).
owner := customer.associated_partner_id

own_customer if owner == req.partner_id

# A general distributor reaches the sub-customers of the cloud resellers under it.
via_cr if {
	partner.partner_type == "gd"
	some cr in input.facts.crs
	cr.partner_type == "cr"
	cr.id == owner
}

# CR-08: a cloud reseller gets no HC incentive rebates; its customers' performance goes to its GD.
reasons contains {"code": "CR_NO_INCENTIVE_REBATE", "rule": "CR-08", "message": "A cloud reseller receives no HC incentive rebates: its customers' performance counts for its general distributor, and CR-GD settlement is agreed between the two."} if {
	req.action == "claim_incentive_rebate"
	partner.partner_type == "cr"
}

# ASSOC-36: sub-customers order on the HC website themselves, never through the partner.
reasons contains {"code": "ORDER_ON_HC_WEBSITE", "rule": "ASSOC-36", "message": "Sub-customers buy HC products and services on the HC website themselves, not through the partner."} if {
	req.action == "place_order_for_sub_customer"
	req.order_channel != "hc_website"
}

# ASSOC-37: GDs and SPs handle their own sub-customers' sales-expansion tasks; a CR's are handled by
# its GD and the CR only views them.
reasons contains {"code": "CR_VIEW_ONLY_EXPANSION_TASK", "rule": "ASSOC-37", "message": "A cloud reseller's sub-customers' sales-expansion tasks are handled by its general distributor; the cloud reseller can only view them."} if {
	req.action == "handle_expansion_task"
	own_customer
	partner.partner_type == "cr"
}

reasons contains {"code": "NOT_OWN_SUB_CUSTOMER", "rule": "ASSOC-37", "message": "The customer is not a sub-customer of this partner (nor of a cloud reseller under it)."} if {
	req.action in {"handle_expansion_task", "view_expansion_task"}
	not own_customer
	not via_cr
}

reasons contains {"code": "PARTNER_TYPE_CANNOT_HANDLE_TASKS", "rule": "ASSOC-37", "message": "Only general distributors and solution providers handle sales-expansion tasks."} if {
	req.action == "handle_expansion_task"
	own_customer
	not partner.partner_type in {"gd", "sp", "cr"}
}

# CPN-18: the 向客户账户拨款 API moves cash only; vouchers go through the 发放优惠券 API.
reasons contains {"code": "ALLOCATE_CASH_ONLY", "rule": "CPN-18", "message": "The allocate-funds API transfers cash only; issue vouchers with the issue-coupon API."} if {
	req.action == "allocate_funds"
	req.fund_kind != "cash"
}

# BILL-19: only GDs subscribe to cloud-reseller information.
reasons contains {"code": "CR_INFO_GD_ONLY", "rule": "BILL-19", "message": "Only general distributors may subscribe to cloud-reseller information."} if {
	req.action == "subscribe_file"
	req.file_content == "cloud_reseller_info"
	partner.partner_type != "gd"
}

# BILL-19: the consumption dashboard covers the partner's sub-customers; a member who is only a
# customer manager sees their own customers.
reasons contains {"code": "NOT_OWN_SUB_CUSTOMER", "rule": "BILL-19", "message": "The consumption dashboard covers only this partner's sub-customers."} if {
	req.action == "view_consumption"
	not own_customer
}

reasons contains {"code": "MEMBER_NOT_OF_PARTNER", "rule": "BILL-19", "message": "The member does not belong to this partner's organisation."} if {
	req.action == "view_consumption"
	not member_of_partner
}

reasons contains {"code": "NOT_MANAGERS_CUSTOMER", "rule": "BILL-19", "message": "A customer manager sees the consumption of their own customers only."} if {
	req.action == "view_consumption"
	member_of_partner
	manager_only
	not managed_by_member
}

member_of_partner if member.partner_id == req.partner_id

manager_only if member.roles == ["customer_manager"]

managed_by_member if manager.member_id == req.member_id

# BILL-21: a personal real-name account becomes enterprise only by the enterprise-document method.
reasons contains {"code": "NOT_PERSONAL_REAL_NAME_ACCOUNT", "rule": "BILL-21", "message": "The account is not a personal real-name account: there is nothing to change to enterprise real-name."} if {
	req.action == "change_real_name_method"
	not personal_real_name
}

reasons contains {"code": "ENTERPRISE_DOCUMENT_REQUIRED", "rule": "BILL-21", "message": "Changing a personal real-name account to enterprise real-name requires the enterprise-document method, not fast bank verification."} if {
	req.action == "change_real_name_method"
	personal_real_name
	req.method != "enterprise_document"
}

personal_real_name if {
	customer.real_name_verified
	not customer.is_enterprise
}

# BILL-19: a subscription is pushed before 24:00 of next week's Wednesday (Beijing time).
weekday_index := {"Monday": 0, "Tuesday": 1, "Wednesday": 2, "Thursday": 3, "Friday": 4, "Saturday": 5, "Sunday": 6}

today := cal.beijing_date(input.now)

next_wednesday := cal.add_days(today, (7 - weekday_index[time.weekday(cal.beijing_instant(today) + 43200000000000)]) + 2)

action_outputs := {"performance_goes_to": partner.general_distributor_id} if {
	req.action == "claim_incentive_rebate"
	partner.partner_type == "cr"
} else := {"order_channel": "hc_website"} if {
	req.action == "place_order_for_sub_customer"
} else := {"handled_by": handler} if {
	req.action == "handle_expansion_task"
} else := {"api": "issue_coupon"} if {
	req.action == "allocate_funds"
	req.fund_kind == "voucher"
} else := {"push_before": cal.beijing_time(cal.beijing_instant(cal.add_days(next_wednesday, 1)))} if {
	req.action == "subscribe_file"
} else := {"customer_scope": scope} if {
	req.action == "view_consumption"
} else := {"review": "manual", "review_working_days": 3} if {
	req.action == "change_real_name_method"
} else := {}

handler := partner.general_distributor_id if {
	own_customer
	partner.partner_type == "cr"
} else := req.partner_id if {
	own_customer
} else := req.partner_id if {
	via_cr
} else := null

scope := "own" if {
	manager_only
} else := "all"

decision := {"reasons": reasons, "outputs": object.union({"action": req.action}, action_outputs)}
