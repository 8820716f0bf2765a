# CTSP project occupation (rules-partner.md §G.4). Only a CTSP partner occupies or releases project
# specialists (CTSP-01); the person is the service partner's project specialist, holds the project's
# certificates still valid and is not in expert capability building (CTSP-02); a specialist occupies at
# most one CTSP subcontract project (CTSP-03). The engine runs this under the lock
# ctsp_specialist:<member>: an occupation records +1 and a release -1, the idempotency key starting with
# the project id, so two partners' desks occupying one person at once never both succeed. An occupation
# recorded before this service is the member's occupied_ctsp_project_id.
package arbiter.partner.ctsp_occupation

req := input.request

member := input.facts.member

cfg := input.rules.org

today := cal.beijing_date(input.now)

project_of(e) := split(e.idempotency_key, "/")[0]

base(p) := 1 if {
	member.occupied_ctsp_project_id == p
} else := 0

recorded_projects := {project_of(e) | some e in input.facts.usage} | {member.occupied_ctsp_project_id | member.occupied_ctsp_project_id != null}

occupied contains p if {
	some p in recorded_projects
	held := dec.add(base(p), dec.sum([e.amount | some e in input.facts.usage; project_of(e) == p]))
	dec.gt(held, "0")
}

others := {p | some p in occupied; p != req.project_id}

reasons contains {"code": "NOT_CTSP_PARTNER", "rule": "CTSP-01", "message": sprintf("Partner %s does not hold the CTSP title.", [req.partner_id])} if {
	not input.facts.partner.ctsp
}

reasons contains {"code": "NOT_PROJECT_SPECIALIST", "rule": "CTSP-02", "message": sprintf("%s is not a service-path project specialist of partner %s.", [member.id, req.partner_id])} if {
	req.action == "occupy"
	not specialist
}

specialist if {
	member.partner_id == req.partner_id
	"service" in member.specialist_paths
}

usable(c) if {
	c.source == "koolabs_sync"
	c.valid_until >= today
}

usable(c) if {
	c.source == "upload"
	c.review_status == "approved"
	c.valid_until >= today
}

held_certs := {c.name | some c in input.facts.certificates; usable(c)}

missing := [n | some n in input.facts.project.required_certs; not n in held_certs]

reasons contains {"code": "CERTIFICATE_MISSING_OR_EXPIRED", "rule": "CTSP-02", "message": sprintf("The project requires %s, not held or no longer valid.", [concat(", ", missing)])} if {
	req.action == "occupy"
	count(missing) > 0
}

reasons contains {"code": "IN_EXPERT_CAPABILITY_BUILDING", "rule": "CTSP-02", "message": sprintf("%s is in expert capability building.", [member.id])} if {
	req.action == "occupy"
	member.in_expert_capability_building
}

reasons contains {"code": "SPECIALIST_OCCUPIED", "rule": "CTSP-03", "message": sprintf("%s already occupies CTSP project %s (at most %d).", [member.id, concat(", ", sort([p | some p in others])), cfg.ctsp_max_occupations_per_specialist])} if {
	req.action == "occupy"
	count(others) + 1 > cfg.ctsp_max_occupations_per_specialist
}

reasons contains {"code": "ALREADY_OCCUPYING", "rule": "CTSP-03", "message": sprintf("%s already occupies project %s.", [member.id, req.project_id])} if {
	req.action == "occupy"
	req.project_id in occupied
}

reasons contains {"code": "NOT_OCCUPYING", "rule": "CTSP-03", "message": sprintf("%s does not occupy project %s.", [member.id, req.project_id])} if {
	req.action == "release"
	not req.project_id in occupied
}

denied if some r in reasons

amount := "1" if {
	req.action == "occupy"
} else := "-1"

ledger := [{"key": sprintf("ctsp_specialist:%s", [member.id]), "amount": amount}] if {
	not denied
} else := []

after := occupied | {req.project_id} if {
	not denied
	req.action == "occupy"
} else := others if {
	not denied
} else := occupied

decision := {
	"reasons": reasons,
	"outputs": {"occupied_projects": sort([p | some p in after])},
	"ledger": ledger,
}
