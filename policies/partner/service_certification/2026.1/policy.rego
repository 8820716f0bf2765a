# Service partner path certification (rules-partner.md §B.3). Role certification: 2 entry-level and 2
# work-level certificates where a higher level replaces a lower one, i.e. at least 4 qualifying
# certificates of which at least 2 are work level or above (SVC-01 with AMB-08: tracks mix, one certificate
# per person and level when the switch is on), obtained with personal real-name accounts (SVC-02) and
# valid on the decision day; one professional-service case completed within 12 months, public when it is
# not on Huawei Cloud (SVC-04); an employment proof matching the entity (SVC-05). Differentiation: role
# certification first (SVC-06), the team, practice and BP review, and the capability tags of the site
# with a core tag (SVC-07). Every unmet condition is returned; unset numbers refer naming the setting.
package arbiter.partner.service_certification

req := input.request

profile := input.facts.profile

cfg := input.rules.cert

today := cal.beijing_date(input.now)

role := req.level == "role"

current(c) if c.valid_until == null

current(c) if today <= c.valid_until

# SVC-02: only certificates obtained with a personal real-name account count.
qualifying := [c |
	some c in input.facts.certificates
	c.personal_realname_account
	current(c)
	cfg.cert_levels[c.name]
]

enterprise_excluded := [c.id |
	some c in input.facts.certificates
	not c.personal_realname_account
	cfg.cert_levels[c.name]
]

# AMB-08: with the switch on, one certificate per person and level is counted.
counted := {[c.holder_id, cfg.cert_levels[c.name]] | some c in qualifying} if {
	cfg.one_cert_per_person_per_level
} else := {[c.id, cfg.cert_levels[c.name]] | some c in qualifying}

n_all := count(counted)

n_work := count({p | some p in counted; p[1] in {"work", "expert"}})

unset contains name if {
	role
	some name in ["service_role_min_certs", "service_role_min_work_certs", "service_case_recency_months"]
	cfg[name] == null
}

unset contains name if {
	not role
	some name in ["service_diff_min_core_tags"]
	cfg[name] == null
}

unset contains sprintf("service_diff_min_tags.%s", [profile.site]) if {
	not role
	object.get(cfg.service_diff_min_tags, profile.site, null) == null
}

reasons contains {"code": "SETTING_NOT_CONFIGURED", "rule": rule, "effect": "refer", "message": sprintf("partner.certification %s is not configured.", [name])} if {
	some name in unset
	rule := setting_rule(name)
}

setting_rule(name) := "SVC-07" if {
	contains(name, "tags")
} else := "SVC-04" if {
	contains(name, "case")
} else := "SVC-01"

reasons contains {"code": "NOT_IN_SERVICE_PATH", "rule": "SVC-01", "message": sprintf("The account is on the %s path, not the service path.", [profile.path])} if {
	profile.path != "service"
}

reasons contains {"code": "CERTIFICATES_INSUFFICIENT", "rule": "SVC-01", "message": sprintf("Role certification needs %d qualifying certificates of which %d at work level or above (HCIP/HCCDP, or HCIE/HCCDE in their place); the account has %d, %d at work level or above.", [cfg.service_role_min_certs, cfg.service_role_min_work_certs, n_all, n_work])} if {
	role
	cfg.service_role_min_certs != null
	cfg.service_role_min_work_certs != null
	some short in [n_all < cfg.service_role_min_certs, n_work < cfg.service_role_min_work_certs]
	short
}

reasons contains {"code": "ENTERPRISE_ACCOUNT_CERTIFICATE", "rule": "SVC-02", "effect": "note", "message": sprintf("Certificates obtained with an enterprise account do not count: %s.", [concat(", ", enterprise_excluded)])} if {
	role
	count(enterprise_excluded) > 0
}

# SVC-03: HCSA and HCSP on the same personal account make one professional certification.
holders_of(name) := {c.holder_id | some c in input.facts.certificates; c.name == name; c.personal_realname_account; current(c)}

professional := holders_of("HCSA") & holders_of("HCSP")

half_professional := (holders_of("HCSA") | holders_of("HCSP")) - professional

reasons contains {"code": "PROFESSIONAL_CERTIFICATION_INCOMPLETE", "rule": "SVC-03", "effect": "note", "message": sprintf("%d holder(s) have only one of HCSA and HCSP: a professional certification counts once both are on one personal account.", [count(half_professional)])} if {
	count(half_professional) > 0
}

# SVC-04: a case completed within the last months; a case outside Huawei Cloud must be published.
recent := [k |
	some k in input.facts.cases
	cfg.service_case_recency_months != null
	k.completed_on >= cal.add_months(today, 0 - cfg.service_case_recency_months)
	k.completed_on <= today
]

case_ok(k) if k.is_huawei_cloud

case_ok(k) if k.publicly_published

qualifying_cases := [k.id | some k in recent; case_ok(k)]

reasons contains {"code": "NO_RECENT_CASE", "rule": "SVC-04", "message": sprintf("Role certification needs a cloud professional-service case completed within the last %d months.", [cfg.service_case_recency_months])} if {
	role
	cfg.service_case_recency_months != null
	count(recent) == 0
}

reasons contains {"code": "CASE_NOT_PUBLISHED", "rule": "SVC-04", "message": "A case that is not on Huawei Cloud must be publicly published."} if {
	role
	count(recent) > 0
	count(qualifying_cases) == 0
}

reasons contains {"code": "EMPLOYMENT_PROOF_MISMATCH", "rule": "SVC-05", "message": "The employment proof's signature and seal must match the certifying entity exactly."} if {
	role
	not profile.svc_employment_proof_matches
}

# SVC-06: no skipping the role stage; then the team, the practice and the BP review.
reasons contains {"code": "ROLE_CERT_REQUIRED_FIRST", "rule": "SVC-06", "message": "Pass role certification before differentiation."} if {
	not role
	not profile.path_stage in {"role_certified", "differentiated"}
}

reasons contains {"code": code, "rule": "SVC-06", "message": msg} if {
	not role
	some field, pair in {
		"svc_dedicated_team_met": ["DEDICATED_TEAM_NOT_MET", "The dedicated team requirement is not met."],
		"svc_project_practice_met": ["PROJECT_PRACTICE_NOT_MET", "The project practice requirement is not met."],
		"svc_bp_review_passed": ["BP_REVIEW_NOT_PASSED", "The BP review has not been passed."],
	}
	not profile[field]
	code := pair[0]
	msg := pair[1]
}

# SVC-07: valid tags for the site, at least one of them a core tag.
valid_tags := {t.name | some t in input.facts.tags; t.valid}

core_tags := valid_tags & {n | some n in cfg.core_tags}

min_tags := object.get(cfg.service_diff_min_tags, profile.site, null)

reasons contains {"code": "TOO_FEW_CAPABILITY_TAGS", "rule": "SVC-07", "message": sprintf("Differentiation on the %s site needs %d valid capability tags; the account has %d.", [profile.site, min_tags, count(valid_tags)])} if {
	not role
	min_tags != null
	count(valid_tags) < min_tags
}

reasons contains {"code": "NO_CORE_CAPABILITY_TAG", "rule": "SVC-07", "message": sprintf("At least %d tag(s) must be one of: %s.", [cfg.service_diff_min_core_tags, concat(", ", cfg.core_tags)])} if {
	not role
	cfg.service_diff_min_core_tags != null
	count(core_tags) < cfg.service_diff_min_core_tags
}

decision := {
	"reasons": reasons,
	"outputs": {
		"account_id": profile.account_id,
		"level": req.level,
		"qualifying_certificates": n_all,
		"work_level_certificates": n_work,
		"professional_certifications": count(professional),
		"qualifying_cases": qualifying_cases,
		"valid_capability_tags": count(valid_tags),
		"core_capability_tags": count(core_tags),
	},
}
