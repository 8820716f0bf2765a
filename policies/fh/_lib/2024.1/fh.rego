package arbiter.fh.lib

# FH (dedicated-staff incentive) rules of rules-benefits.md §B, shared by fh.application (a partner's
# monthly application, several persons) and fh.grant (the commit of one person's incentive).

import data.arbiter.benefits.dates

req := input.request

prog := req.programme

month := req.month

month_idx := dates.month_index(month)

cfg := input.rules.programmes.programmes[prog]

partner := input.facts.partner

today := cal.beijing_date(input.now)

# One person per line: fh.application sends lines, fh.grant sends the line's fields at the top level.
line_fields := {"person_id", "person_type", "scenario", "standards", "project_ids", "class_hours", "satisfaction"}

lines := req.lines if {
	req.lines
} else := [object.filter(req, line_fields)]

persons := object.union(
	{p.id: p | some p in input.facts.persons},
	{p.id: p | p := object.get(input.facts, "person", null); p != null},
)

person_certs(pid) := [c | some c in input.facts.certificates; c.person_id == pid]

cert_valid(c) if c.valid_until == null

cert_valid(c) if c.valid_until >= today

valid_cert_codes(pid) := {c.code | some c in person_certs(pid); c.kind == "cert"; cert_valid(c)}

# ---------------------------------------------------------------- windows (FH-02, AMB-01)

window_of(p, m) := [s, s + 2] if {
	input.rules.programmes.programmes[p].window.quarter
	s := dates.month_index(cal.quarter_start(dates.month_first(m)))
} else := [dates.month_index(m), (dates.month_index(m) + input.rules.programmes.programmes[p].window.months) - 1]

window := window_of(prog, month)

window_text(w) := sprintf("%s..%s", [dates.month_at(w[0]), dates.month_at(w[1])])

overlaps(a, b) if {
	a[0] <= b[1]
	b[0] <= a[1]
}

# ---------------------------------------------------------------- earlier grants

recorded := {g.id: g | some g in array.concat(input.facts.grants, object.get(input.facts, "person_grants", []))}

blocking_grants := [g |
	some g in recorded
	g.status in input.rules.programmes.blocking_grant_statuses
	g.application_id != req.application_id
]

recorded_window(g) := [dates.month_index(g.coverage_from), dates.month_index(g.coverage_to)]

# Grants committed by fh.grant are ledger rows keyed fh_person:<person> and fh_partner:<partner>; their
# idempotency key "<application>/<person>/<programme>/<month>" says what was granted.
ledger_rows := array.concat(object.get(input.facts, "partner_ledger", []), object.get(input.facts, "person_ledger", []))

# A zero amount is a referred application pending with the desk (FH-01 names pending applications as
# blocking); fh.release rows with the same key free it when the desk rejects the application.
released := {r.idempotency_key | some r in ledger_rows; r.decision == "fh.release"}

committed := {{"application_id": parts[0], "person_id": parts[1], "programme": parts[2], "month": parts[3]} |
	some r in ledger_rows
	r.decision == "fh.grant"
	parts := split(r.idempotency_key, "/")
	count(parts) == 4
	parts[0] != req.application_id
	not dec.lt(r.amount, "0")
	not r.idempotency_key in released
}

# held(pid) lists every period the person already holds: {programme, window, source}.
held(pid) := array.concat(
	[{"programme": g.programme, "window": recorded_window(g), "source": g.id} | some g in blocking_grants; g.person_id == pid],
	[{"programme": c.programme, "window": window_of(c.programme, c.month), "source": c.application_id} | some c in committed; c.person_id == pid],
)

prior_count(pid, p) := count([1 | some g in blocking_grants; g.person_id == pid; g.programme == p]) + count([1 | some c in committed; c.person_id == pid; c.programme == p])

# ---------------------------------------------------------------- partner-level findings

membership := m if {
	some m in input.facts.memberships
	m.plan == cfg.plan
}

partner_findings contains {
	"kind": "refer", "rule": "FH-07", "code": "FH_NO_BUSINESS_INFO_CERT",
	"message": "FH is paid to your bank account only after business-information certification; complete it first.",
} if {
	not partner.business_info_certified
}

partner_findings contains {
	"kind": "reject", "rule": "FH-10", "code": "FH_NOT_INVITED",
	"message": "The 2024 expert-service FH is by invitation only; confirm the requirements with your ecosystem manager first.",
} if {
	cfg.plan_gate == "invited"
	not membership.invited
}

partner_findings contains {
	"kind": "reject", "rule": gate_rule, "code": "FH_AGREEMENT_NOT_SIGNED",
	"message": sprintf("Apply for the %s qualification and sign its agreement before applying for the incentive.", [prog]),
} if {
	cfg.plan_gate == "agreement"
	not membership.agreement_signed
}

gate_rule := {"svc_capability_2025": "FH-22", "si_presales": "FH-31"}[prog]

partner_findings contains {
	"kind": "reject", "rule": "FH-40", "code": "FH_NOT_IN_PLAN",
	"message": "Only partners that joined the Learning & Enablement Funding Head plan can apply for lecturer funds.",
} if {
	cfg.plan_gate == "member"
	not plan_joined
}

plan_joined if {
	membership.joined_at != null
	membership.status == "active"
}

# FH-23, FH-32: one application per partner per calendar month where the programme limits it.
other_applications := {a.id |
	some a in input.facts.applications
	a.id != req.application_id
	a.programme == prog
	a.month == month
	a.status in input.rules.programmes.counted_application_statuses
} | {c.application_id | some c in committed; c.programme == prog; c.month == month}

partner_findings contains {
	"kind": "reject", "rule": {"svc_capability_2025": "FH-23", "si_presales": "FH-32"}[prog], "code": "FH_MONTHLY_LIMIT",
	"message": sprintf("You may submit %d %s application(s) per month; %s already applied for %s (%s).", [cfg.max_applications_per_partner_month, prog, partner.id, month, concat(", ", sort(other_applications))]),
} if {
	cfg.max_applications_per_partner_month != null
	count(other_applications) >= cfg.max_applications_per_partner_month
}

path_stage(path) := s if {
	some p in input.facts.paths
	p.path == path
	s := p.stage
} else := "none"

# FH-30: SI plan entry.
partner_findings contains {
	"kind": "reject", "rule": "FH-30", "code": "FH_PLAN_THRESHOLD_NOT_MET",
	"message": "The presales-expert incentive is for SI partners that passed capability differentiation, or passed role certification and were approved by Huawei Cloud for their value-customer contribution.",
} if {
	prog == "si_presales"
	not si_entry
}

si_entry if path_stage("si") == "differentiated"

si_entry if {
	path_stage("si") == "role_certified"
	partner.si_huawei_approved_for_fh
}

# FH-41 (1): the partner must have enough certified HCCDP/HCCDE course lecturers.
lecturer_certs(pid) := [c |
	some c in person_certs(pid)
	c.kind == "lecturer"
	c.code in input.rules.lecturer_funds.lecturer_certificates
	cert_valid(c)
]

certified_lecturers := {c.person_id |
	some c in input.facts.certificates
	c.kind == "lecturer"
	c.code in input.rules.lecturer_funds.lecturer_certificates
	cert_valid(c)
}

partner_findings contains {
	"kind": "reject", "rule": "FH-41", "code": "FH_LECTURER_THRESHOLD_NOT_MET",
	"message": sprintf("The lecturer development fund needs at least %d certified HCCDP/HCCDE course lecturers; you have %d.", [input.rules.lecturer_funds.min_partner_lecturers, count(certified_lecturers)]),
} if {
	prog == "lp_lecturer_dev"
	count(certified_lecturers) < input.rules.lecturer_funds.min_partner_lecturers
}

# FH-20: capability-building plan entry, per scenario.
capability := input.rules.capability_building

certified_engineers(scenario) := {c.person_id |
	some c in input.facts.certificates
	c.kind == "cert"
	c.code in capability.scenarios[scenario].certificates
	cert_valid(c)
}

entry_condition(scenario) := "ctsp" if {
	partner.is_ctsp
} else := "certified_engineers" if {
	path_stage("service") in {"role_certified", "differentiated"}
	count(certified_engineers(scenario)) >= capability.min_certified_engineers
} else := null

plan_entry := {s: {"eligible": entry_condition(s) != null, "condition": entry_condition(s), "certified_engineers": count(certified_engineers(s))} |
	some s, _ in capability.scenarios
} if {
	prog == "svc_capability_2025"
} else := null

partner_findings contains {
	"kind": kind, "rule": "FH-20", "code": "FH_PLAN_ENTRY_CONFIRMATION",
	"message": sprintf("You qualify for the %s scenario through role certification and %d certified engineers; your ecosystem manager confirms the entry.", [s, count(certified_engineers(s))]),
} if {
	prog == "svc_capability_2025"
	some s in {l.scenario | some l in lines}
	entry_condition(s) == "certified_engineers"
	kind := confirmation_kind
}

confirmation_kind := "refer" if {
	capability.condition2_manual_review
} else := "note"

partner_rejected if {
	some f in partner_findings
	f.kind == "reject"
}

# ---------------------------------------------------------------- line findings

# findings: {line (index), kind: reject | refer | note, rule, code, message}
findings contains line_finding(i, "reject", "FH-03", "FH_PERSON_UNKNOWN", "is not a person on record for this partner") if {
	some i, l in lines
	not persons[l.person_id]
}

findings contains line_finding(i, "reject", "FH-03", "FH_PERSON_UNKNOWN", sprintf("is employed by %v, not by %s", [p.partner_id, req.partner_id])) if {
	some i, l in lines
	p := persons[l.person_id]
	p.partner_id != req.partner_id
}

line_finding(i, kind, rule, code, text) := {
	"line": i, "kind": kind, "rule": rule, "code": code,
	"message": sprintf("Person %s: %s.", [lines[i].person_id, text]),
}

period_from := dates.month_first(dates.month_at(window[0]))

period_to := dates.month_last(dates.month_at(window[1]))

# Predicates read by several rules are true or false, never undefined: the evaluator remembers a
# function's value for its arguments, but not its failure.
formal(p) if {
	p.formal_labour_contract
	not p.dispatched
} else := false

employed_on(p, d) if {
	p.employment_valid_from != null
	p.employment_valid_from <= d
	valid_to_ok(p, d)
} else := false

valid_to_ok(p, _) if p.employment_valid_to == null

valid_to_ok(p, d) if p.employment_valid_to >= d

findings contains line_finding(i, "reject", "FH-03", "FH_NOT_FORMAL_EMPLOYEE", text) if {
	some i, l in lines
	p := persons[l.person_id]
	not formal(p)
	text := not_formal_text(p)
}

not_formal_text(p) := "agency (dispatched) workers never qualify for FH" if {
	p.dispatched
} else := "only formal employees with a signed labour contract qualify for FH"

findings contains line_finding(i, "reject", "FH-03", "FH_NOT_FORMAL_EMPLOYEE", sprintf("the employment must be valid throughout the incentive period %s to %s", [period_from, period_to])) if {
	some i, l in lines
	p := persons[l.person_id]
	formal(p)
	not employed_throughout(p)
	not partial_quarter(p)
}

employed_throughout(p) if {
	employed_on(p, period_from)
	employed_on(p, period_to)
}

# AMB-02: a quarterly incentive for a person employed for only part of the quarter is not prorated.
partial_quarter(p) if {
	cfg.window.quarter
	not employed_throughout(p)
	employed_on(p, dates.month_first(month))
	employed_on(p, dates.month_last(month))
}

findings contains line_finding(i, "refer", "FH-15", "FH_PARTIAL_QUARTER", sprintf("employed for only part of the quarter %s; there is no proration rule, so the desk decides", [window_text(window)])) if {
	some i, l in lines
	p := persons[l.person_id]
	formal(p)
	partial_quarter(p)
}

findings contains line_finding(i, "refer", "FH-03", "NEEDS_INFO_EMPLOYMENT_EVIDENCE", "attach social-security proof or payroll records valid in the period") if {
	cfg.employment_evidence == "social_security_or_payroll"
	some i, l in lines
	p := persons[l.person_id]
	count(p.social_security_months) == 0
	not p.payroll_records
}

findings contains line_finding(i, "refer", "FH-03", "NEEDS_INFO_EMPLOYMENT_EVIDENCE", "attach the company-stamped employment certificate") if {
	cfg.employment_evidence == "stamped_certificate"
	some i, l in lines
	p := persons[l.person_id]
	not p.stamped_employment_cert
}

path_code := {"service": "FH_PERSON_NOT_SERVICE_SPECIALIST", "si": "FH_PERSON_NOT_SI_SPECIALIST", "lp": "FH_PERSON_NOT_LP_SPECIALIST", "software": "FH_PERSON_NOT_SOFTWARE_SPECIALIST"}

path_rule := {"svc_expert_2024": "FH-09", "svc_capability_2025": "FH-24", "si_presales": "FH-33", "lp_lecturer_dev": "FH-41", "lp_lecturer_dedicated": "FH-42"}

findings contains line_finding(i, "reject", path_rule[prog], path_code[cfg.path], sprintf("must be a project specialist of the %s path (is %v)", [cfg.path, p.project_specialist_path])) if {
	some i, l in lines
	p := persons[l.person_id]
	p.project_specialist_path != cfg.path
}

# FH-01: one FH per person per period, across programmes, paths and scenarios.
findings contains line_finding(i, "reject", "FH-01", "FH_EXCLUSIVE_PERIOD", sprintf("already holds %s for %s (%s), which overlaps %s", [h.programme, window_text(h.window), h.source, window_text(window)])) if {
	some i, l in lines
	some h in held(l.person_id)
	overlaps(h.window, window)
}

findings contains line_finding(i, "reject", "FH-01", "FH_EXCLUSIVE_PERIOD", "appears twice in this application") if {
	some i, l in lines
	some j, k in lines
	j < i
	k.person_id == l.person_id
}

# ---------------------------------------------------------------- 10.6.1 expert service (FH-10..FH-18)

expert := input.rules.expert_service

regions := input.rules.region_coefficients

findings contains line_finding(i, "reject", "FH-13", "FH_PERSON_TYPE_NOT_PAYABLE", sprintf("person type %v has no baseline in this programme", [object.get(l, "person_type", null)])) if {
	prog == "svc_expert_2024"
	some i, l in lines
	not expert.person_types[object.get(l, "person_type", "")]
}

findings contains line_finding(i, "reject", "FH-18", "FH_PERSON_TYPE_NOT_QUALIFIED", sprintf("does not meet the %s requirements (%s)", [l.person_type, concat(", ", gaps)])) if {
	prog == "svc_expert_2024"
	some i, l in lines
	p := persons[l.person_id]
	t := expert.person_types[l.person_type]
	gaps := qualification_gaps(p, t)
	count(gaps) > 0
}

qualification_gaps(p, t) := {g |
	some g, missing in {
		"expert-group assessment": expert_assessment_missing(p),
		"experience": experience_missing(p, t),
		"certificate or credential": credential_missing(p, t),
	}
	missing
}

expert_assessment_missing(p) if {
	expert.requires_expert_group_assessment
	not p.passed_expert_group_assessment
} else := false

experience_missing(p, t) := false if {
	p.ict_years >= t.min_ict_years
} else := false if {
	t.alt_min_delivery_years != null
	p.integration_delivery_years >= t.alt_min_delivery_years
	p.transformation_projects_key_role >= t.alt_min_key_projects
} else := true

credential_missing(p, t) := false if {
	some code in valid_cert_codes(p.id)
	some prefix in t.certificate_prefixes
	prefixed(code, prefix)
} else := false if {
	t.pmp_counts
	p.pmp
} else := false if {
	t.industry_domain_counts
	p.industry_domain_capability
} else := true

prefixed(code, prefix) if code == prefix

prefixed(code, prefix) if startswith(code, concat("", [prefix, "-"]))

# FH-11, FH-14: the coefficient follows the city where social security is paid.
coefficient(p) := null if {
	p.social_security_country != regions.domestic_country
} else := regions.manual_review[p.social_security_city] if {
	regions.manual_review[p.social_security_city]
} else := c if {
	some t in regions.tiers
	p.social_security_city in t.cities
	c := t.coefficient
} else := null if {
	p.social_security_city == null
} else := regions.default_coefficient

findings contains line_finding(i, "refer", "FH-14", "FH_REGION_MANUAL_REVIEW", text) if {
	prog == "svc_expert_2024"
	some i, l in lines
	p := persons[l.person_id]
	region_review(p)
	text := region_review_text(p)
}

region_review(p) if {
	p.social_security_country != regions.domestic_country
} else if {
	regions.manual_review[p.social_security_city]
} else if {
	p.social_security_city == null
} else := false

region_review_text(p) := sprintf("social security is paid outside %s; the regional coefficient is set by the desk", [regions.domestic_country]) if {
	p.social_security_country != regions.domestic_country
} else := "the social-security city is unknown" if {
	p.social_security_city == null
} else := sprintf("%s is not in the coefficient table; the proposed coefficient %s is reviewed by the desk", [p.social_security_city, regions.manual_review[p.social_security_city]])

expert_amount(l) := dec.fixed(dec.mul(dec.mul(dec.mul(t.baseline, expert.dedication), expert.months), c), 2) if {
	t := expert.person_types[l.person_type]
	c := coefficient(persons[l.person_id])
	c != null
}

# ---------------------------------------------------------------- 10.6.2 capability building (FH-20..FH-26)

findings contains line_finding(i, "reject", "FH-20", "FH_PLAN_THRESHOLD_NOT_MET", sprintf("you have not entered the plan for the %s scenario: you are not a CTSP and %d of the %d required engineers hold a qualifying certificate", [l.scenario, count(certified_engineers(l.scenario)), capability.min_certified_engineers])) if {
	prog == "svc_capability_2025"
	some i, l in lines
	entry_condition(l.scenario) == null
}

findings contains line_finding(i, "reject", "FH-24", "FH_ASSESSMENT_MISSING", sprintf("has not passed the capability-building assessment for standard %s of the %s scenario", [std, l.scenario])) if {
	prog == "svc_capability_2025"
	some i, l in lines
	some std in object.get(l, "standards", [])
	not assessed(l.person_id, l.scenario, std)
}

assessed(pid, scenario, std) if {
	some a in input.facts.assessments
	a.person_id == pid
	a.scenario == scenario
	a.standard == std
}

findings contains line_finding(i, "reject", "FH-24", "FH_DUPLICATE_PERSON_STANDARD", sprintf("was already incentivised for capability standard %s (%s)", [std, g.id])) if {
	prog == "svc_capability_2025"
	some i, l in lines
	some std in object.get(l, "standards", [])
	some g in blocking_grants
	g.person_id == l.person_id
	g.programme == "svc_capability_2025"
	std in g.standards
}

scenario_tier(s) := capability.scenario_tiers[s]

findings contains line_finding(i, "refer", "FH-21", "FH_SCENARIO_TIER_UNMAPPED", sprintf("the tier of the %s scenario is set by the 2025 plan notice and is not configured, so the amount is left to the desk", [l.scenario])) if {
	prog == "svc_capability_2025"
	some i, l in lines
	not scenario_tier(l.scenario)
}

# FH-21: a tier configured without its amount per standard cannot be paid; the desk decides, not a silent null.
findings contains line_finding(i, "refer", "FH-21", "FH_TIER_AMOUNT_UNCONFIGURED", sprintf("the %s scenario is tier %d, but no amount per standard is configured for that tier (fh.capability_building tier_amounts)", [l.scenario, scenario_tier(l.scenario)])) if {
	prog == "svc_capability_2025"
	some i, l in lines
	not capability.tier_amounts[format_int(scenario_tier(l.scenario), 10)]
}

capability_amount(l) := dec.fixed(dec.mul(count(l.standards), capability.tier_amounts[format_int(scenario_tier(l.scenario), 10)]), 2)

# ---------------------------------------------------------------- 10.6.3 SI presales (FH-30..FH-36)

si := input.rules.si_presales

findings contains line_finding(i, "reject", "FH-33", "FH_SPECIALIST_TENURE_LT_3M", sprintf("has been an SI project specialist since %v; applications open on %s", [p.project_specialist_since, tenure_from(p)])) if {
	prog == "si_presales"
	some i, l in lines
	p := persons[l.person_id]
	p.project_specialist_path == "si"
	not tenure_ok(p)
}

tenure_from(p) := cal.months_later(p.project_specialist_since, si.min_specialist_months) if {
	p.project_specialist_since != null
} else := "(unknown)"

tenure_ok(p) if {
	p.project_specialist_since != null
	tenure_from(p) <= today
}

findings contains line_finding(i, "reject", "FH-33", "FH_CERT_INVALID", sprintf("holds none of %s valid on %s", [concat(", ", si.certificates), today])) if {
	prog == "si_presales"
	some i, l in lines
	persons[l.person_id]
	count({c | some c in valid_cert_codes(l.person_id); c in si.certificates}) == 0
}

findings contains line_finding(i, "reject", "FH-33", "FH_MAX_TWO_APPLICATIONS", sprintf("already has %d presales-expert incentives; at most %d are allowed", [prior_count(l.person_id, "si_presales"), si.max_grants_per_person])) if {
	prog == "si_presales"
	some i, l in lines
	prior_count(l.person_id, "si_presales") >= si.max_grants_per_person
}

projects := {p.id: p | some p in input.facts.projects}

line_projects(l) := object.get(l, "project_ids", [])

findings contains line_finding(i, "reject", "FH-33", "FH_NO_EVIDENCE_PROJECT", "each application needs at least one real Huawei Cloud project as evidence") if {
	prog == "si_presales"
	some i, l in lines
	count(line_projects(l)) == 0
}

findings contains line_finding(i, "reject", "FH-33", "FH_PROJECT_UNKNOWN", sprintf("project %s is not on record", [pid])) if {
	prog == "si_presales"
	some i, l in lines
	some pid in line_projects(l)
	not projects[pid]
}

findings contains line_finding(i, "reject", "FH-33", "FH_PROJECT_ALREADY_USED", sprintf("project %s already backs %s's incentive (%s); a project may be used by one expert only", [pid, g.person_id, g.id])) if {
	prog == "si_presales"
	some i, l in lines
	some pid in line_projects(l)
	some g in blocking_grants
	pid in g.project_ids
	g.person_id != l.person_id
}

findings contains line_finding(i, "reject", "FH-33", "FH_PROJECT_ALREADY_USED", sprintf("project %s already backed this expert's earlier application (%s)", [pid, g.id])) if {
	prog == "si_presales"
	not si.project_reuse_by_same_expert
	some i, l in lines
	some pid in line_projects(l)
	some g in blocking_grants
	pid in g.project_ids
	g.person_id == l.person_id
}

findings contains line_finding(i, "reject", "FH-33", "FH_PROJECT_ALREADY_USED", sprintf("project %s is also cited for %s in this application", [pid, k.person_id])) if {
	prog == "si_presales"
	some i, l in lines
	some j, k in lines
	j < i
	k.person_id != l.person_id
	some pid in line_projects(l)
	pid in line_projects(k)
}

# FH-34 / AMB-11: a public-cloud project counts cash paid from max(start, month - 11) to the month.
cash_from(pr) := max({pr.start_month, dates.month_at(month_idx - (si.cash_window_months - 1))}) if {
	pr.start_month != null
} else := dates.month_at(month_idx - (si.cash_window_months - 1))

project_cash(pr) := dec.sum([c.cash_amount |
	some c in input.facts.project_cash
	c.project_id == pr.id
	c.month >= cash_from(pr)
	c.month <= month
]) if {
	pr.is_public_cloud
} else := pr.cash_paid

meets_scale(pr, lv) if dec.gte(project_cash(pr), lv.min_cash[pr.currency])

person_meets_level(p, lv) if {
	every e in lv.exams_all {
		e in p.written_exams_passed
	}
	exams_any_ok(p, lv)
}

exams_any_ok(_, lv) if count(lv.exams_any) == 0

exams_any_ok(p, lv) if {
	some e in lv.exams_any
	e in (valid_cert_codes(p.id) | {x | some x in p.written_exams_passed})
}

cited(l) := [projects[pid] | some pid in line_projects(l); projects[pid]]

qualifying_levels(l) := [lv.level |
	some lv in si.levels
	p := persons[l.person_id]
	person_meets_level(p, lv)
	some pr in cited(l)
	pr.rep_office_recognized
	meets_scale(pr, lv)
]

si_level(l) := qualifying_levels(l)[0]

lowest_level := si.levels[count(si.levels) - 1]

findings contains line_finding(i, "reject", "FH-34", "FH_NOT_SENIOR_QUALIFIED", sprintf("does not meet the certification requirements of a %s presales solution expert", [lowest_level.level])) if {
	prog == "si_presales"
	some i, l in lines
	p := persons[l.person_id]
	not person_meets_level(p, lowest_level)
}

findings contains line_finding(i, "reject", "FH-34", "FH_PROJECT_SCALE", sprintf("no evidence project reaches the %s scale (cash paid: %s)", [lowest_level.level, concat(", ", [sprintf("%s %s %s", [pr.id, dec.fixed(project_cash(pr), 2), pr.currency]) | some pr in cited(l)])])) if {
	prog == "si_presales"
	some i, l in lines
	count(cited(l)) > 0
	not any_at_scale(l, lowest_level)
}

any_at_scale(l, lv) if {
	some pr in cited(l)
	meets_scale(pr, lv)
}

findings contains line_finding(i, "reject", "FH-34", "FH_PROJECT_NOT_RECOGNISED", "the representative office has not recognised your investment and contribution in the evidence project") if {
	prog == "si_presales"
	some i, l in lines
	any_at_scale(l, lowest_level)
	not recognised_at_scale(l)
}

recognised_at_scale(l) if {
	some pr in cited(l)
	pr.rep_office_recognized
	meets_scale(pr, lowest_level)
}

# FH-35: after a first grant at the top level, the second needs a project of that scale.
first_si_grant(pid) := sort([[g.coverage_from, g.id, g.level] |
	some g in blocking_grants
	g.person_id == pid
	g.programme == "si_presales"
])[0]

findings contains line_finding(i, "reject", "FH-35", "FH_SECOND_BELOW_PRINCIPAL_SCALE", sprintf("the first incentive (%s) was graded %s, so this application needs a recognised project of at least %s %s", [first[1], top.level, dec.fixed(top.min_cash[currency], 2), currency])) if {
	prog == "si_presales"
	top := si.levels[0]
	some i, l in lines
	first := first_si_grant(l.person_id)
	first[2] == top.level
	not recognised_top(l, top)
	currency := first_currency(l)
}

first_currency(l) := cited(l)[0].currency if {
	count(cited(l)) > 0
} else := si.domestic_currency

recognised_top(l, top) if {
	some pr in cited(l)
	pr.rep_office_recognized
	meets_scale(pr, top)
}

si_amount(l) := dec.fixed(dec.mul(si.months, lv.baseline), 2) if {
	lv := [x | some x in si.levels; x.level == si_level(l)][0]
}

# ---------------------------------------------------------------- 10.6.4 lecturer funds (FH-40..FH-46)

lecturers := input.rules.lecturer_funds

lp_programmes := {"lp_lecturer_dev", "lp_lecturer_dedicated"}

findings contains line_finding(i, "reject", path_rule[prog], "FH_LECTURER_CERT_INVALID", sprintf("holds no valid %s course-lecturer certificate", [concat(" or ", lecturers.lecturer_certificates)])) if {
	prog in lp_programmes
	some i, l in lines
	persons[l.person_id]
	count(lecturer_certs(l.person_id)) == 0
}

findings contains line_finding(i, "reject", "FH-41", "FH_LECTURER_DEV_ONCE", "already received the lecturer development fund, which is paid once per lecturer") if {
	prog == "lp_lecturer_dev"
	some i, l in lines
	prior_count(l.person_id, "lp_lecturer_dev") > 0
}

# FH-43: social security from the month the lecturer certificate was obtained to the month before.
cert_month(pid) := min({dates.month_of(c.obtained_on) | some c in lecturer_certs(pid); c.obtained_on != null})

missing_ss_months(p) := [m |
	some k in numbers.range(dates.month_index(cert_month(p.id)), month_idx - 1)
	m := dates.month_at(k)
	not m in {x | some x in p.social_security_months}
]

findings contains line_finding(i, "reject", "FH-43", "FH_SOCIAL_SECURITY_GAP", sprintf("social security must cover every month from %s to %s; missing %s", [cert_month(p.id), dates.month_at(month_idx - 1), concat(", ", missing)])) if {
	prog in lp_programmes
	some i, l in lines
	p := persons[l.person_id]
	dates.month_index(cert_month(p.id)) < month_idx
	missing := missing_ss_months(p)
	count(missing) > 0
}

findings contains line_finding(i, "reject", "FH-42", "FH_CLASS_DAYS_BELOW_8", sprintf("delivered %s class hours, %s class-days of %d hours; at least %d are required", [l.class_hours, dec.round(dec.div(l.class_hours, lecturers.hours_per_class_day), 2), lecturers.hours_per_class_day, lecturers.min_class_days])) if {
	prog == "lp_lecturer_dedicated"
	some i, l in lines
	dec.lt(dec.div(l.class_hours, lecturers.hours_per_class_day), lecturers.min_class_days)
}

findings contains line_finding(i, "reject", "FH-42", "FH_SATISFACTION_BELOW_4_25", sprintf("the month's average class satisfaction %s is below %s", [l.satisfaction, lecturers.min_satisfaction])) if {
	prog == "lp_lecturer_dedicated"
	some i, l in lines
	dec.lt(l.satisfaction, lecturers.min_satisfaction)
}

monthly_limit(p) := lecturers.monthly_regional_limits[p.social_security_city] if {
	lecturers.monthly_regional_limits[p.social_security_city]
} else := lecturers.default_monthly_limit

findings contains line_finding(i, "refer", "FH-44", "FH_REGIONAL_LIMIT_UNCONFIGURED", sprintf("the monthly regional limit for %v is not configured; ask your ecosystem manager", [p.social_security_city])) if {
	prog in lp_programmes
	some i, l in lines
	p := persons[l.person_id]
	monthly_limit(p) == null
}

lecturer_amount(l) := dec.fixed(dec.mul(lim, lecturers.multipliers[prog]), 2) if {
	lim := monthly_limit(persons[l.person_id])
	lim != null
}

# ---------------------------------------------------------------- per line and totals

line_amount(l) := expert_amount(l) if prog == "svc_expert_2024"

line_amount(l) := capability_amount(l) if prog == "svc_capability_2025"

line_amount(l) := si_amount(l) if prog == "si_presales"

line_amount(l) := lecturer_amount(l) if prog in lp_programmes

# The findings of each line, grouped once rather than searched for every line.
findings_by_line := coll.group_by(findings, "line")

line_findings(i) := object.get(findings_by_line, i, [])

line_kinds(i) := {f.kind | some f in line_findings(i)}

line_status(i) := "rejected" if {
	partner_rejected
} else := "rejected" if {
	"reject" in line_kinds(i)
} else := "referred" if {
	"refer" in line_kinds(i)
} else := "referred" if {
	some f in partner_findings
	f.kind == "refer"
} else := "eligible"

amount_or_null(l) := a if {
	a := line_amount(l)
} else := null

line_results := [object.union(
	{
		"person_id": l.person_id,
		"status": line_status(i),
		"codes": sort([f.code | some f in line_findings(i)]),
		"coverage_from": dates.month_at(window[0]),
		"coverage_to": dates.month_at(window[1]),
		"amount": line_amount_out(i, l),
	},
	line_detail(l),
) |
	some i, l in lines
]

line_amount_out(i, l) := null if {
	line_status(i) == "rejected"
} else := amount_or_null(l)

line_detail(l) := {
	"coefficient": coefficient(p),
	"social_security_city": p.social_security_city,
	"delivery_subsidy_excluded": true,
} if {
	prog == "svc_expert_2024"
	p := persons[l.person_id]
} else := {
	"level": si_level_or_null(l),
	"evidence": [{"project_id": pr.id, "cash_counted": dec.fixed(project_cash(pr), 2), "currency": pr.currency, "cash_from": cash_from_out(pr), "cash_to": month} | some pr in cited(l)],
} if {
	prog == "si_presales"
} else := {}

si_level_or_null(l) := si_level(l) if {
	si_level(l)
} else := null

cash_from_out(pr) := cash_from(pr) if {
	pr.is_public_cloud
} else := null

total_amount := dec.fixed(dec.sum([r.amount | some r in line_results; r.amount != null]), 2)

count_status(s) := count([1 | some r in line_results; r.status == s])

outcome := "deny" if {
	partner_rejected
} else := "deny" if {
	count_status("rejected") == count(lines)
} else := "refer" if {
	count_status("referred") > 0
} else := "partial" if {
	count_status("rejected") > 0
} else := "allow"

verdict := {"deny": "REJECT", "partial": "PARTIAL", "allow": "ALLOW", "refer": refer_verdict}[outcome]

refer_verdict := "NEEDS_INFO" if {
	some f in all_findings
	f.kind == "refer"
	startswith(f.code, "NEEDS_INFO_")
} else := "MANUAL_REVIEW"

all_findings := partner_findings | findings

effect_of := {"reject": "deny", "refer": "refer", "note": "note"}

reasons := [{"rule": f.rule, "code": f.code, "message": f.message, "effect": effect_of[f.kind]} | some f in all_findings]

outputs := {
	"application_id": req.application_id,
	"partner_id": req.partner_id,
	"programme": prog,
	"month": month,
	"coverage_from": dates.month_at(window[0]),
	"coverage_to": dates.month_at(window[1]),
	"lines": line_results,
	"eligible_lines": count_status("eligible"),
	"total_amount": total_amount,
	"plan_entry": plan_entry,
	"verdict": verdict,
}
