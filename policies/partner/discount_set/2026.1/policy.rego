# A partner operator sets a discount for one or many customers (rules-partner.md §E.2). Every blocker
# is reported; a batch overwrites existing discounts (DISC-04).
package arbiter.partner.discount_set

req := input.request

actor := input.facts.actor

roles := {r | some r in req.operator.roles}

own := {c.id: c | some c in input.facts.customers}

# DISC-01: system administrators, admins and custom roles holding the permission may set discounts.
may_set if "system_admin" in roles

may_set if "admin" in roles

may_set if {
	"custom" in roles
	req.operator.custom_role_has_discount_permission == true
}

reasons contains {"code": "CUSTOMER_MANAGER_CANNOT_SET_DISCOUNT", "rule": "DISC-01", "message": "The customer-manager role cannot set discounts."} if {
	roles == {"customer_manager"}
}

reasons contains {"code": "NO_DISCOUNT_PERMISSION", "rule": "DISC-01", "message": "The operator's roles do not include the set-discount permission."} if {
	not may_set
	roles != {"customer_manager"}
}

# DISC-02 with AMB-12: only the customer-manager role alone is scoped to its own customers.
scope := "own_customers" if {
	roles == {"customer_manager"}
} else := "all_customers"

reasons contains {"code": "OPERATOR_SCOPE_ALL_CUSTOMERS", "rule": "DISC-02", "effect": "note", "message": "The customer-manager role combined with another role manages all customers (AMB-12)."} if {
	"customer_manager" in roles
	count(roles) > 1
}

# DISC-03: a CR sets discounts only once its GD has enabled it; a GD never for its CRs' sub-customers.
reasons contains {"code": "CR_DISCOUNT_NOT_ENABLED", "rule": "DISC-03", "message": "The general distributor has not enabled discount setting for this cloud reseller."} if {
	actor.partner_type == "cr"
	not actor.cr_discount_enabled
}

# The GD's own list holds only its direct customers, so a listed customer outside it is a CR's (or nobody's).
reasons contains {"code": "GD_CANNOT_SET_CR_CUSTOMER_DISCOUNT", "rule": "DISC-03", "message": sprintf("Customers %s are not the distributor's own: a GD cannot set discounts for its CRs' sub-customers.", [concat(", ", sort(foreign))])} if {
	actor.partner_type == "gd"
	count(foreign) > 0
}

foreign := {id | some id in req.customer_ids; not own[id]}

# DISC-11: only associated customers carry partner discounts; unbinding voids them.
reasons contains {"code": "NOT_ASSOCIATED_CUSTOMER", "rule": "DISC-11", "message": sprintf("Customers %s are not associated with this partner.", [concat(", ", sort(foreign))])} if {
	actor.partner_type != "gd"
	count(foreign) > 0
}

# DISC-07: a financial-custody sub inherits the master's partner discount and gets none of its own.
reasons contains {"code": "CUSTODY_SUB_INHERITS_DISCOUNT", "rule": "DISC-07", "message": sprintf("Custody sub-account %s inherits its master's discount.", [id])} if {
	some id in req.customer_ids
	own[id].enterprise_role == "sub"
	own[id].finance_mode == "custody"
}

# DISC-04: one association type per batch.
modes := {own[id].association_mode | some id in req.customer_ids; own[id]}

reasons contains {"code": "MIXED_ASSOCIATION_TYPES", "rule": "DISC-04", "message": "A batch must hold only advisory or only resale customers."} if {
	count(modes) > 1
}

reasons contains {"code": "DISCOUNT_RATE_REQUIRED", "rule": "DISC-04", "message": "A discount rate between 0 and 1 is required."} if {
	req.product_kind != "selected_mall"
	not valid_rate
}

valid_rate if {
	dec.gt(req.discount_rate, "0")
	dec.lt(req.discount_rate, "1")
}

# DISC-08: bandwidth discounts are set on the VPC product.
reasons contains {"code": "BANDWIDTH_DISCOUNT_VIA_VPC", "rule": "DISC-08", "message": "Discounts on network bandwidth, shared bandwidth included, are set through the VPC product."} if {
	req.product_kind == "bandwidth"
}

# DISC-10: selected-mall goods take no discount; the price moves between floor and catalog price only.
reasons contains {"code": "SELECTED_MALL_NO_DISCOUNT", "rule": "DISC-10", "message": "No discount can be set on selected-mall goods; change the order price instead."} if {
	req.product_kind == "selected_mall"
	req.discount_rate
}

reasons contains {"code": "SELECTED_MALL_PRICE_REQUIRED", "rule": "DISC-10", "message": "A selected-mall change gives the order price."} if {
	req.product_kind == "selected_mall"
	not req.discount_rate
	not req.selected_mall_price
}

reasons contains {"code": "SELECTED_MALL_PRICE_OUT_OF_RANGE", "rule": "DISC-10", "message": sprintf("The price %s is outside [%s, %s] (floor, catalog).", [p.price, p.floor_price, p.catalog_price])} if {
	p := req.selected_mall_price
	not price_in_range(p)
}

price_in_range(p) if {
	dec.gte(p.price, p.floor_price)
	dec.lte(p.price, p.catalog_price)
}

reasons contains {"code": "SELECTED_MALL_PLAN_NOT_JOINED", "rule": "DISC-10", "message": "The partner has not joined the selected-mall resale plan."} if {
	req.selected_mall_price
	not actor.selected_mall_plan_joined
}

reasons contains {"code": "RESELLER_ID_NOT_ON_ORDER", "rule": "DISC-10", "message": "The sub-customer did not enter the reseller ID on the order."} if {
	req.selected_mall_price.reseller_id_on_order == false
}

settings := [{"customer_id": id, "previous_discount": own[id].partner_discount, "discount": req.discount_rate} |
	some id in req.customer_ids
	own[id]
	req.discount_rate
]

decision := {
	"reasons": reasons,
	"outputs": {
		"operator_scope": scope,
		"association_mode": concat(",", sort(modes)),
		# DISC-04: a batch overwrites; DISC-05: the customer chooses at payment whether to use it.
		"settings": settings,
	},
}
