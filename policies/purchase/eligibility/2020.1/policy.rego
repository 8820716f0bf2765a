package arbiter.purchase.eligibility

# May this account buy this spec of this product, and on what terms (rules-marketplace.md §3.2)?
# One product per request: the storefront asks before the order is placed.

req := input.request

facts := input.facts

settings := input.rules.purchase

renewal := input.rules.renewal

now_ns := time.parse_rfc3339_ns(input.now)

product := facts.product

delivery := product.delivery_type

store_product := facts.store_product[0] if {
	count(facts.store_product) > 0
} else := {}

store_account := facts.store_account[0] if {
	count(facts.store_account) > 0
} else := {}

flag(obj, name) if object.get(obj, name, false) == true

periodic if req.billing_mode in settings.periodic_billing_modes

periods := object.get(req, "periods", 1)

quantity := object.get(req, "quantity", 1)

list_prices := [p.price | some p in facts.prices; p.billing_mode == req.billing_mode]

unit_price := list_prices[0] if count(list_prices) == 1

# Periodic lines pay periods x list price up front; one-time and package modes pay the list price per
# unit; on-demand use is billed afterwards and has no price here.
price := dec.mul(dec.mul(unit_price, periods), quantity) if {
	unit_price
	periodic
}

price := dec.mul(unit_price, quantity) if {
	unit_price
	not periodic
	req.billing_mode != "on_demand"
}

# PURCH-01: consent to the agreement of the product's category, and for some SaaS to the use of the
# account's contact details for the app admin account.
reasons contains {
	"rule": "PURCH-01", "code": "AGREEMENT_NOT_ACCEPTED",
	"message": sprintf("Tick the agreement and authorization (%s) before paying.", [agreement]),
} if {
	req.agreement_accepted != true
}

reasons contains {
	"rule": "PURCH-01", "code": "CONTACT_AUTHORIZATION_REQUIRED",
	"message": "This product creates its admin account from your phone, email or IAM user name: authorize that use to buy it.",
} if {
	flag(store_product, "requires_contact_authorization")
	object.get(req, "contact_authorization_accepted", false) != true
}

agreement := settings.agreements[product.commercial_category]

# PURCH-02: on-demand packages of SaaS need the on-demand service.
reasons contains {
	"rule": "PURCH-02", "code": "ON_DEMAND_SERVICE_NOT_ENABLED",
	"message": "Enable the on-demand service on the account before buying an on-demand package.",
} if {
	req.billing_mode == "on_demand_package"
	delivery in settings.on_demand_package_delivery_types
	not facts.account.on_demand_service_enabled
}

# PURCH-03: restricted specs are sold only to accounts the merchant authorized.
authorized if {
	some a in facts.authorizations
	a.revoked != true
	valid_since(a.granted_at)
	valid_until(a.expires_at)
}

valid_since(t) if t == null

valid_since(t) if {
	t != null
	time.parse_rfc3339_ns(t) <= now_ns
}

valid_until(t) if t == null

valid_until(t) if {
	t != null
	time.parse_rfc3339_ns(t) > now_ns
}

reasons contains {
	"rule": "PURCH-03", "code": "PURCHASE_RESTRICTED_CONTACT_MERCHANT",
	"message": sprintf("Spec %s is sold to authorized buyers only: contact the merchant (see the product page) for an authorization.", [req.sku_id]),
} if {
	facts.sku.purchase_restricted
	not authorized
}

reasons contains {
	"rule": "PURCH-03", "code": "SPEC_NOT_OF_PRODUCT",
	"message": sprintf("Spec %s does not belong to product %s.", [req.sku_id, req.product_id]),
} if {
	facts.sku.product_id != req.product_id
}

# PURCH-04: credit payment for enterprise accounts, on joint-operation and Huawei products whose
# merchant switched it on.
credit_gaps contains "the account is not an enterprise account" if {
	settings.credit_payment_enterprise_only
	not facts.account.is_enterprise
}

credit_gaps contains sprintf("%s products do not take credit payment", [product.commercial_category]) if {
	not product.commercial_category in settings.credit_payment_categories
}

credit_gaps contains "the merchant has not enabled credit payment for this product" if {
	not product.credit_payment_enabled
}

reasons contains {
	"rule": "PURCH-04", "code": "CREDIT_PAYMENT_NOT_ALLOWED",
	"message": sprintf("Credit payment (%s) is not available: %s.", [req.payment_method, concat("; ", sort(credit_gaps))]),
} if {
	req.payment_method in settings.credit_payment_methods
	count(credit_gaps) > 0
}

# PURCH-06: an on-demand image runs on a cloud server bought with it.
reasons contains {
	"rule": "PURCH-06", "code": "ON_DEMAND_IMAGE_REQUIRES_ECS",
	"message": "An on-demand image is bought together with a cloud server (ECS): add one to the purchase.",
} if {
	delivery in settings.on_demand_image_delivery_types
	req.billing_mode == "on_demand"
	object.get(req, "with_ecs", false) != true
}

# PURCH-07: a periodic image takes effect on payment; no later start date.
reasons contains {
	"rule": "PURCH-07", "code": "DEFERRED_START_NOT_SUPPORTED",
	"message": sprintf("A yearly or monthly image takes effect when it is paid; a start at %s cannot be requested.", [req.requested_start]),
} if {
	delivery in settings.single_server_delivery_types
	periodic
	time.parse_rfc3339_ns(req.requested_start) > now_ns
}

# PURCH-10: automatically deployed periodic resources are charged to the balance after creation.
auto_deployed if flag(store_product, "auto_deploy")

auto_deployed if {
	delivery == "license"
	product.license_flow in settings.auto_deploy_license_flows
}

reasons contains {
	"rule": "PURCH-10", "code": "INSUFFICIENT_BALANCE",
	"message": sprintf("The resource is charged %s from the balance after it is created; the balance of %s is not enough, so creation would fail. Top up first.", [dec.fixed(price, 2), dec.fixed(facts.account.balance, 2)]),
} if {
	auto_deployed
	periodic
	dec.lt(facts.account.balance, price)
}

# PURCH-11: supervised goods need requirements submitted under Service Supervision after payment.
needs_submission if {
	product.supervised
	delivery in settings.supervised_submission_delivery_types
} else := false

reasons contains {
	"rule": "PURCH-11", "code": "REQUIREMENTS_SUBMISSION_REQUIRED", "effect": "note",
	"message": "After paying, submit your requirements and follow progress under Service Supervision.",
} if {
	needs_submission == true
}

# PURCH-12: images need a VPC; quick provisioning needs the marketplace delegated; enterprise projects
# only for accounts with that feature.
reasons contains {
	"rule": "PURCH-12", "code": "VPC_REQUIRED",
	"message": "Choose a virtual private cloud (create one if none is offered) before buying an image.",
} if {
	delivery in settings.vpc_delivery_types
	object.get(req, "vpc_id", "") == ""
}

reasons contains {
	"rule": "PURCH-12", "code": "PROVISIONING_DELEGATION_REQUIRED",
	"message": "Quick provisioning creates resources on your behalf: delegate resource creation to the marketplace first.",
} if {
	delivery in settings.vpc_delivery_types
	object.get(req, "quick_provisioning", false) == true
	not flag(store_account, "provisioning_delegated")
}

reasons contains {
	"rule": "PURCH-12", "code": "ENTERPRISE_PROJECT_NOT_ENABLED",
	"message": "Only accounts with the enterprise-project feature choose an enterprise project.",
} if {
	delivery in settings.vpc_delivery_types
	object.get(req, "enterprise_project_id", "") != ""
	not flag(store_account, "enterprise_project_enabled")
}

# RENEW-04 / RENEW-05: auto-renewal may be chosen at purchase for periodic SaaS, image, manual service
# and License products.
reasons contains {
	"rule": "RENEW-04", "code": "AUTO_RENEW_NOT_SUPPORTED",
	"message": sprintf("Automatic renewal is for periodic %s products; not for %s %s.", [concat(", ", renewal.auto_renew_delivery_types), req.billing_mode, delivery]),
} if {
	object.get(req, "auto_renew", false) == true
	not auto_renewable
}

auto_renewable if {
	req.billing_mode in renewal.renewable_billing_modes
	delivery in renewal.auto_renew_delivery_types
}

priced := {"unit_price": dec.fixed(unit_price, 2), "price": dec.fixed(price, 2)} if {
	price
} else := {}

starts := {"effective_from": cal.beijing_time(input.now)} if {
	delivery in settings.single_server_delivery_types
	periodic
} else := {}

decision := {
	"reasons": reasons,
	"outputs": object.union_n([priced, starts, {
		"order_type": "new",
		"agreement": agreement,
		"requires_requirement_submission": needs_submission,
		"charged_after_creation": auto_deployed_periodic,
	}]),
}

auto_deployed_periodic if {
	auto_deployed
	periodic
} else := false
