# Plans and levels (rules-partner.md §B.5-§B.8): joining the solution-provider (SP), general-distributor
# (GD), cloud-reseller (CR) and co-expansion (PCE) plans, changing a CR's GD, the SP level upgrade, the
# PCE's Huawei-shared opportunities (HO), and what an SP account may not do. A membership counts unless it
# has been exited (AMB-02). Every unmet condition is returned.
package arbiter.partner.plan_action

req := input.request

profile := input.facts.profile

entity := input.facts.entity

action := req.action

plan := object.get(req, "plan", null)

statuses(kind) := {m.status | some m in input.facts.plans; m.plan == kind}

member(kind) if {
	some s in statuses(kind)
	s != "exited"
}

joining(kind) if {
	action == "join"
	plan == kind
}

reasons contains {"code": "PLAN_REQUIRED", "rule": "SP-01", "message": sprintf("Say which plan to %s.", [action])} if {
	action in {"join", "exit_plan", "level_upgrade"}
	plan == null
}

# SP-01: joining the SP plan is by self-application; SP-02: not from an account on a path or in the GD plan.
reasons contains {"code": "SELF_APPLICATION", "rule": "SP-01", "effect": "note", "message": "The solution-provider plan is joined by self-application, not by invitation."} if {
	joining("solution_provider")
	profile.hcpn_joined
	not in_path_or_gd
	not sp_count_blocks
}

sp_count_blocks if {
	entity.sp_account_count >= 1
	not entity.eco_manager_approved_multi_sp
}

reasons contains {"code": "NOT_HCPN_PARTNER", "rule": "SP-02", "message": "Finish HCPN onboarding with the account first."} if {
	joining("solution_provider")
	not profile.hcpn_joined
}

reasons contains {"code": "ACCOUNT_IN_PATH_OR_GD", "rule": "SP-02", "message": "An account on a development path or in the general-distributor plan cannot join the solution-provider plan: use another company account, or quick-register a new one, finish HCPN onboarding and apply."} if {
	joining("solution_provider")
	in_path_or_gd
}

in_path_or_gd if profile.path != "none"

in_path_or_gd if member("general_distributor")

reasons contains {"code": "ONE_SP_ACCOUNT_PER_ENTITY", "rule": "SP-03", "message": sprintf("The legal entity already has %d account(s) in the solution-provider plan; another needs the eco manager's approval.", [entity.sp_account_count])} if {
	joining("solution_provider")
	sp_count_blocks
}

# GD-01 invitation only; GD-02 an onboarded account with no path and no other plan.
reasons contains {"code": "GD_INVITATION_REQUIRED", "rule": "GD-01", "message": "The general-distributor plan is by invitation only."} if {
	joining("general_distributor")
	not req.invited
}

other_plans := {m.plan | some m in input.facts.plans; m.status != "exited"; m.plan != "general_distributor"}

reasons contains {"code": "GD_INVITEE_NOT_ELIGIBLE", "rule": "GD-02", "message": sprintf("A general-distributor invitee must be onboarded, on no development path and in no other plan (onboarded: %v, path: %s, plans: %s).", [profile.hcpn_joined, profile.path, concat(", ", sort(other_plans))])} if {
	joining("general_distributor")
	not gd_invitee_ok
}

gd_invitee_ok if {
	profile.hcpn_joined
	profile.path == "none"
	count(other_plans) == 0
}

# CR-02: a cloud reseller works with a named GD, by application or by the GD's invitation.
reasons contains {"code": "GD_REQUIRED", "rule": "CR-02", "message": "Name the general distributor the cloud reseller will work with."} if {
	joining("cloud_reseller")
	object.get(req, "gd_id", "") == ""
}

# SP-15 with AMB-14: an SP account never moves into the CR plan; CR-03: another account of the entity may.
reasons contains {"code": "SP_CANNOT_BECOME_CR", "rule": "SP-15", "message": "A solution-provider account cannot become a cloud reseller: exit the SP plan (or let it lapse), create a new account and accept a GD invitation."} if {
	joining("cloud_reseller")
	member("solution_provider")
}

# SP-10: a delisted SP still resells, through an empty partner account or a new account its GD invites.
reasons contains {"code": "DELISTED_SP_RESELLS_FROM_ANOTHER_ACCOUNT", "rule": "SP-10", "effect": "note", "message": "A delisted solution provider may still do cloud-reseller business through an empty partner account or a new account invited and associated by a general distributor."} if {
	joining("cloud_reseller")
	"delisted" in statuses("solution_provider")
}

# CR-04: the source gives no CR -> GD upgrade rule; the eco manager decides.
reasons contains {"code": "CR_TO_GD_THROUGH_ECO_MANAGER", "rule": "CR-04", "effect": "note", "message": "There is no rule for a cloud reseller becoming a general distributor: consult the eco manager."} if {
	joining("general_distributor")
	member("cloud_reseller")
}

reasons contains {"code": "SP_AND_CR_ON_DIFFERENT_ACCOUNTS", "rule": "CR-03", "effect": "note", "message": "The entity holds the solution-provider plan on another account; SP and CR may be held at the same time on different accounts."} if {
	joining("cloud_reseller")
	not member("solution_provider")
	entity.sp_account_count >= 1
}

# CR-05: a CR cannot change or unbind its GD; it exits, creates a new account and accepts the new GD's invitation.
cr_steps := ["exit the cloud-reseller plan with the current account", "create a new account", "accept the new general distributor's invitation"]

reasons contains {"code": "CR_CANNOT_CHANGE_GD", "rule": "CR-05", "message": sprintf("A cloud reseller cannot change or unbind its general distributor: %s.", [concat(", then ", cr_steps)])} if {
	changing_gd
	member("cloud_reseller")
}

changing_gd if action == "change_gd"

changing_gd if joining("cloud_reseller")

reasons contains {"code": "NOT_CLOUD_RESELLER", "rule": "CR-05", "message": "The account is not a cloud reseller."} if {
	action == "change_gd"
	not member("cloud_reseller")
}

# PCE-01: onboarded, the agreement accepted and the commitment to update opportunities; PCE-02 admits automatically.
reasons contains {"code": code, "rule": "PCE-01", "message": msg} if {
	joining("pce")
	some check in [
		[profile.hcpn_joined, "NOT_HCPN_PARTNER", "Finish HCPN onboarding first."],
		[object.get(req, "accepted_agreement", false), "PCE_AGREEMENT_NOT_ACCEPTED", "Accept the Huawei Cloud partner co-expansion plan agreement."],
		[object.get(req, "committed_to_update_opportunities", false), "OPPORTUNITY_UPDATE_NOT_COMMITTED", "Commit to updating opportunities regularly."],
	]
	check[0] == false
	code := check[1]
	msg := check[2]
}

reasons contains {"code": "ALREADY_IN_PLAN", "rule": "PCE-01", "message": "The account has already joined the co-expansion plan."} if {
	joining("pce")
	member("pce")
}

reasons contains {"code": "AUTOMATIC_ADMISSION", "rule": "PCE-02", "effect": "note", "message": "Admission to the co-expansion plan is automatic, without manual review."} if {
	joining("pce")
	not denied_pce
}

denied_pce if {
	some check in [profile.hcpn_joined, object.get(req, "accepted_agreement", false), object.get(req, "committed_to_update_opportunities", false)]
	check == false
}

denied_pce if member("pce")

# SP level upgrade: an SP whose identity is valid (SP-12), on the first SP account (SP-06, AMB-24), with
# every indicator met (SP-07) and some account of the entity at role stage on a path (SP-08).
upgrading_sp if {
	action == "level_upgrade"
	plan == "solution_provider"
}

reasons contains {"code": "NOT_SP_MEMBER", "rule": "SP-07", "message": "The account is not in the solution-provider plan."} if {
	upgrading_sp
	not member("solution_provider")
}

reasons contains {"code": "SP_IDENTITY_INVALID", "rule": "SP-12", "message": sprintf("The solution-provider certification has lapsed: the membership is %s.", [concat(", ", sort(statuses("solution_provider")))])} if {
	upgrading_sp
	member("solution_provider")
	not "active" in statuses("solution_provider")
}

reasons contains {"code": "NOT_FIRST_SP_ACCOUNT", "rule": "SP-06", "message": "The level scorecard is on the entity's first solution-provider account: apply from that account (AMB-24)."} if {
	upgrading_sp
	not profile.is_first_sp_account
}

reasons contains {"code": "INDICATORS_NOT_MET", "rule": "SP-07", "message": "Every assessment indicator of the next level must be achieved."} if {
	upgrading_sp
	not profile.sp_scorecard_all_indicators_met
}

rank := {"none": 0, "joined": 1, "role_certified": 2, "differentiated": 3}

stage_names := ["none", "joined", "role_certified", "differentiated"]

path_ranks := [object.get(rank, a.path_stage, 0) | some a in input.facts.accounts; a.path in {"software", "service", "si"}]

best_path_stage := stage_names[max(path_ranks)] if {
	count(path_ranks) > 0
} else := "none"

remedy := "switch to the account on the path and complete role certification" if {
	best_path_stage == "joined"
} else := "register a new account, join a development path and reach the role stage" if {
	best_path_stage == "none"
} else := null

reasons contains {"code": "PATH_ROLE_CERT_REQUIRED", "rule": "SP-08", "message": sprintf("An upgrade needs an account of the entity on the service, software or SI path at role stage or above (best: %s): %s.", [best_path_stage, remedy])} if {
	upgrading_sp
	remedy != null
}

reasons contains {"code": "NO_LEVELS", "rule": "CR-01", "message": "The cloud-reseller plan has no levels."} if {
	action == "level_upgrade"
	plan == "cloud_reseller"
}

reasons contains {"code": "NO_LEVEL_RULE", "rule": "SP-16", "effect": "refer", "message": sprintf("The source names no levels or upgrade conditions for the %s plan: ask the eco manager.", [plan])} if {
	action == "level_upgrade"
	plan in {"general_distributor", "pce"}
}

levels := cfg_levels if {
	plan == "solution_provider"
} else := []

cfg_levels := input.rules.cert.sp_levels

# PCE-05: a PCE member at role stage or above with a joint offering may accept an HO.
reasons contains {"code": "NOT_PCE_MEMBER", "rule": "PCE-05", "message": "Only co-expansion plan members receive Huawei-shared opportunities."} if {
	action == "accept_ho"
	not "active" in statuses("pce")
}

reasons contains {"code": "PATH_ROLE_CERT_REQUIRED", "rule": "PCE-05", "message": sprintf("Huawei-shared opportunities need the account at role stage or above (it is %s).", [profile.path_stage])} if {
	action == "accept_ho"
	not profile.path_stage in {"role_certified", "differentiated"}
}

reasons contains {"code": "NO_JOINT_OFFERING", "rule": "PCE-05", "message": "Huawei-shared opportunities need an offering built jointly on Huawei Cloud."} if {
	action == "accept_ho"
	not profile.has_joint_offering
}

# SP-11, GD-06, CR-06: leaving the SP, GD or CR plan is an offline request, not self-service.
exit_routes := {
	"solution_provider": ["SP-11", "the eco manager"],
	"general_distributor": ["GD-06", "the eco manager"],
	"cloud_reseller": ["CR-06", "the local eco manager or channel manager"],
}

reasons contains {"code": "EXIT_THROUGH_OFFLINE_REQUEST", "rule": route[0], "message": sprintf("The %s plan is left by an offline request through %s, not in the Partner Center.", [plan, route[1]])} if {
	action == "exit_plan"
	route := exit_routes[plan]
	member(plan)
}

reasons contains {"code": "NOT_IN_PLAN", "rule": route[0], "message": sprintf("The account is not in the %s plan.", [plan])} if {
	action == "exit_plan"
	route := exit_routes[plan]
	not member(plan)
}

reasons contains {"code": "NO_EXIT_RULE", "rule": "SP-11", "effect": "refer", "message": sprintf("The source gives no exit route for the %s plan.", [plan])} if {
	action == "exit_plan"
	plan != null
	not exit_routes[plan]
}

# SP-04: an SP account has no Huawei Cloud customer identity. SP-13: its company information is changed
# only through the partner main account.
reasons contains {"code": "SP_NO_CUSTOMER_IDENTITY", "rule": "SP-04", "message": "A solution-provider account has no Huawei Cloud customer identity and cannot buy Huawei Cloud services."} if {
	action == "buy_hc_service"
	member("solution_provider")
}

reasons contains {"code": "MAIN_ACCOUNT_ONLY", "rule": "SP-13", "message": "A solution provider's company information is changed through the partner main account."} if {
	action == "change_company_info"
	member("solution_provider")
	not profile.is_main_account
}

admission := "automatic" if {
	joining("pce")
} else := "self_application" if {
	joining("solution_provider")
} else := "invitation" if {
	joining("general_distributor")
} else := null

manual_review := false if {
	joining("pce")
} else := null

remedy_steps := cr_steps if {
	action == "change_gd"
} else := []

decision := {
	"reasons": reasons,
	"outputs": {
		"account_id": profile.account_id,
		"action": action,
		"plan": plan,
		"admission": admission,
		"manual_review": manual_review,
		"best_path_stage": best_path_stage,
		"levels": levels,
		"remedy_steps": remedy_steps,
	},
}
