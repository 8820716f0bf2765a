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
reasons contains {"code": "HAS_CLOUD_SOFTWARE_SOLUTION", "rule": "EXIT-04", "message": "The account has a cloud-software solution record."} if account.cloud_software_solution_count > 0

reasons contains {"code": "HAS_ADVANCED_CLOUD_SOFTWARE_SOLUTION", "rule": "EXIT-05", "message": "The account has an advanced cloud-software solution record."} if account.advanced_cloud_software_solution_count > 0

reasons contains {"code": "HAS_TEST_VOUCHER", "rule": "EXIT-06", "message": "The account has a test-voucher record."} if account.test_voucher_count > 0

reasons contains {"code": "HAS_EXAM_VOUCHER", "rule": "EXIT-07", "message": "The account has an exam-voucher record."} if account.exam_voucher_count > 0

reasons contains {"code": "HAS_MDF", "rule": "EXIT-08", "message": "The account has a market development fund (MDF) record."} if account.mdf_count > 0

reasons contains {"code": "HAS_FH", "rule": "EXIT-09", "message": "The account has a dedicated-staff incentive (FH) record."} if account.fh_count > 0

reasons contains {"code": "HAS_DELIVERY_CAPABILITY_SUPPORT", "rule": "EXIT-10", "message": "The account has a delivery-capability support record."} if account.delivery_capability_support_count > 0

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
