package arbiter.voucher.lib

# Test, exam and lab voucher applications (rules-benefits.md §C, GEN-01, GEN-05), shared by
# voucher.application (the check), voucher.apply (the commit that consumes the cap) and benefit.matrix.

req := input.request

caps := input.rules.voucher_caps

terms := input.rules.voucher_terms

kind := req.kind

basis := req.basis

year_text := format_int(req.year, 10)

today := cal.beijing_date(input.now)

path_bases := {"software", "service", "si", "lp"}

programmes := {"ascend_pangu", "kunpeng", "gaussdb", "harmonyos_cloud"}

# budget_key is the ledger key of the partner's yearly cap of this kind on this basis; it equals the commit lock.
budget_key := sprintf("voucher_budget:%s:%s:%s:%s", [req.partner_id, kind, basis, year_text])

# The rule that sets the threshold and amount of each kind.
kind_rule := {"test": "VCH-02", "exam": "VCH-21", "lab": "LAB-02"}[kind]

kind_name := {"test": "test voucher", "exam": "exam voucher", "lab": "cloud lab"}[kind]

# ---------------------------------------------------------------- cap (VCH-02, VCH-21, LAB-02, VCH-05)

path_row := p if {
	basis in path_bases
	some p in input.facts.paths
	p.path == basis
}

eligible_stage if path_row.stage in {"role_certified", "differentiated"}

# cap_setting names the rule-table cell that holds the cap, for a referral that names it.
cap_setting := sprintf("voucher.caps paths.%s.%s.%s", [basis, path_row.stage, kind]) if {
	eligible_stage
} else := sprintf("voucher.caps special_programmes.%s", [basis]) if {
	basis in programmes
} else := null

cap := object.get(caps.paths, [basis, path_row.stage, kind], null) if {
	eligible_stage
} else := object.get(caps.special_programmes, basis, null) if {
	basis in programmes
	kind == "test"
} else := null

configured if cap != null

# ---------------------------------------------------------------- solutions (VCH-03, VCH-04, VCH-05, GEN-05)

# GEN-05: a software certification is valid until cert_valid_until (exclusive); none recorded is not expired.
cert_current(s) if {
	s.software_cert in {"cloud_software", "advanced"}
	object.get(s, "cert_valid_until", null) == null
}

cert_current(s) if {
	s.software_cert in {"cloud_software", "advanced"}
	today < s.cert_valid_until
}

certified_solution if {
	some s in input.facts.solutions
	cert_current(s)
}

expired_certified_solution if {
	some s in input.facts.solutions
	s.software_cert in {"cloud_software", "advanced"}
	not cert_current(s)
}

# VCH-05: an access-certified special-programme solution that is not yet released.
special_solution if {
	some s in input.facts.solutions
	s.special_programme == basis
	s.access_certified
	not s.built_and_released
}

partner_solution(sid) if {
	some s in input.facts.solutions
	s.id == sid
}

# ---------------------------------------------------------------- usage (VCH-03, GEN-01)

other_usage := [r.amount | some r in input.facts.usage; r.idempotency_key != req.application_id]

used := dec.sum(other_usage)

requested := req.requested_amount

default remaining := null

remaining := dec.max("0", dec.sub(cap, used)) if configured

# ---------------------------------------------------------------- holder (VCH-20, VCH-22..VCH-25)

hcix := object.get(req, "exam_type", "") in {"HCIA", "HCIP", "HCIE"}

holder_id := object.get(req, "holder_account_id", "")

holder := h if {
	some h in input.facts.holders
	h.account_id == holder_id
}

# ---------------------------------------------------------------- reasons

# Eligibility reasons: whether this partner may apply for the kind on this basis at all (the matrix asks them).
eligibility contains {
	"rule": kind_rule, "code": "VCH_NOT_ON_PATH",
	"message": sprintf("You are not on the %s path, so it gives you no %ss.", [basis, kind_name]),
} if {
	basis in path_bases
	not path_row
}

eligibility contains {
	"rule": kind_rule, "code": "VCH_STAGE_NOT_ELIGIBLE",
	"message": sprintf("The %s path gives %ss from role certification on; you are at stage %s.", [basis, kind_name, path_row.stage]),
} if {
	path_row
	not eligible_stage
}

eligibility contains {
	"rule": "VCH-04", "code": "VCH_NO_CERTIFIED_SOLUTION",
	"message": "Software-partner test vouchers are granted once a solution has passed cloud-software certification; none of yours has.",
} if {
	basis == "software"
	kind == "test"
	eligible_stage
	not certified_solution
	not expired_certified_solution
}

eligibility contains {
	"rule": "GEN-05", "code": "VCH_CERTIFICATION_EXPIRED",
	"message": "Your solution's cloud-software certification has expired (it is valid one year); renew it to apply for test vouchers.",
} if {
	basis == "software"
	kind == "test"
	eligible_stage
	not certified_solution
	expired_certified_solution
}

eligibility contains {
	"rule": "VCH-05", "code": "VCH_SPECIAL_TEST_ONLY",
	"message": sprintf("The %s special programme grants test vouchers only.", [basis]),
} if {
	basis in programmes
	kind != "test"
}

eligibility contains {
	"rule": "VCH-05", "code": "VCH_SPECIAL_NOT_ELIGIBLE",
	"message": sprintf("Special-programme test vouchers need a %s solution that passed access certification and is not yet released.", [basis]),
} if {
	basis in programmes
	kind == "test"
	not special_solution
}

eligibility contains {
	"rule": kind_rule, "code": "VCH_CAP_NOT_CONFIGURED", "effect": "refer",
	"message": sprintf("The %s cap for your path and stage is set on the official benefit page and is not configured (%s).", [kind_name, cap_setting]),
} if {
	cap_setting != null
	not configured
	not basis in programmes
}

eligibility contains {
	"rule": "VCH-05", "code": "VCH_CAP_NOT_CONFIGURED", "effect": "refer",
	"message": sprintf("The %s special-programme test-voucher cap is not configured (%s).", [basis, cap_setting]),
} if {
	basis in programmes
	kind == "test"
	special_solution
	not configured
}

reasons contains r if some r in eligibility

reasons contains {
	"rule": "VCH-03", "code": "VCH_AMOUNT_NOT_POSITIVE",
	"message": "The requested amount must be more than zero.",
} if {
	dec.lte(requested, "0")
}

reasons contains {
	"rule": "VCH-03", "code": "VCH_CAP_EXCEEDED",
	"message": sprintf("You requested %s but only %s of your %s %s %s cap of %s is left (the cap is for your company, pooled over all your solutions).", [dec.fixed(requested, 2), dec.fixed(remaining, 2), year_text, basis, kind_name, dec.fixed(cap, 2)]),
} if {
	configured
	dec.gt(dec.add(used, requested), cap)
}

reasons contains {
	"rule": "VCH-03", "code": "VCH_SOLUTION_UNKNOWN",
	"message": sprintf("Solution %s is not one of yours.", [sid]),
} if {
	some sid in object.get(req, "solution_ids", [])
	not partner_solution(sid)
}

reasons contains {
	"rule": "VCH-06", "code": "NEEDS_INFO_RESOURCE_CONFIG_LINK", "effect": "refer",
	"message": "Paste the share link of a resource list saved in the Huawei Cloud Price Calculator into the resource configuration field.",
} if {
	kind == "test"
	not regex.match(terms.resource_link_pattern, object.get(req, "resource_config_link", ""))
}

reasons contains {
	"rule": "VCH-20", "code": "NEEDS_INFO_HOLDER", "effect": "refer",
	"message": "Name the personal Huawei account the exam vouchers are issued to, and the exam (HCCDA/HCCDP/HCCDE or HCIA/HCIP/HCIE).",
} if {
	kind == "exam"
	some missing in {"holder_account_id", "exam_type"}
	object.get(req, missing, "") == ""
}

reasons contains {
	"rule": "VCH-25", "code": "VCH_HOLDER_NOT_ASSOCIATED",
	"message": sprintf("Account %s is not associated with your partner account; invite it first (it need not be a project specialist).", [holder_id]),
} if {
	kind == "exam"
	holder_id != ""
	not holder.associated
}

reasons contains {
	"rule": "VCH-24", "code": "VCH_EMAIL_NOT_BOUND",
	"message": sprintf("Account %s has no bound e-mail address, so it cannot be selected as the holder.", [holder_id]),
} if {
	kind == "exam"
	holder.associated
	not holder.email_bound
}

reasons contains {
	"rule": "VCH-22", "code": "VCH_REAL_NAME_MISSING",
	"message": sprintf("Account %s must complete real-name verification (China site).", [holder_id]),
} if {
	kind == "exam"
	holder.associated
	holder.site == "china"
	not holder.real_name_verified
}

reasons contains {
	"rule": "VCH-23", "code": "VCH_UNIPORTAL_MISSING",
	"message": sprintf("HCIA/HCIP/HCIE vouchers need the holder's Uniportal account on Huawei Talent, registered and real-name verified; account %s has none.", [holder_id]),
} if {
	kind == "exam"
	hcix
	holder.associated
	not holder.uniportal_verified
}

effects := {object.get(r, "effect", "deny") | some r in reasons}

outcome := "deny" if {
	"deny" in effects
} else := "refer" if {
	"refer" in effects
} else := "allow"

verdict := {"deny": "REJECT", "refer": "NEEDS_INFO", "allow": "ALLOW"}[outcome]

fixed_or_null(x) := dec.fixed(x, 2) if {
	x != null
} else := null

remaining_after := dec.fixed(dec.sub(remaining, requested), 2) if {
	outcome == "allow"
	configured
} else := null

outputs := {
	"cap": fixed_or_null(cap),
	"cap_setting": cap_setting,
	"used": dec.fixed(used, 2),
	"remaining": fixed_or_null(remaining),
	"remaining_after": remaining_after,
	"verdict": verdict,
}
