# Project-specialist applications (rules-partner.md §G.1). A member is a specialist for one development
# path only; to switch it cancels first (PS-08). The application carries a partner-issued employment
# proof or a valid certificate (PS-09): a developer or professional certificate synced from Koolabs counts
# as it is, an uploaded career certificate once Huawei has approved it (PS-06).
package arbiter.partner.specialist_apply

req := input.request

member := input.facts.member

cfg := input.rules.org

today := cal.beijing_date(input.now)

held := {p | some p in member.specialist_paths}

reasons contains {"code": "ALREADY_SPECIALIST", "rule": "PS-08", "message": sprintf("Member %s is already a project specialist on the %s path.", [member.id, req.path])} if {
	req.path in held
}

reasons contains {"code": "SPECIALIST_ONE_PATH_ONLY", "rule": "PS-08", "message": sprintf("Member %s is a project specialist on %s; cancel that first (at most %d path).", [member.id, concat(", ", sort([p | some p in held])), cfg.specialist_max_paths_per_member])} if {
	not req.path in held
	count(held) + 1 > cfg.specialist_max_paths_per_member
}

valid(c) if {
	c.valid_until != null
	c.valid_until >= today
}

valid(c) if c.valid_until == null

counted contains c.id if {
	some c in input.facts.certificates
	valid(c)
	c.source == "koolabs_sync"
}

counted contains c.id if {
	some c in input.facts.certificates
	valid(c)
	c.source == "upload"
	c.review_status == "approved"
}

under_review contains c.id if {
	some c in input.facts.certificates
	valid(c)
	c.source == "upload"
	c.review_status == "pending"
}

has_material if req.employment_proof == true

has_material if count(counted) > 0

reasons contains {"code": "MATERIAL_REQUIRED", "rule": "PS-09", "message": "Attach a partner-issued employment proof or a valid certificate."} if {
	not has_material
	count(under_review) == 0
}

reasons contains {"code": "CERTIFICATE_UNDER_REVIEW", "rule": "PS-06", "message": sprintf("Uploaded career certificates %s await Huawei's review; attach an employment proof or wait.", [concat(", ", sort([c | some c in under_review]))])} if {
	not has_material
	count(under_review) > 0
}

decision := {
	"reasons": reasons,
	"outputs": {"counted_certificates": sort([c | some c in counted])},
}
