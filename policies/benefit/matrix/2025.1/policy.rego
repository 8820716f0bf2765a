package arbiter.benefit.matrix

# The partner's benefit matrix (rules-benefits.md §E): one row per benefit and funding basis, with
# status available (may apply, cap known), not_configured (the cap is set by the official page and
# not configured: an application is referred) or unavailable (lacks lists why), the cap, and the
# decision that judges an application. MDF and voucher rows ask the same modules as mdf.application
# and voucher.application, with a request for the basis; the NRE, capability-improvement, model-migration,
# delivery-support and FH rows ask the modules of nre.application, capability.application,
# migration.application, delivery.filing and fh.application the same way. A row's cap is the one of its
# basis, stage and kind whether or not the partner may apply now.

import data.arbiter.capability.lib as capability
import data.arbiter.delivery.lib as delivery
import data.arbiter.fh.lib as fh
import data.arbiter.mdf.lib as mdf
import data.arbiter.migration.lib as migration
import data.arbiter.nre.lib as nre
import data.arbiter.voucher.lib as voucher

partner := input.facts.partner

pid := input.request.partner_id

year := input.request.year

stages := {"role_certified", "differentiated"}

certified_path if {
	some p in input.facts.paths
	p.stage in stages
}

active_plan(name) if {
	some p in input.facts.plans
	p.plan == name
	p.status == "active"
}

lack(r) := {"rule": r.rule, "code": r.code, "message": r.message}

status(lacks) := "available" if {
	count(lacks) == 0
} else := "not_configured" if {
	every l in lacks {
		l.effect == "refer"
	}
} else := "unavailable"

row(benefit, rule, basis, kind, cap, lacks, decision) := {
	"benefit": benefit,
	"rule": rule,
	"basis": basis,
	"kind": kind,
	"status": status(lacks),
	"may_apply": count(lacks) == 0,
	"cap": cap,
	"lacks": sort_lacks([lack(l) | some l in lacks]),
	"decision": decision,
}

sort_lacks(ls) := [l | some k in sort({sprintf("%s|%s", [l.rule, l.code]) | some l in ls}); some l in ls; sprintf("%s|%s", [l.rule, l.code]) == k]

# ---------------------------------------------------------------- MDF (BEN-13, §A)

mdf_bases contains p.path if some p in input.facts.paths

mdf_bases contains "solution_provider" if active_plan("solution_provider")

mdf_bases contains "distributor" if active_plan("distribution")

mdf_request(b) := {"partner_id": pid, "application_id": "", "funding_basis": b, "budget_year": year, "requested_amount": "0.01"}

mdf_rows contains row("MDF", "BEN-13", b, null, cap, lacks, "mdf.application") if {
	some b in mdf_bases
	cap := mdf.fixed_or_null(mdf.cap) with input.request as mdf_request(b) with input.facts.usage as []
	all := mdf.reasons with input.request as mdf_request(b) with input.facts.usage as []
	lacks := {r | some r in all; r.rule in {"MDF-01", "MDF-10", "MDF-11"}}
}

# ---------------------------------------------------------------- vouchers and labs (BEN-04, BEN-06, BEN-08, §C)

kind_benefit := {"test": ["Test vouchers", "BEN-04"], "exam": ["HCCDE/HCCDP exam vouchers", "BEN-08"], "lab": ["KooLabs cloud labs", "BEN-06"]}

voucher_request(k, b) := {"partner_id": pid, "application_id": "", "kind": k, "basis": b, "year": year, "requested_amount": "0.01"}

voucher_bases contains p.path if {
	some p in input.facts.paths
	p.path in voucher.path_bases
}

voucher_rows contains row(kind_benefit[k][0], kind_benefit[k][1], b, k, cap, lacks, "voucher.application") if {
	some b in voucher_bases
	some k in {"test", "exam", "lab"}
	cap := voucher.fixed_or_null(voucher.cap) with input.request as voucher_request(k, b) with input.facts.usage as []
	lacks := voucher.eligibility with input.request as voucher_request(k, b) with input.facts.usage as []
}

# VCH-05: a special programme in which the partner has a solution.
special_bases contains s.special_programme if {
	some s in input.facts.solutions
	s.special_programme in voucher.programmes
}

voucher_rows contains row("Special-programme test vouchers", "VCH-05", b, "test", cap, lacks, "voucher.application") if {
	some b in special_bases
	cap := voucher.fixed_or_null(voucher.cap) with input.request as voucher_request("test", b) with input.facts.usage as []
	lacks := voucher.eligibility with input.request as voucher_request("test", b) with input.facts.usage as []
}

# ---------------------------------------------------------------- BEN-02, BEN-10, BEN-11, BEN-14, BEN-15

workbench_lacks contains {
	"rule": "GEN-07", "code": "BEN_CHINA_SITE_ONLY",
	"message": "The Solution Workbench serves China-site partners only.",
} if {
	partner.site != "china"
}

workbench_lacks contains {
	"rule": "BEN-02", "code": "BEN_NO_CERTIFIED_PATH",
	"message": "Reach role certification on a development path first.",
} if {
	not certified_path
}

certificate_lacks contains {
	"rule": "BEN-10", "code": "BEN_NO_CERTIFIED_PATH",
	"message": "The partner certificate is for partners that passed role certification or capability differentiation.",
} if {
	not certified_path
}

current_software_cert(level) if {
	some s in input.facts.solutions
	s.software_cert == level
	voucher.cert_current(s) with input.request as voucher_request("test", "software")
}

software_cert_lacks(level) := {{
	"rule": "GEN-05", "code": "BEN_CERTIFICATION_EXPIRED",
	"message": "The solution's certification is valid one year and has expired; renew it.",
} |
	not current_software_cert(level)
	some s in input.facts.solutions
	s.software_cert == level
} | {{
	"rule": "BEN-11", "code": "BEN_NO_CERTIFIED_SOLUTION",
	"message": sprintf("No solution has passed %s certification.", [{"cloud_software": "cloud-software", "advanced": "advanced cloud-software"}[level]]),
} |
	not current_software_cert(level)
	not has_software_cert(level)
}

has_software_cert(level) if {
	some s in input.facts.solutions
	s.software_cert == level
}

lp_diff if {
	some p in input.facts.paths
	p.path == "lp"
	p.stage == "differentiated"
}

lp_lacks contains {
	"rule": "BEN-14", "code": "BEN_LP_DIFFERENTIATION_REQUIRED",
	"message": "Only Learning & Enablement partners at capability differentiation receive this.",
} if {
	not lp_diff
}

koolabs_lacks contains l if some l in lp_lacks

koolabs_lacks contains {
	"rule": "BEN-15", "code": "BEN_JOINT_BUSINESS_PLAN_REQUIRED",
	"message": "KooLabs support for ecosystem training or certification business follows a joint business plan; none is recorded.",
} if {
	lp_diff
	not active_plan("joint_business_plan")
}

other_rows contains r if {
	some r in {
		row("Solution Workbench", "BEN-02", null, null, null, workbench_lacks, null),
		row("Partner certificate", "BEN-10", null, null, null, certificate_lacks, null),
		row("Cloud-software certificate", "BEN-11", "software", "cloud_software", null, software_cert_lacks("cloud_software"), null),
		row("Advanced cloud-software certificate", "BEN-11", "software", "advanced", null, software_cert_lacks("advanced"), null),
		row("Ecosystem training or certification business authorisation", "BEN-14", "lp", null, null, lp_lacks, null),
		row("KooLabs support for ecosystem training or certification business", "BEN-15", "lp", null, null, koolabs_lacks, null),
	}
}

# ---------------------------------------------------------------- BEN-01/03/05/07/09/12 and LAB-06, asked for with general_resources

# The source describes these for the four development paths and leaves their per-stage availability to
# the official site (§E2): benefit.general_resources holds it, a benefit absent there is referred naming
# the setting, and Solution Providers and distributors, having no row, get none. LAB-06 is §C's
# statement of BEN-15 (KooLabs support for LP ecosystem business) and shares its lacks.
general_benefits := {
	"BEN-01": "Toolkits, technical documents, capability kits and best-practice references",
	"BEN-03": "Technical expert support (DTSE or PSA, applied for through the PDM)",
	"BEN-05": "Online courses",
	"BEN-07": "Training and enablement (applied for through the PDM)",
	"BEN-09": "Partner finder listing",
	"BEN-12": "Invitations to Huawei Cloud marketing events",
}

path_stages contains sprintf("%s.%s", [p.path, p.stage]) if {
	some p in input.facts.paths
	p.stage in stages
}

general_lacks(id) := ({{
	"rule": id, "code": "BEN_NO_CERTIFIED_PATH",
	"message": "This resource is offered to partners at role certification or capability differentiation on a development path.",
} |
	not certified_path
} | {{
	"rule": id, "code": "BEN_AVAILABILITY_NOT_CONFIGURED", "effect": "refer",
	"message": sprintf("Its per-stage availability is set on the official site and is not configured (benefit.general_resources availability.%s).", [id]),
} |
	certified_path
	not input.rules.general_resources.availability[id]
}) | {{
	"rule": id, "code": "BEN_NOT_OFFERED_AT_STAGE",
	"message": "It is not offered at your paths and stages.",
} |
	certified_path
	offered := input.rules.general_resources.availability[id]
	count(path_stages & {s | some s in offered}) == 0
}

other_rows contains row(name, id, null, null, null, general_lacks(id), null) if {
	input.request.general_resources
	some id, name in general_benefits
}

other_rows contains row("KooLabs support for LP ecosystem business", "LAB-06", "lp", "lab", null, koolabs_lacks, null) if {
	input.request.general_resources
}

# ---------------------------------------------------------------- NRE (§D1): one row per special programme

nre_bases contains p.plan if {
	some p in input.facts.plans
	p.plan in input.rules.nre_terms.programmes
}

nre_bases contains s.special_programme if {
	some s in input.facts.solutions
	s.special_programme in input.rules.nre_terms.programmes
}

nre_request(sid) := {"partner_id": pid, "application_id": "", "solution_id": sid}

# A solution of the programme passes the solution checks of nre.application (NRE-02 access
# certification and release, NRE-03); programme membership is the partner's lack, listed on its own.
nre_open(b) if {
	some s in input.facts.solutions
	s.special_programme == b
	findings := nre.solution_findings(s, "") with input.request as nre_request(s.id)
		with input.facts.usage as input.facts.nre_usage
		with input.facts.applications as input.facts.nre_applications
	every f in findings {
		f.code == "NRE_NOT_IN_PROGRAMME"
	}
}

nre_lacks(b) := ({r | some r in nre.partner_reasons} | {r |
	not nre.joined(b)
	r := {"rule": "NRE-02", "code": "NRE_NOT_IN_PROGRAMME", "message": sprintf("Join the %s special programme first.", [b])}
}) | {r |
	not nre_open(b)
	r := {
		"rule": "NRE-02", "code": "NRE_NO_ELIGIBLE_SOLUTION",
		"message": sprintf("No %s solution is access-certified, unreleased and without its one NRE application.", [b]),
	}
}

new_rows contains row("NRE one-time engineering fee", "NRE-02", b, null, nre.fixed_or_null(nre.cap), nre_lacks(b), "nre.application") if {
	some b in nre_bases
}

# ---------------------------------------------------------------- capability improvement (§D2)

cap_request := {"partner_id": pid, "application_id": "", "plan_year": year, "label": "", "requested_amount": "0.01"}

on_path(path) if {
	some p in input.facts.paths
	p.path == path
}

cap_lacks := {r | some r in capability.partner_reasons} | {r |
	count(capability.open_labels) == 0
	r := {
		"rule": "CAP-02", "code": "CAP_NO_OPEN_LABEL",
		"message": "You hold no level-1 label in scope, granted in the plan year and not yet used, that can still be applied for.",
	}
}

new_rows contains row("Capability-improvement incentive", "CAP-02", "service", null, null, lacks, "capability.application") if {
	on_path("service")
	lacks := cap_lacks with input.request as cap_request
		with input.facts.partner_usage as input.facts.cap_partner_usage
		with input.facts.budget_usage as input.facts.cap_budget_usage
}

# ---------------------------------------------------------------- model migration (§D3)

new_rows contains row("Model adaptation and migration incentive", "MOD-03", "software", null, null, lacks, "migration.application") if {
	migration_relevant
	lacks := migration.eligibility with input.request as {"partner_id": pid, "action": "apply"}
}

migration_relevant if on_path("software")

migration_relevant if active_plan(input.rules.migration_plan.plan)

# ---------------------------------------------------------------- delivery-capability support (§D4)

new_rows contains row("Delivery-capability support", "DEL-01", "service", null, null, lacks, "delivery.filing") if {
	on_path("service")
	lacks := delivery.eligibility with input.request as {"partner_id": pid}
}

# ---------------------------------------------------------------- FH (§B): one row per programme of the partner's paths

fh_rules := {"FH-07", "FH-10", "FH-22", "FH-31", "FH-40", "FH-30", "FH-41"}

fh_rule := {"svc_expert_2024": "FH-10", "svc_capability_2025": "FH-22", "si_presales": "FH-30", "lp_lecturer_dev": "FH-41", "lp_lecturer_dedicated": "FH-40"}

fh_request(prog) := {"partner_id": pid, "application_id": "", "programme": prog, "month": sprintf("%d-01", [year]), "lines": []}

fh_lack(f) := {"rule": f.rule, "code": f.code, "message": f.message, "effect": {"refer": "refer", "reject": "deny"}[f.kind]}

# FH-20: the capability-building plan is entered per scenario (a CTSP, or role certification and enough
# certified engineers); fh.application judges it per line, the matrix asks whether any scenario is entered.
fh_scenario_lacks(prog) := {{
	"rule": "FH-20", "code": "FH_NO_SCENARIO_ENTERED",
	"message": "You have entered no scenario of the capability-building plan: you are not a CTSP and no scenario has enough certified engineers.",
} |
	prog == "svc_capability_2025"
	not fh_scenario_entered
}

fh_scenario_entered if {
	some sc, _ in input.rules.capability_building.scenarios
	fh.entry_condition(sc) != null
}

new_rows contains row("Dedicated-staff incentive (FH)", fh_rule[prog], cfg.path, prog, null, lacks, "fh.application") if {
	some prog, cfg in input.rules.programmes.programmes
	on_path(cfg.path)
	partner_lacks := {fh_lack(f) |
		some f in fh.partner_findings
		f.rule in fh_rules
	} with input.request as fh_request(prog)
	lacks := partner_lacks | fh_scenario_lacks(prog)
}

rows := [r |
	some k in sort({sprintf("%s|%v|%v|%s", [r.rule, r.basis, r.kind, r.benefit]) | some r in all_rows})
	some r in all_rows
	sprintf("%s|%v|%v|%s", [r.rule, r.basis, r.kind, r.benefit]) == k
]

all_rows := ((mdf_rows | voucher_rows) | other_rows) | new_rows

decision := {
	"outcome": "allow",
	"reasons": [],
	"outputs": {
		"partner_id": pid,
		"year": year,
		"benefits": rows,
		"available": [row_key(r) | some r in rows; r.may_apply],
		"summary": {row_key(r): row_summary(r) | some r in rows},
	},
}

row_key(r) := sprintf("%s|%v|%v", [r.rule, r.basis, r.kind])

# row_summary is "<status>[ <cap>][ <lack codes>]": one line a reader (and a case) can check at a glance.
row_summary(r) := concat(" ", array.concat(array.concat([r.status], [c | c := r.cap; c != null]), [l.code | some l in r.lacks]))
