package arbiter.delivery.lib

# Delivery-capability support (rules-benefits.md §D4), shared by delivery.filing, delivery.plan_change,
# delivery.change, delivery.subsidy and benefit.matrix: who may file, and the project a request names.

req := input.request

terms := input.rules.delivery_terms

today := cal.beijing_date(input.now)

service_stage := p.stage if {
	some p in input.facts.paths
	p.path == "service"
} else := "none"

# DEL-01 / §E2: a benefit of service partners from role certification on.
eligibility contains {
	"rule": "DEL-01", "code": "DEL_NOT_SERVICE_PARTNER",
	"message": sprintf("Delivery-capability support is for service partners from role certification on; your service-path stage is %s.", [service_stage]),
} if {
	not service_stage in {"role_certified", "differentiated"}
}

# The project a request names, when it is the partner's.
project := p if {
	p := input.facts.project
	p.partner_id == req.partner_id
}

project_reasons contains {
	"rule": "DEL-02", "code": "DEL_PROJECT_UNKNOWN",
	"message": sprintf("Project %s is not one of your filed projects.", [req.project_id]),
} if {
	not project
}

# A milestone has arrived once it is reached or its planned day has come (DEL-06, DEL-07).
arrived(m) if m.reached

arrived(m) if m.delivered_date != null

arrived(m) if m.planned_date <= today

completed if {
	project.completed_on != null
	project.completed_on <= today
}

effects(rs) := {object.get(r, "effect", "deny") | some r in rs}

outcome(rs) := "deny" if {
	"deny" in effects(rs)
} else := "refer" if {
	"refer" in effects(rs)
} else := "allow"

verdict(o) := {"deny": "REJECT", "refer": "NEEDS_INFO", "allow": "ALLOW"}[o]
