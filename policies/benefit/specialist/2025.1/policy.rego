package arbiter.benefit.specialist

# GEN-06 (rules-benefits.md §3, (ctx) §7.2.9 L1202-1206): a member is the project specialist of one
# development path at a time; to switch, the current assignment is cancelled first. FH checks the
# person's path against the programme's (FH-09); this decision guards the assignment itself.

req := input.request

# A person's record wherever it is kept; a person never recorded holds no assignment.
current := [p | some p in input.facts.person; p.project_specialist_path != null]

reasons contains {
	"rule": "GEN-06", "code": "GEN_ONE_PATH_PER_PERSON",
	"message": sprintf("%s is already the project specialist of the %s path%s; cancel that first, a member serves one path at a time.", [req.person_id, p.project_specialist_path, partner_text(p)]),
} if {
	some p in current
	p.project_specialist_path != req.path
}

reasons contains {
	"rule": "GEN-06", "code": "GEN_ONE_PATH_PER_PERSON",
	"message": sprintf("%s is already the %s project specialist of partner %s; a member serves one partner's path at a time.", [req.person_id, p.project_specialist_path, p.partner_id]),
} if {
	some p in current
	p.project_specialist_path == req.path
	p.partner_id != req.partner_id
}

reasons contains {
	"rule": "GEN-06", "code": "GEN_ALREADY_SPECIALIST", "effect": "note",
	"message": sprintf("%s is already the project specialist of the %s path.", [req.person_id, req.path]),
} if {
	some p in current
	p.project_specialist_path == req.path
	p.partner_id == req.partner_id
}

partner_text(p) := "" if {
	p.partner_id == req.partner_id
} else := sprintf(" of partner %s", [p.partner_id])

effects := {object.get(r, "effect", "deny") | some r in reasons}

outcome := "deny" if {
	"deny" in effects
} else := "allow"

decision := {
	"outcome": outcome,
	"reasons": [r | some r in reasons],
	"outputs": {"current_paths": [p.project_specialist_path | some p in current], "path": req.path},
}
