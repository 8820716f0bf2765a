# Customer-level partner actions (rules-partner.md §F.1): no project registration for SPs and CRs,
# recommendations only after the customer signed the latest notice, no cap on customers, and SP
# customers moved to a CR in batch only through the eco manager.
package arbiter.partner.customer_management

req := input.request

partner := input.facts.partner

target := input.facts.target[0] if count(input.facts.target) > 0

# ASSOC-11: HC registration is customer-level only; SPs and CRs cannot register projects.
reasons contains {"code": "PROJECT_REGISTRATION_NOT_AVAILABLE", "rule": "ASSOC-11", "message": "SPs and CRs cannot register projects: registration is customer-level only."} if {
	req.action == "register_project"
	partner.partner_type in {"sp", "cr"}
}

# ASSOC-12: no limit on sub-customers or resale customers.
reasons contains {"code": "NO_CUSTOMER_LIMIT", "rule": "ASSOC-12", "effect": "note", "message": "There is no limit on the number of sub-customers or resale customers per partner."} if {
	req.action == "add_customer"
}

# ASSOC-14: knowledge recommendations about a customer follow its signing of the latest notice.
reasons contains {"code": "CUSTOMER_NOTICE_NOT_SIGNED", "rule": "ASSOC-14", "message": "Recommendations are visible only after the customer signs the latest 客户关联华为云合作伙伴须知."} if {
	req.action == "view_recommendations"
	not req.customer_signed_latest_notice
}

# ASSOC-28: an SP's sub-customers move to a CR account in batch through the eco manager.
reasons contains {"code": "MIGRATION_THROUGH_ECO_MANAGER", "rule": "ASSOC-28", "message": "Batch migration of sub-customers is done through the eco manager."} if {
	req.action == "migrate_customers"
	object.get(req, "requested_by", "partner") != "eco_manager"
}

reasons contains {"code": "MIGRATION_SP_TO_CR_ONLY", "rule": "ASSOC-28", "message": "Batch migration moves an SP's sub-customers to a cloud-reseller account."} if {
	req.action == "migrate_customers"
	not sp_to_cr
}

sp_to_cr if {
	partner.partner_type == "sp"
	req.target_partner_id != req.partner_id
	target.partner_type == "cr"
}

decision := {"reasons": reasons, "outputs": {"action": req.action}}
