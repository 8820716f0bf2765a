# Submitting an unbind or mode-switch request (rules-partner.md §F.2). Customer unbind applications are
# limited to 3 in a rolling 3 months (ASSOC-16, AMB-04 (c)): the engine runs this under the lock
# partner_unbind:<customer>, and each allowed customer application records one ledger entry whose
# created_at is the application time. Nothing is unbound here: the other side must agree (ASSOC-03).
package arbiter.partner.unbind_request

req := input.request

customer := input.facts.customer

cfg := input.rules.association

now_ns := time.parse_rfc3339_ns(input.now)

reasons contains {"code": "NOT_ASSOCIATED", "rule": "ASSOC-02", "message": sprintf("Customer %s is not associated with a partner.", [customer.id])} if {
	customer.associated_partner_id == null
}

# ASSOC-15 with AMB-22: the partner starts a switch in either direction; the customer confirms it.
reasons contains {"code": "SWITCH_STARTED_BY_PARTNER", "rule": "ASSOC-15", "message": "A mode switch is started by the partner; a customer unbinds and re-associates instead."} if {
	req.kind == "switch_mode"
	req.initiator == "customer"
}

reasons contains {"code": "NOTICE_NOT_ACCEPTED", "rule": "ASSOC-15", "message": "The partner must tick the notice to switch mode."} if {
	req.kind == "switch_mode"
	req.initiator == "partner"
	not req.notice_accepted
}

# ASSOC-15, ASSOC-17: a partner-initiated request needs the account check passed and a reason.
reasons contains {"code": "ACCOUNT_CHECK_FAILED", "rule": "ASSOC-17", "message": "The customer account check must pass first."} if {
	req.initiator == "partner"
	not req.account_check_passed
}

reasons contains {"code": "REASON_REQUIRED", "rule": "ASSOC-17", "message": "A partner-initiated request gives a reason."} if {
	req.initiator == "partner"
	count(trim_space(object.get(req, "reason", ""))) == 0
}

# ASSOC-16 with AMB-04 (c): customer unbind applications in (now - 3 months, now]. Entries are recorded at
# the server clock, so none lies after now; none is excluded for it.
counted if {
	req.kind == "unbind"
	req.initiator == "customer"
}

window_start := cal.add_months(now_ns, 0 - cfg.unbind_window_months)

in_window := dec.sum([e.amount |
	some e in input.facts.usage
	time.parse_rfc3339_ns(e.created_at) > window_start
])

reasons contains {"code": "UNBIND_LIMIT_3_PER_3_MONTHS", "rule": "ASSOC-16", "message": sprintf("The customer has submitted %s unbind applications in the last %d months (at most %d).", [in_window, cfg.unbind_window_months, cfg.unbind_requests_max])} if {
	counted
	dec.gte(in_window, sprintf("%d", [cfg.unbind_requests_max]))
}

denied if some r in reasons

ledger := [{"key": sprintf("partner_unbind:%s", [req.customer_id]), "amount": "1"}] if {
	counted
	not denied
} else := []

# ASSOC-03, ASSOC-17, ASSOC-18: the request waits for the other side; no unilateral unbind.
awaiting := "customer" if {
	req.initiator == "partner"
} else := "partner_admin"

decision := {
	"reasons": reasons,
	"outputs": {
		"status": "pending",
		"awaiting": awaiting,
		"counted_applications_in_window": dec.add(in_window, count(ledger)),
	},
	"ledger": ledger,
}
