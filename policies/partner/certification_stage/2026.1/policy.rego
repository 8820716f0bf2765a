# The stage an account has reached on its development path (rules-partner.md §B.1). On the software
# path the Partner Center matches the stage automatically from the entity's solution certifications
# (SW-03, SRC L446 "伙伴主体下方案认证情况"): a valid cloud-software certification gives role
# certification (SW-02), a valid advanced one differentiation directly (SW-03). A certification is valid
# until the anniversary of its approval day, which is already expired (SW-08 with AMB-15). Service and
# SI stages come from their reviews and are reported as recorded.
package arbiter.partner.certification_stage

profile := input.facts.profile

cfg := input.rules.cert

months := cfg.solution_cert_validity_months

today := cal.beijing_date(input.now)

certified(s) if {
	s.cert_status == "certified"
	s.approved_at != null
}

expires_on(s) := cal.add_months(s.approved_at, months) if {
	certified(s)
	months != null
} else := null

valid(s) if {
	certified(s)
	months != null
	today < cal.add_months(s.approved_at, months)
}

valid_kinds := {s.kind | some s in input.facts.solutions; valid(s)}

software := profile.path == "software"

computed := "differentiated" if {
	"advanced_cloud_software" in valid_kinds
} else := "role_certified" if {
	"cloud_software" in valid_kinds
} else := "joined"

stage := computed if {
	software
} else := profile.path_stage

titles := {"role_certified": "Cloud Software Partner", "differentiated": "Advanced Cloud Software Partner"}

# The latest expiry among the valid certifications that hold the stage: the stage lasts until then.
holding_kind := {"differentiated": "advanced_cloud_software", "role_certified": "cloud_software"}

stage_valid_until := max({expires_on(s) | some s in input.facts.solutions; valid(s); s.kind == holding_kind[stage]}) if {
	software
	stage in {"role_certified", "differentiated"}
} else := null

reasons contains {"code": "VALIDITY_NOT_CONFIGURED", "rule": "SW-08", "effect": "refer", "message": "The solution-certification validity is not configured (partner.certification solution_cert_validity_months)."} if {
	software
	months == null
}

reasons contains {"code": "CLOUD_SOFTWARE_PARTNER", "rule": "SW-02", "effect": "note", "message": "A valid cloud-software solution certification gives role certification (Cloud Software Partner)."} if {
	software
	stage == "role_certified"
}

reasons contains {"code": "ADVANCED_CLOUD_SOFTWARE_PARTNER", "rule": "SW-03", "effect": "note", "message": "A valid advanced cloud-software solution certification gives differentiation directly (Advanced Cloud Software Partner)."} if {
	software
	stage == "differentiated"
}

reasons contains {"code": "STAGE_RECOMPUTED", "rule": "SW-08", "effect": "note", "message": sprintf("The recorded stage %s no longer matches the entity's valid certifications: the stage is %s.", [profile.path_stage, stage])} if {
	software
	months != null
	profile.path_stage != stage
}

is_valid(s) if {
	valid(s)
} else := false

basis := "solution_certifications" if {
	software
} else := "recorded"

title := object.get(titles, stage, null) if {
	software
} else := null

decision := {
	"reasons": reasons,
	"outputs": {
		"account_id": profile.account_id,
		"path": profile.path,
		"path_stage": stage,
		"basis": basis,
		"title": title,
		"stage_valid_until": stage_valid_until,
		"certifications": [{
			"solution_id": s.id,
			"kind": s.kind,
			"cert_status": s.cert_status,
			"approved_at": s.approved_at,
			"expires_on": expires_on(s),
			"valid": is_valid(s),
		} |
			some s in input.facts.solutions
			certified(s)
		],
	},
}
