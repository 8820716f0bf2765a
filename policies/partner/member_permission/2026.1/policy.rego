# Member permissions (rules-partner.md §G.1). A member has the permissions of its roles and nothing
# without them (ORG-01); the preset customer-manager role queries sub-customer consumption but never
# manages vouchers or sees partner bills, and alone it manages only its own customers (ORG-03; combined
# with any other role, all customers, AMB-12); creating opportunities needs the add_opportunity
# permission (ORG-05).
package arbiter.partner.member_permission

req := input.request

member := input.facts.member

cfg := input.rules.org

perm := req.permission

grants(role) := {p | some p in member.custom_permissions} if {
	role == "custom"
} else := {p | some p in object.get(cfg.role_permissions, role, [])}

granted_by contains role if {
	some role in member.roles
	g := grants(role)
	some p in g
	p in {"*", perm}
	not denied_for(role)
}

# ORG-03: the customer-manager role never grants these, whatever a table says.
denied_for(role) if {
	role == "customer_manager"
	perm in cfg.customer_manager_denied_permissions
}

reasons contains {"code": "NO_ROLE", "rule": "ORG-01", "message": sprintf("Member %s has no role and so no permission.", [member.id])} if {
	count(member.roles) == 0
}

reasons contains {"code": "CUSTOMER_MANAGER_EXCLUDED", "rule": "ORG-03", "message": sprintf("The customer-manager role has no %s permission.", [perm])} if {
	count(granted_by) == 0
	"customer_manager" in member.roles
	perm in cfg.customer_manager_denied_permissions
}

reasons contains {"code": "NO_OPPORTUNITY_PERMISSION", "rule": "ORG-05", "message": "Creating opportunities needs the add_opportunity (添加机会点) permission."} if {
	count(granted_by) == 0
	count(member.roles) > 0
	perm == "add_opportunity"
}

reasons contains {"code": "PERMISSION_NOT_GRANTED", "rule": "ORG-01", "message": sprintf("No role of member %s grants %s.", [member.id, perm])} if {
	count(granted_by) == 0
	count(member.roles) > 0
	perm != "add_opportunity"
	not cm_excluded
}

cm_excluded if {
	"customer_manager" in member.roles
	perm in cfg.customer_manager_denied_permissions
}

# ORG-03 with AMB-12: a lone customer manager acts on its own customers only.
scope := "own" if {
	member.roles == ["customer_manager"]
} else := "all"

own_customer if {
	some m in input.facts.manager
	m.member_id == member.id
}

reasons contains {"code": "NOT_OWN_CUSTOMER", "rule": "ORG-03", "message": sprintf("Customer %s is not managed by customer manager %s.", [req.customer_id, member.id])} if {
	count(granted_by) > 0
	scope == "own"
	req.customer_id
	not own_customer
}

decision := {
	"reasons": reasons,
	"outputs": {"customer_scope": scope, "granted_by": sort([r | some r in granted_by])},
}
