# ECS cost aggregation (rules-partner.md §G.6, BILL-17). From 2023-08-01 an ECS purchase bills the host,
# system disk and Huawei Cloud image under ECS, and under yearly/monthly billing the data disk too; the
# shared disk stays under EVS, a KooGallery image under IMS, and EVS or IMS bought separately are not
# affected. Before that day each sub-resource was billed under its own product (ECS, EVS, IMS).
package arbiter.partner.ecs_cost_aggregation

req := input.request

cfg := input.rules.billing

billed_on := object.get(req, "billed_on", cal.beijing_date(input.now))

aggregated if billed_on >= cfg.ecs_aggregation_from

own_product := {
	"host": "ECS", "system_disk": "EVS", "data_disk": "EVS", "shared_disk": "EVS",
	"hc_image": "IMS", "koogallery_image": "IMS", "separate_evs": "EVS", "separate_ims": "IMS",
}

under_ecs := {"host", "system_disk", "data_disk", "hc_image"} if {
	req.billing_mode == "yearly_monthly"
} else := {"host", "system_disk", "hc_image"}

product(c) := "ECS" if {
	aggregated
	c in under_ecs
} else := own_product[c]

lines := [{"component": l.component, "amount": l.amount, "product": product(l.component)} | some l in req.lines]

totals := {p: dec.fixed(dec.sum([l.amount | some l in lines; l.product == p]), 2) | some p in {"ECS", "EVS", "IMS"}}

is_aggregated if {
	aggregated
} else := false

reasons contains {"code": "AGGREGATED_UNDER_ECS", "rule": "BILL-17", "effect": "note", "message": sprintf("From %s the ECS sub-resources are billed under ECS (%s).", [cfg.ecs_aggregation_from, req.billing_mode])} if aggregated

decision := {"reasons": reasons, "outputs": {"totals": totals, "lines": lines, "aggregated": is_aggregated}}
