# Organisation members (rules-partner.md §G.1): the main account creates members and gives them roles
# (ORG-01); the admin account unlinks them (PS-01), a project specialist only once that status is
# cancelled (PS-02); a member never reuses an IAM user's e-mail or phone and a console IAM user gets no
# Partner Center role (ORG-04); at most 3 roles a member (ORG-06), combinable (ORG-03 with AMB-12).
package arbiter.partner.member_admin

req := input.request

actor := input.facts.actor

cfg := input.rules.org

member := input.facts.member[0] if {
	count(input.facts.member) > 0
} else := null

roles := {r | some r in object.get(req, "roles", [])}

reasons contains {"code": "NOT_MAIN_ACCOUNT", "rule": "ORG-01", "message": sprintf("Only the partner main account creates members and assigns roles; %s is not it.", [actor.id])} if {
	req.action in {"create_member", "assign_roles"}
	not actor.is_main_account
}

reasons contains {"code": "NOT_PARTNER_ADMIN", "rule": "PS-01", "message": sprintf("Only the partner admin account unlinks personal accounts; %s is not it.", [actor.id])} if {
	req.action == "unlink_member"
	not actor.is_main_account
}

reasons contains {"code": "MEMBER_EXISTS", "rule": "ORG-01", "message": sprintf("Member %s already exists.", [req.member_id])} if {
	req.action == "create_member"
	member != null
}

reasons contains {"code": "MEMBER_NOT_FOUND", "rule": "ORG-01", "message": sprintf("%s is not a member of partner %s.", [req.member_id, actor.id])} if {
	req.action in {"assign_roles", "unlink_member"}
	not own_member
}

own_member if member.partner_id == actor.id

reasons contains {"code": "CONTACT_USED_BY_IAM_USER", "rule": "ORG-04", "message": sprintf("IAM user %s already uses this e-mail or phone; delete it from IAM first.", [u.user_name])} if {
	req.action == "create_member"
	some u in input.facts.iam_users
	clash(u)
}

clash(u) if {
	u.email != null
	lower(u.email) == lower(object.get(req, "email", ""))
}

clash(u) if {
	u.phone != null
	u.phone == object.get(req, "phone", "")
}

reasons contains {"code": "IAM_CONSOLE_USER", "rule": "ORG-04", "message": sprintf("Member %s was created in the IAM console; it cannot enter the Partner Center or take its roles.", [member.id])} if {
	req.action == "assign_roles"
	member.origin == "iam_console"
}

reasons contains {"code": "TOO_MANY_ROLES", "rule": "ORG-06", "message": sprintf("A member holds at most %d roles; %d given.", [cfg.max_roles_per_member, count(roles)])} if {
	req.action in {"create_member", "assign_roles"}
	count(roles) > cfg.max_roles_per_member
}

reasons contains {"code": "SPECIALIST_STATUS_ACTIVE", "rule": "PS-02", "message": sprintf("Member %s is a project specialist (%s); cancel that status before unlinking.", [member.id, concat(", ", member.specialist_paths)])} if {
	req.action == "unlink_member"
	count(member.specialist_paths) > 0
}

# ORG-03 with AMB-12: a customer manager alone manages its own customers; with any other role, all.
customer_scope := "own" if {
	"customer_manager" in roles
	count(roles) == 1
} else := "all" if {
	"customer_manager" in roles
} else := null

decision := {
	"reasons": reasons,
	"outputs": {"roles": sort([r | some r in roles]), "customer_scope": customer_scope},
}
