package arbiter.joint.app_access

# JOINT-06: an app authorized to a department is usable by every member of that department and of its
# sub-departments, including members added after the authorization (its time is not compared). An app
# authorized to a member directly is usable by that member.
# JOINT-08: a disabled member may no longer use the apps authorized to it.

req := input.request

member_rows := [m | some m in input.facts.members; m.account == req.member_account]

member := member_rows[0] if count(member_rows) > 0

# department id -> its parent (none for a top-level department).
parents[d.id] := ps if {
	some d in input.facts.departments
	ps := [p | p := d.parent_id; p != null; p != ""]
}

# The member's department and every department above it.
lineage := graph.reachable(parents, [member.department_id]) if {
	is_string(member.department_id)
} else := set()

direct if {
	some a in input.facts.authorizations
	a.subject_kind == "member"
	a.subject_id == req.member_account
}

granting := sort([a.subject_id |
	some a in input.facts.authorizations
	a.subject_kind == "department"
	lineage[a.subject_id]
])

# The nearest authorizing department: the one with the most departments above it.
inherited := min([[0 - count(graph.reachable(parents, [g])), g] | some g in granting])[1] if {
	count(granting) > 0
}

via := "member" if {
	direct
} else := inherited

reasons contains {
	"rule": "JOINT-08", "code": "MEMBER_NOT_FOUND",
	"message": sprintf("The enterprise has no member %s.", [req.member_account]),
} if {
	count(member_rows) == 0
}

reasons contains {
	"rule": "JOINT-08", "code": "MEMBER_DISABLED",
	"message": "The member is disabled: a disabled member can no longer use the apps authorized to it.",
} if {
	member.status == "disabled"
}

reasons contains {
	"rule": "JOINT-06", "code": "APP_NOT_AUTHORIZED",
	"message": sprintf("The app %s is authorized neither to the member nor to its department or any department above it.", [req.app_id]),
} if {
	member
	not via
}

via_value := via if {
	via
} else := null

decision := {
	"reasons": reasons,
	"outputs": {
		"member_account": req.member_account,
		"app_id": req.app_id,
		"via": via_value,
	},
}
