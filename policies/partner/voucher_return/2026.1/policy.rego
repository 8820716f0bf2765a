# Where the voucher part of an unsubscribed or downgraded resource goes (rules-partner.md §E.1):
# partner vouchers come back only in CPN-11's three cases; a partner-issued customer voucher goes to
# the customer while still associated and to the partner after unbinding (CPN-09). Other routes are
# not in the source text (AMB-18) and go to a person.
package arbiter.partner.voucher_return

req := input.request

voucher := input.facts.voucher

customer := input.facts.customer

partner_voucher if voucher.kind == "partner_voucher"

# CPN-09 is stated for resale mode only (SRC L4393-4395): the mode when the voucher was used, or the
# customer's current mode when the request does not say.
purchase_mode := object.get(req, "association_mode_at_purchase", customer.association_mode)

customer_voucher if {
	not partner_voucher
	voucher.issuer in {"partner", "general_distributor"}
	purchase_mode == "resale"
}

cpn11_exception if {
	req.event == "unsubscribe"
	req.resource_state in {"not_yet_effective", "provisioning_failed", "renewal_not_yet_effective"}
}

still_associated if customer.associated_partner_id == voucher.partner_id

returned_to := "partner" if {
	partner_voucher
	cpn11_exception
} else := "none" if {
	partner_voucher
} else := "customer" if {
	customer_voucher
	still_associated
} else := "partner" if {
	customer_voucher
} else := null

reasons contains {"code": "PARTNER_VOUCHER_NOT_RETURNED", "rule": "CPN-11", "effect": "note", "message": "Unsubscribing or downgrading a resource does not return partner vouchers."} if {
	partner_voucher
	not cpn11_exception
}

reasons contains {"code": "PARTNER_VOUCHER_RETURNED", "rule": "CPN-11", "effect": "note", "message": sprintf("The resource was unsubscribed while %s: the partner voucher is returned.", [req.resource_state])} if {
	partner_voucher
	cpn11_exception
}

reasons contains {"code": "VOUCHER_BACK_TO_CUSTOMER", "rule": "CPN-09", "effect": "note", "message": "The customer is still associated with the partner: the voucher part goes back to the customer."} if {
	customer_voucher
	still_associated
}

reasons contains {"code": "VOUCHER_BACK_TO_PARTNER", "rule": "CPN-09", "effect": "note", "message": "The customer has unbound from the partner: the voucher part goes back to the partner."} if {
	customer_voucher
	not still_associated
}

# ASSOC-29 / AMB-18: the per-mode route table is missing from the source; a person decides.
reasons contains {"code": "REFUND_ROUTE_NOT_STATED", "rule": "ASSOC-29", "effect": "refer", "message": sprintf("The source states no return route for a %s voucher issued by %s (AMB-18).", [voucher.kind, voucher.issuer])} if {
	returned_to == null
}

decision := {
	"reasons": reasons,
	"outputs": {"voucher_id": voucher.id, "returned": returned_to in {"customer", "partner"}, "returned_to": returned_to},
}
