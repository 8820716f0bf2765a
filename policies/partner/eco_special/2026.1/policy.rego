# Eco-special software solutions (rules-partner.md §B.2): a joint solution on one of four product families
# (ECO-01) goes software path -> the family's eco-special plan -> admission -> technical certification
# (ECO-02). Admission needs an approved baseline project or a submitted KooGallery application (ECO-03);
# technical certification needs admission and the solution launched or listed (ECO-04). Admission gives
# the family's test voucher and NRE while the solution is not yet released (ECO-05 with AMB-23);
# technical certification gives MDF.
package arbiter.partner.eco_special

req := input.request

profile := input.facts.profile

solution := input.facts.solution[0] if {
	count(input.facts.solution) > 0
} else := null

families := {"ascend_pangu", "kunpeng", "gaussdb", "harmonyos"}

family := solution.eco_family if {
	solution != null
} else := null

plan := sprintf("eco_special_%s", [family]) if {
	family in families
} else := null

in_plan if {
	some m in input.facts.plans
	m.plan == plan
	m.status == "active"
}

reasons contains {"code": "SOLUTION_NOT_FOUND", "rule": "ECO-01", "message": sprintf("Solution %s does not exist.", [req.solution_id])} if solution == null

reasons contains {"code": "SOLUTION_NOT_OF_ENTITY", "rule": "ECO-01", "message": sprintf("Solution %s belongs to another partner entity.", [req.solution_id])} if {
	solution != null
	solution.uscc != profile.uscc
}

reasons contains {"code": "NOT_ECO_SPECIAL_FAMILY", "rule": "ECO-01", "message": "An eco-special solution is built on Ascend Cloud / Pangu, Kunpeng, GaussDB or HarmonyOS app-on-cloud."} if {
	solution != null
	not family in families
}

reasons contains {"code": "NOT_IN_SOFTWARE_PATH", "rule": "ECO-02", "message": "Join the software path first."} if profile.path != "software"

reasons contains {"code": "NOT_IN_ECO_SPECIAL_PLAN", "rule": "ECO-03", "message": sprintf("The account has not joined the %s eco-special plan.", [family])} if {
	family in families
	not in_plan
}

admission_threshold if {
	solution.type == "baseline"
	solution.project_approved
}

admission_threshold if {
	solution.type == "koogallery_product"
	solution.application_submitted
}

reasons contains {"code": "ADMISSION_THRESHOLD_NOT_MET", "rule": "ECO-03", "message": "Admission needs a baseline solution with its project approved (立项) or a KooGallery product with its application submitted."} if {
	req.step == "admission"
	solution != null
	not admission_threshold
}

# ECO-04: "上市发布" for a baseline, "联营上架" for a KooGallery product: the solution's released flag.
reasons contains {"code": "ADMISSION_REQUIRED", "rule": "ECO-04", "message": "Technical certification needs the admission review passed first."} if {
	req.step == "technical_certification"
	solution != null
	not solution.eco_special_admission_passed
}

reasons contains {"code": "NOT_RELEASED", "rule": "ECO-04", "message": "Technical certification needs the baseline solution launched or the KooGallery product listed under joint operation."} if {
	req.step == "technical_certification"
	solution != null
	solution.type in {"baseline", "koogallery_product"}
	not solution.released
}

reasons contains {"code": "TYPE_NOT_ELIGIBLE", "rule": "ECO-04", "message": "Only baseline solutions and KooGallery products are certified."} if {
	req.step in {"admission", "technical_certification"}
	solution != null
	not solution.type in {"baseline", "koogallery_product"}
}

rights := {
	"test_voucher": admission_right,
	"nre": admission_right,
	"mdf": mdf_right,
}

admission_right if {
	solution.eco_special_admission_passed
	not solution.released
} else := false

mdf_right if {
	solution.eco_special_tech_certified
} else := false

reasons contains {"code": "RIGHT_NOT_AVAILABLE", "rule": "ECO-05", "message": sprintf("The %s right needs the admission review passed and the solution not yet released or listed (AMB-23).", [req.step])} if {
	req.step in {"test_voucher", "nre"}
	solution != null
	not admission_right
}

reasons contains {"code": "RIGHT_NOT_AVAILABLE", "rule": "ECO-05", "message": "MDF needs the eco-special technical certification."} if {
	req.step == "mdf"
	solution != null
	not mdf_right
}

grants := ["advanced_cloud_software_certification", sprintf("eco_special_%s_certification", [family])] if {
	req.step == "technical_certification"
	count(reasons) == 0
} else := []

decision := {
	"reasons": reasons,
	"outputs": {
		"solution_id": req.solution_id,
		"family": family,
		"step": req.step,
		"rights": rights,
		"grants": grants,
	},
}
