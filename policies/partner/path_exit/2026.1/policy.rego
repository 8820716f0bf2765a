# Partner development-path exit (rules-partner.md §A): a partner that picked the wrong path may leave
# it before role certification, unless one of the ten blocking records exists. Every blocker found
# is returned, in the document's order.
package arbiter.partner.path_exit

account := input.facts.account

# EXIT-00 (PROPOSED): only an account on a path can leave one.
reasons contains {"code": "NOT_IN_PATH", "rule": "EXIT-00", "message": "The account is not on a development path."} if {
	account.path == "none"
}

# EXIT-01 with AMB-02: any membership whose status blocks (by default: any not exited), PCE included.
reasons contains {"code": "JOINED_PARTNER_PLAN", "rule": "EXIT-01", "message": sprintf("The account has joined a partner plan (%s).", [concat(", ", blocking_plans)])} if {
	count(blocking_plans) > 0
}

blocking_plans contains m.plan if {
	some m in input.facts.plans
	m.status in input.rules.exit.blocking_plan_statuses
}

# EXIT-02 and EXIT-03 are history-based: a certification once completed still blocks after it lapsed.
reasons contains {"code": "ROLE_CERTIFIED", "rule": "EXIT-02", "message": "The account has completed role certification."} if {
	account.role_certified_ever
}

reasons contains {"code": "ROLE_CERTIFIED", "rule": "EXIT-02", "message": "The account has completed role certification."} if {
	account.path_stage in {"role_certified", "differentiated"}
}

reasons contains {"code": "DIFFERENTIATION_CERTIFIED", "rule": "EXIT-03", "message": "The account has completed differentiation certification."} if {
	account.differentiated_ever
}

# EXIT-04..10: a record of the kind in any status (draft, submitted, rejected, expired or approved) blocks.
records := [
	{"field": "cloud_software_solution_count", "code": "HAS_CLOUD_SOFTWARE_SOLUTION", "rule": "EXIT-04", "what": "a cloud-software solution record"},
	{"field": "advanced_cloud_software_solution_count", "code": "HAS_ADVANCED_CLOUD_SOFTWARE_SOLUTION", "rule": "EXIT-05", "what": "an advanced cloud-software solution record"},
	{"field": "test_voucher_count", "code": "HAS_TEST_VOUCHER", "rule": "EXIT-06", "what": "a test-voucher record"},
	{"field": "exam_voucher_count", "code": "HAS_EXAM_VOUCHER", "rule": "EXIT-07", "what": "an exam-voucher record"},
	{"field": "mdf_count", "code": "HAS_MDF", "rule": "EXIT-08", "what": "a market development fund (MDF) record"},
	{"field": "fh_count", "code": "HAS_FH", "rule": "EXIT-09", "what": "a dedicated-staff incentive (FH) record"},
	{"field": "delivery_capability_support_count", "code": "HAS_DELIVERY_CAPABILITY_SUPPORT", "rule": "EXIT-10", "what": "a delivery-capability support record"},
]

reasons contains {"code": r.code, "rule": r.rule, "message": sprintf("The account has %s.", [r.what])} if {
	some r in records
	account[r.field] > 0
}

decision := {
	"reasons": reasons,
	"outputs": {
		"account_id": account.id,
		"path": account.path,
		"path_stage": account.path_stage,
		# EXIT-11: exit is self-service through the "退出路径" button when nothing blocks.
		"exit_allowed": count(reasons) == 0,
	},
}
