package arbiter.nre.lib

# NRE, the one-time engineering fee (rules-benefits.md §D1, NRE-02..NRE-06), shared by nre.application
# (the check), nre.apply (the commit that spends the solution's one application) and benefit.matrix.

import data.arbiter.benefit.payout

req := input.request

terms := input.rules.nre_terms

today := cal.beijing_date(input.now)

cap := terms.cap_per_solution

joined(programme) if {
	some p in input.facts.plans
	p.plan == programme
	p.status == "active"
}

solution := s if {
	some s in input.facts.solutions
	s.id == req.solution_id
}

# ---------------------------------------------------------------- NRE-03: one application per solution

# Applications committed here are ledger rows on nre_partner:<partner> whose idempotency key is
# "<solution>/<application>"; the partner centre's own records are nre_applications rows.
committed_apps(sid) := {parts[1] |
	some r in input.facts.usage
	r.decision == "nre.apply"
	parts := split(r.idempotency_key, "/")
	count(parts) == 2
	parts[0] == sid
}

recorded_apps(sid) := {a.id |
	some a in input.facts.applications
	a.solution_id == sid
	a.status in terms.counted_application_statuses
}

# An application is never counted against its own retry.
other_apps(sid, app) := (committed_apps(sid) | recorded_apps(sid)) - {app}

# ---------------------------------------------------------------- eligibility of one solution (NRE-02, NRE-03)

solution_reasons(s, app) := {r | some r in solution_findings(s, app)}

solution_findings(s, app) := {f |
	some f in [
		{
			"rule": "NRE-02", "code": "NRE_NOT_IN_PROGRAMME", "ok": in_programme(s),
			"message": sprintf("Solution %s is not in a special programme you joined (Ascend Cloud/Pangu, Kunpeng Cloud, GaussDB, HarmonyOS apps-to-cloud).", [s.id]),
		},
		{
			"rule": "NRE-02", "code": "NRE_NOT_ACCESS_CERTIFIED", "ok": s.access_certified,
			"message": sprintf("Solution %s has not passed the special-programme software-solution access certification.", [s.id]),
		},
		{
			"rule": "NRE-02", "code": "NRE_SOLUTION_RELEASED", "ok": not_released(s),
			"message": sprintf("Solution %s is already released or listed; NRE is for solutions not yet released.", [s.id]),
		},
		{
			"rule": "NRE-03", "code": "NRE_ALREADY_APPLIED", "ok": count(other_apps(s.id, app)) == 0,
			"message": sprintf("Solution %s already has its one NRE application (%s).", [s.id, concat(", ", sort(other_apps(s.id, app)))]),
		},
	]
	f.ok == false
}

in_programme(s) if {
	s.special_programme in terms.programmes
	joined(s.special_programme)
} else := false

not_released(s) := false if {
	s.built_and_released
} else := true

finding_reason(f) := {"rule": f.rule, "code": f.code, "message": f.message}

# ---------------------------------------------------------------- eligibility of the partner

partner_reasons contains r if some r in payout.reasons

partner_reasons contains {
	"rule": "NRE-04", "code": "NRE_CAP_NOT_CONFIGURED", "effect": "refer",
	"message": "The NRE cap per solution is not configured (nre.terms cap_per_solution).",
} if {
	cap == null
}

# Eligibility reasons: whether this partner may apply for NRE on this solution at all (the matrix asks them).
eligibility contains r if some r in partner_reasons

eligibility contains finding_reason(f) if {
	solution
	some f in solution_findings(solution, req.application_id)
}

# ---------------------------------------------------------------- reasons

reasons contains r if some r in eligibility

reasons contains {
	"rule": "NRE-02", "code": "NRE_SOLUTION_UNKNOWN",
	"message": sprintf("Solution %s is not one of yours.", [req.solution_id]),
} if {
	not solution
}

reasons contains {
	"rule": "NRE-05", "code": "NRE_RETROACTIVE",
	"message": sprintf("The re-engineering was completed on %s, before this application; work done before applying is not funded.", [req.reengineering_completed_on]),
} if {
	done := object.get(req, "reengineering_completed_on", null)
	done != null
	done <= today
}

agreement := a if {
	some a in input.facts.agreements
	a.solution_id == req.solution_id
	a.confirmed
}

# NRE-06: the amount is the confirmed agreement's; NRE-04: never more than the cap.
default payable := null

payable := dec.min(agreement.amount, cap) if {
	agreement
	cap != null
}

reasons contains {
	"rule": "NRE-04", "code": "NRE_CAP", "effect": "note",
	"message": sprintf("The agreement's %s is above the cap of %s per solution; %s is payable.", [dec.fixed(agreement.amount, 2), dec.fixed(cap, 2), dec.fixed(cap, 2)]),
} if {
	payable != null
	dec.gt(agreement.amount, cap)
}

reasons contains {
	"rule": "NRE-06", "code": "NRE_AMOUNT_BY_AGREEMENT", "effect": "note",
	"message": "The amount is set by the NRE agreement your ecosystem manager uploads and confirms; none is confirmed yet.",
} if {
	not agreement
}

effects := {object.get(r, "effect", "deny") | some r in reasons}

outcome := "deny" if {
	"deny" in effects
} else := "refer" if {
	"refer" in effects
} else := "allow"

partial if {
	outcome == "allow"
	some r in reasons
	r.code == "NRE_CAP"
}

verdict := "PARTIAL" if {
	partial
} else := {"deny": "REJECT", "refer": "NEEDS_INFO", "allow": "ALLOW"}[outcome]

fixed_or_null(x) := dec.fixed(x, 2) if {
	x != null
} else := null

default agreement_amount := null

agreement_amount := agreement.amount

outputs := {
	"cap": fixed_or_null(cap),
	"agreement_amount": fixed_or_null(agreement_amount),
	"payable": fixed_or_null(payable),
	"verdict": verdict,
}
