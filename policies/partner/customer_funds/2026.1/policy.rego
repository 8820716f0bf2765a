# Money, invoices and contracts by association mode (rules-partner.md §F.3): resale customers are
# funded, invoiced and contracted by their partner; advisory customers deal with HC themselves.
package arbiter.partner.customer_funds

req := input.request

customer := input.facts.customer

partner := input.facts.partner[0] if count(input.facts.partner) > 0

mode := customer.association_mode if {
	customer.associated_partner_id != null
} else := "direct"

# ASSOC-31: a resale customer cannot recharge itself; the partner allocates funds.
reasons contains {"code": "RESALE_CUSTOMER_CANNOT_RECHARGE", "rule": "ASSOC-31", "message": "A resale customer cannot top up itself: the partner allocates funds."} if {
	req.action == "self_top_up"
	mode == "resale"
}

# ASSOC-33: SP customers of both modes may request partner payment; a CR's only when resale.
reasons contains {"code": "NOT_ASSOCIATED", "rule": "ASSOC-33", "message": "Partner payment needs an associated partner."} if {
	req.action == "partner_payment"
	mode == "direct"
}

reasons contains {"code": "PARTNER_PAYMENT_RESALE_ONLY_FOR_CR", "rule": "ASSOC-33", "message": "A cloud reseller's advisory customers cannot request partner payment."} if {
	req.action == "partner_payment"
	partner.partner_type == "cr"
	mode == "advisory"
}

# ASSOC-34: advisory customers invoice themselves under their own title after account information and real name.
reasons contains {"code": "OWN_TITLE_ONLY", "rule": "ASSOC-34", "message": "An advisory customer invoices only under its own title, never a channel's."} if {
	req.action == "invoice"
	mode == "advisory"
	req.invoice_title == "channel"
}

reasons contains {"code": "ACCOUNT_INFO_AND_REAL_NAME_REQUIRED", "rule": "ASSOC-34", "message": "Complete the account information and real-name verification before invoicing."} if {
	req.action == "invoice"
	mode == "advisory"
	not ready_to_invoice
}

ready_to_invoice if {
	customer.real_name_verified
	req.account_info_complete
}

invoiced_by := "hc" if {
	mode in {"advisory", "direct"}
} else := "general_distributor" if {
	partner.partner_type == "cr"
} else := "partner"

# ASSOC-35: resale customers contract offline with the partner (online only when the partner asks for it).
reasons contains {"code": "RESALE_CONTRACT_WITH_PARTNER", "rule": "ASSOC-35", "message": "A resale customer signs offline with the partner; an online contract must be requested by the partner."} if {
	req.action == "contract"
	mode == "resale"
	req.contract_channel == "online_hc"
}

reasons contains {"code": "CONTRACT_CHANNEL_REQUIRED", "rule": "ASSOC-35", "message": "Name the contract channel."} if {
	req.action == "contract"
	not req.contract_channel
}

# ASSOC-20: a refund for what was consumed during a resale association goes to that period's partner.
refund_to := req.consumed_with_partner_id if {
	req.action == "refund"
	req.consumed_in_mode == "resale"
} else := null

reasons contains {"code": "REFUND_TO_PARTNER_OF_PERIOD", "rule": "ASSOC-20", "effect": "note", "message": sprintf("Consumed during the resale association with %s: the refund goes to that partner account.", [refund_to])} if {
	refund_to != null
}

reasons contains {"code": "REFUND_PARTNER_REQUIRED", "rule": "ASSOC-20", "message": "A refund of resale-period consumption names the partner of that period."} if {
	req.action == "refund"
	req.consumed_in_mode == "resale"
	not req.consumed_with_partner_id
}

# ASSOC-29 / AMB-18: the per-mode refund route table is missing from the source.
reasons contains {"code": "REFUND_ROUTE_NOT_STATED", "rule": "ASSOC-29", "effect": "refer", "message": sprintf("The source states no refund route for %s-mode consumption (AMB-18).", [object.get(req, "consumed_in_mode", "unknown")])} if {
	req.action == "refund"
	object.get(req, "consumed_in_mode", "") != "resale"
}

funded_by := "partner" if {
	mode == "resale"
} else := "customer"

decision := {
	"reasons": reasons,
	"outputs": {
		"association_mode": mode,
		"invoiced_by": invoiced_by,
		"funds_allocated_by": funded_by,
		"refund_to_partner_id": refund_to,
		"refund_amount": object.get(req, "refund_amount", null),
	},
}
