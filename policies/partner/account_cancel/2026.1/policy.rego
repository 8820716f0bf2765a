# Partner account cancellation (rules-partner.md §A.2). Anything not restricted here is allowed (CANCEL-05).
package arbiter.partner.account_cancel

account := input.facts.account

plans_of(kind) := {m.status | some m in input.facts.plans; m.plan == kind}

reasons contains {"code": "MUST_EXIT_PATH_FIRST", "rule": "CANCEL-01", "message": sprintf("The account is on the %s path: exit the path first, then cancel.", [account.path])} if {
	account.path in input.rules.exit.paths
}

# CANCEL-02: an account that ever joined the solution-provider plan is never cancellable.
reasons contains {"code": "SP_ACCOUNT_NOT_CANCELLABLE", "rule": "CANCEL-02", "message": "Accounts that joined the solution-provider plan cannot be cancelled."} if {
	count(plans_of("solution_provider")) > 0
}

reasons contains {"code": "GD_ACCOUNT_NOT_CANCELLABLE", "rule": "CANCEL-03", "message": "General-distributor accounts cannot be cancelled."} if {
	count(plans_of("general_distributor")) > 0
}

reasons contains {"code": "CR_MEMBERSHIP_ACTIVE", "rule": "CANCEL-04", "message": "Exit the cloud-reseller plan, or let it expire, before cancelling."} if {
	some status in plans_of("cloud_reseller")
	not status in input.rules.exit.cancellable_reseller_statuses
}

decision := {
	"reasons": reasons,
	"outputs": {"account_id": account.id, "cancel_allowed": count(reasons) == 0},
}
