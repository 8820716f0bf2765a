# Digital-transformation consulting and SI path (rules-partner.md §B.4). Invitation only (SI-01). A
# presales solution expert passed the business exam and holds one of the presales certificates (SI-02);
# a joint offering counts once a baseline solution passed OBP approval or a joint-operation product passed
# the selection decision (SI-04). Role certification: both interlocks, 4 experts, 1 offering or tag
# (SI-03). Differentiation: role certification first (PROPOSED, as SVC-06), both interlocks, 10 experts
# of whom 1 holds an HCIE or HCCDE certificate, offerings plus tags at least 3 with at least 2 tags
# (SI-05). Unset numbers refer naming the setting.
package arbiter.partner.si_certification

req := input.request

profile := input.facts.profile

cfg := input.rules.cert

step := req.step

# SI-02
presales(e) if {
	e.passed_business_exam
	some c in e.certs
	c in cfg.si_presales_certs
}

experts := [e.person_id | some e in input.facts.experts; presales(e)]

expert_level := [e.person_id |
	some e in input.facts.experts
	presales(e)
	strings.any_prefix_match(e.certs, cfg.si_expert_cert_prefixes)
]

# SI-04
counts(o) if {
	o.kind == "baseline"
	o.obp_approved
}

counts(o) if {
	o.kind == "joint_operation"
	o.selection_passed
}

offerings := [o.id | some o in input.facts.offerings; counts(o)]

tags := [t.name | some t in input.facts.tags; t.valid]

settings := {
	"role": ["si_role_min_experts", "si_role_min_offerings_or_tags"],
	"differentiation": ["si_diff_min_experts", "si_diff_min_hcie", "si_diff_min_offerings_plus_tags", "si_diff_min_tags"],
	"join": [],
}

setting_rule := {"role": "SI-03", "differentiation": "SI-05"}

reasons contains {"code": "SETTING_NOT_CONFIGURED", "rule": setting_rule[step], "effect": "refer", "message": sprintf("partner.certification %s is not configured.", [name])} if {
	some name in settings[step]
	cfg[name] == null
}

reasons contains {"code": "SI_INVITE_ONLY", "rule": "SI-01", "message": "Only invited (whitelisted) partners may choose the SI path."} if {
	not profile.si_whitelisted
}

reasons contains {"code": "ALREADY_ON_A_PATH", "rule": "SI-01", "message": sprintf("The account is already on the %s path.", [profile.path])} if {
	step == "join"
	profile.path != "none"
}

reasons contains {"code": "NOT_IN_SI_PATH", "rule": setting_rule[step], "message": sprintf("The account is on the %s path, not the SI path.", [profile.path])} if {
	step != "join"
	profile.path != "si"
}

reasons contains {"code": code, "rule": setting_rule[step], "message": msg} if {
	step != "join"
	some field, pair in {
		"si_bp_interlock_done": ["BP_INTERLOCK_NOT_DONE", "The BP interlock (BP互锁) is not done."],
		"si_customer_list_interlock_done": ["CUSTOMER_LIST_INTERLOCK_NOT_DONE", "The customer-list interlock (客户清单互锁) is not done."],
	}
	not profile[field]
	code := pair[0]
	msg := pair[1]
}

reasons contains {"code": "TOO_FEW_PRESALES_EXPERTS", "rule": "SI-03", "message": sprintf("Role certification needs %d presales solution experts; the account has %d.", [cfg.si_role_min_experts, count(experts)])} if {
	step == "role"
	cfg.si_role_min_experts != null
	count(experts) < cfg.si_role_min_experts
}

reasons contains {"code": "NO_OFFERING_OR_TAG", "rule": "SI-03", "message": sprintf("Role certification needs %d joint offering or capability tag; the account has %d offerings and %d tags.", [cfg.si_role_min_offerings_or_tags, count(offerings), count(tags)])} if {
	step == "role"
	cfg.si_role_min_offerings_or_tags != null
	count(offerings) < cfg.si_role_min_offerings_or_tags
	count(tags) < cfg.si_role_min_offerings_or_tags
}

reasons contains {"code": "ROLE_CERT_REQUIRED_FIRST", "rule": "SI-05", "message": "Pass SI role certification before differentiation."} if {
	step == "differentiation"
	not profile.path_stage in {"role_certified", "differentiated"}
}

reasons contains {"code": "TOO_FEW_PRESALES_EXPERTS", "rule": "SI-05", "message": sprintf("Differentiation needs %d presales solution experts; the account has %d.", [cfg.si_diff_min_experts, count(experts)])} if {
	step == "differentiation"
	cfg.si_diff_min_experts != null
	count(experts) < cfg.si_diff_min_experts
}

reasons contains {"code": "TOO_FEW_EXPERT_LEVEL_EXPERTS", "rule": "SI-05", "message": sprintf("Differentiation needs %d of the experts with an HCIE or HCCDE certificate; the account has %d.", [cfg.si_diff_min_hcie, count(expert_level)])} if {
	step == "differentiation"
	cfg.si_diff_min_hcie != null
	count(expert_level) < cfg.si_diff_min_hcie
}

reasons contains {"code": "TOO_FEW_OFFERINGS_AND_TAGS", "rule": "SI-05", "message": sprintf("Differentiation needs joint offerings and capability tags of %d together; the account has %d.", [cfg.si_diff_min_offerings_plus_tags, count(offerings) + count(tags)])} if {
	step == "differentiation"
	cfg.si_diff_min_offerings_plus_tags != null
	count(offerings) + count(tags) < cfg.si_diff_min_offerings_plus_tags
}

reasons contains {"code": "TOO_FEW_CAPABILITY_TAGS", "rule": "SI-05", "message": sprintf("Differentiation needs %d capability tags; the account has %d.", [cfg.si_diff_min_tags, count(tags)])} if {
	step == "differentiation"
	cfg.si_diff_min_tags != null
	count(tags) < cfg.si_diff_min_tags
}

reasons contains {"code": "PRESALES_EXPERT_DEFINITION", "rule": "SI-02", "effect": "note", "message": sprintf("%d person(s) listed are not presales solution experts (the business exam and HCIP-Cloud Service Solutions Architect or HCCDP-Solution Architectures are both needed).", [count(input.facts.experts) - count(experts)])} if {
	step != "join"
	count(input.facts.experts) > count(experts)
}

reasons contains {"code": "OFFERING_NOT_YET_COUNTED", "rule": "SI-04", "effect": "note", "message": sprintf("%d offering(s) do not count yet: a baseline solution counts after OBP approval, a joint-operation product after the selection decision.", [count(input.facts.offerings) - count(offerings)])} if {
	step != "join"
	count(input.facts.offerings) > count(offerings)
}

decision := {
	"reasons": reasons,
	"outputs": {
		"account_id": profile.account_id,
		"step": step,
		"presales_experts": count(experts),
		"expert_level_experts": count(expert_level),
		"joint_offerings": count(offerings),
		"capability_tags": count(tags),
	},
}
