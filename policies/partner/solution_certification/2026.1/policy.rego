# Software solution certification (rules-partner.md §B.1). Creating a solution needs the software path
# (SW-01); a certification passes on the reviews recorded on the solution: a software copyright always
# (SW-05), then one of the scenarios of SW-06 (cloud software) or SW-07 (advanced). The "3或1"
# architecture standard is the reviewer's finding (AMB-17). Every failing condition is returned.
package arbiter.partner.solution_certification

req := input.request

profile := input.facts.profile

rows := input.facts.solution

solution := rows[0] if {
	count(rows) > 0
} else := null

certify := req.action == "certify"

kind := solution.kind if {
	certify
	solution != null
} else := object.get(req, "kind", null)

failures contains {"code": "NOT_IN_SOFTWARE_PATH", "rule": "SW-01", "message": sprintf("The account is on the %s path: software solutions belong to the software path.", [profile.path])} if {
	profile.path != "software"
}

failures contains {"code": "KIND_REQUIRED", "rule": "SW-01", "message": "Say which kind of solution to create (cloud_software or advanced_cloud_software)."} if {
	req.action == "create"
	kind == null
}

failures contains {"code": "SOLUTION_EXISTS", "rule": "SW-01", "message": sprintf("Solution %s already exists.", [req.solution_id])} if {
	req.action == "create"
	solution != null
}

failures contains {"code": "SOLUTION_NOT_FOUND", "rule": "SW-01", "message": sprintf("Solution %s does not exist.", [req.solution_id])} if {
	certify
	solution == null
}

failures contains {"code": "SOLUTION_NOT_OF_ENTITY", "rule": "SW-01", "message": sprintf("Solution %s belongs to another partner entity.", [req.solution_id])} if {
	certify
	solution != null
	solution.uscc != profile.uscc
}

reviewed if {
	certify
	solution != null
	solution.uscc == profile.uscc
}

failures contains {"code": "SOFTWARE_COPYRIGHT_REQUIRED", "rule": "SW-05", "message": "A software copyright registration certificate is required for the FTR review and the online submission."} if {
	reviewed
	not solution.has_software_copyright
}

# SW-06: scenario 1 FTR and one-pager reviews; scenario 2 a partner-led baseline solution launched.
cloud_scenarios contains "ftr_and_one_pager" if {
	solution.ftr_passed
	solution.one_pager_passed
}

cloud_scenarios contains "baseline_launched" if solution.partner_led_baseline_launched

failures contains {"code": "CLOUD_SOFTWARE_CONDITIONS_NOT_MET", "rule": "SW-06", "message": "Cloud-software certification needs the FTR and one-pager reviews passed, or a partner-led baseline solution launched."} if {
	reviewed
	kind == "cloud_software"
	count(cloud_scenarios) == 0
}

# SW-07: scenario 1 FTR, one-pager and test report with the 3-or-1 architecture; scenario 2 a launched
# partner-led baseline with the test report and the architecture; scenario 3 eco-special technical
# certification (which grants advanced certification, ECO-02).
advanced_scenarios contains "ftr_one_pager_test_report" if {
	solution.ftr_passed
	solution.one_pager_passed
	solution.test_report_passed
	solution.architecture_meets_3_or_1
}

advanced_scenarios contains "baseline_launched_test_report" if {
	solution.partner_led_baseline_launched
	solution.test_report_passed
	solution.architecture_meets_3_or_1
}

advanced_scenarios contains "eco_special_technical_certification" if solution.eco_special_tech_certified

missing_advanced := [name |
	some name, field in {
		"FTR review": "ftr_passed", "one-pager review": "one_pager_passed",
		"test report review": "test_report_passed", "3-or-1 architecture": "architecture_meets_3_or_1",
	}
	not solution[field]
]

failures contains {"code": "ADVANCED_CONDITIONS_NOT_MET", "rule": "SW-07", "message": sprintf("Advanced cloud-software certification needs FTR, one-pager and test report with the 3-or-1 architecture, a launched partner-led baseline with the test report and architecture, or eco-special technical certification (missing: %s).", [concat(", ", sort(missing_advanced))])} if {
	reviewed
	kind == "advanced_cloud_software"
	count(advanced_scenarios) == 0
}

scenarios := cloud_scenarios if {
	kind == "cloud_software"
} else := advanced_scenarios

denied if some r in failures

passed if {
	certify
	not denied
}

notes contains {"code": "ECO_SPECIAL_GRANTS_ADVANCED", "rule": "ECO-02", "effect": "note", "message": "Eco-special technical certification grants advanced cloud-software certification together with the eco-special certification."} if {
	passed
	kind == "advanced_cloud_software"
	"eco_special_technical_certification" in advanced_scenarios
}

notes contains {"code": "DIRECT_TO_DIFFERENTIATION", "rule": "SW-03", "effect": "note", "message": "An advanced certification moves the partner to differentiation directly; no separate cloud-software certification is needed."} if {
	passed
	kind == "advanced_cloud_software"
}

stage_after := {"cloud_software": "role_certified", "advanced_cloud_software": "differentiated"}[kind] if {
	passed
} else := null

# SW-11: the certificate is downloaded once the certification has passed.
failures contains {"code": "NOT_CERTIFIED", "rule": "SW-11", "message": sprintf("Solution %s is not certified (%s): its certificate is available once the certification passes.", [req.solution_id, solution.cert_status])} if {
	req.action == "download_certificate"
	solution != null
	solution.uscc == profile.uscc
	solution.cert_status != "certified"
}

failures contains {"code": "SOLUTION_NOT_FOUND", "rule": "SW-11", "message": sprintf("Solution %s does not exist.", [req.solution_id])} if {
	req.action == "download_certificate"
	solution == null
}

reasons := failures | notes

passed_out if {
	passed
} else := false

scenario_list := sort([s | some s in scenarios]) if {
	reviewed
} else := []

decision := {
	"reasons": reasons,
	"outputs": {
		"action": req.action,
		"solution_id": req.solution_id,
		"kind": kind,
		"passed": passed_out,
		"scenarios": scenario_list,
		"stage_after": stage_after,
	},
}
