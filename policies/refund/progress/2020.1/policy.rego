package arbiter.refund.progress

# The clock of a refund request under way: the hardware return deadline and automatic acceptance
# (REFUND-HW-02), appeal after merchant inaction and withdrawal (REFUND-HW-03), and the invoice
# application that makes a pending unsubscribe fail (REFUND-G02). Days are N x 24 h (AMB-02).

settings := input.rules.settings

req := input.facts.refund_request

action := object.get(input.request, "action", "status")

now_ns := time.parse_rfc3339_ns(input.now)

ts(s) := time.parse_rfc3339_ns(s)

negotiated_paths := {"NEGOTIATED", "NEGOTIATED_HW_NOT_RECEIVED", "NEGOTIATED_HW_RECEIVED"}

# States in which the buyer may still withdraw the request (REFUND-HW-03).
withdrawable_states := {"pending_merchant_review", "approved", "awaiting_return_shipment", "appealed"}

awaiting_return if {
	req.path == "NEGOTIATED_HW_RECEIVED"
	req.state in {"approved", "awaiting_return_shipment"}
	req.approved_at != null
	req.return_info_uploaded_at == null
}

return_deadline_ns := cal.add_days(ts(req.approved_at), settings.hardware.return_days) if {
	req.path == "NEGOTIATED_HW_RECEIVED"
	req.approved_at != null
}

return_overdue if {
	awaiting_return
	now_ns > return_deadline_ns
}

auto_accept_ns := cal.add_days(ts(req.return_info_uploaded_at), settings.hardware.auto_accept_days) if {
	req.path == "NEGOTIATED_HW_RECEIVED"
	req.return_info_uploaded_at != null
}

auto_accepted if {
	req.state == "return_shipped"
	req.merchant_accepted_at == null
	req.merchant_exception_at == null
	now_ns > auto_accept_ns
}

# Merchant inaction counts from the latest of the submission, the return upload and its own last action.
idle_since_ns := max([ts(t) |
	some t in [req.submitted_at, req.return_info_uploaded_at, req.merchant_last_action_at]
	t != null
])

appeal_from_ns := cal.add_days(idle_since_ns, settings.hardware.appeal_after_days)

appeal_allowed if {
	effective_state in {"pending_merchant_review", "return_shipped"}
	now_ns > appeal_from_ns
}

effective_state := "withdrawn" if {
	return_overdue
} else := "merchant_accepted" if {
	auto_accepted
} else := req.state

reason(rule, code, message, effect) := {"rule": rule, "code": code, "message": message, "effect": effect}

# Notes on the request's state; they never block a status answer.
state_notes contains reason("REFUND-HW-02", "RETURN_DEADLINE_PASSED", msg, "note") if {
	return_overdue
	msg := sprintf("The return logistics were not uploaded by %s: the request is treated as withdrawn.", [cal.beijing_time(return_deadline_ns)])
}

state_notes contains reason("REFUND-HW-02", "AUTO_ACCEPTED", msg, "note") if {
	auto_accepted
	msg := sprintf("The merchant did not act on the returned goods by %s: the system accepts them and executes the unsubscribe.", [cal.beijing_time(auto_accept_ns)])
}

state_notes contains reason("REFUND-HW-03", "APPEAL_ALLOWED", msg, "note") if {
	appeal_allowed
	msg := sprintf("The merchant has not handled the request since %s: the buyer may appeal.", [cal.beijing_time(idle_since_ns)])
}

action_reasons contains reason("REFUND-HW-02", "RETURN_DEADLINE_PASSED", msg, "deny") if {
	action == "upload_return_info"
	return_overdue
	msg := sprintf("The return logistics had to be uploaded by %s; the request is treated as withdrawn.", [cal.beijing_time(return_deadline_ns)])
}

action_reasons contains reason("REFUND-HW-02", "NOT_AWAITING_RETURN", msg, "deny") if {
	action == "upload_return_info"
	not awaiting_return
	msg := sprintf("Request %s is not waiting for returned goods (state %s).", [req.id, req.state])
}

action_reasons contains reason("REFUND-G02", "UNSUBSCRIBE_FAILED_INVOICE_DURING_REVIEW", msg, "deny") if {
	action == "apply_invoice"
	req.path in negotiated_paths
	req.state == "pending_merchant_review"
	msg := "Do not apply for an invoice while the unsubscribe awaits the merchant's review: the unsubscribe would fail."
}

action_reasons contains reason("REFUND-HW-03", "APPEAL_NOT_YET_ALLOWED", msg, "deny") if {
	action == "appeal"
	not appeal_allowed
	msg := appeal_refusal
}

appeal_refusal := sprintf("The buyer may appeal once the merchant has not handled the request for %d days, after %s.", [settings.hardware.appeal_after_days, cal.beijing_time(appeal_from_ns)]) if {
	req.state in {"pending_merchant_review", "return_shipped"}
} else := sprintf("Request %s is %s; there is nothing to appeal.", [req.id, req.state])

reasons := action_reasons | {r | some r in state_notes; not blocked_note(r)}

# A step refused for a reason already noted on the state is reported once, as the refusal.
blocked_note(r) if {
	some a in action_reasons
	a.code == r.code
}

return_deadline := cal.beijing_time(return_deadline_ns) if {
	return_deadline_ns
} else := null

auto_accept_after := cal.beijing_time(auto_accept_ns) if {
	auto_accept_ns
} else := null

may_appeal if {
	appeal_allowed
} else := false

invoice_application_allowed := false if {
	req.path in negotiated_paths
	req.state == "pending_merchant_review"
} else := true

decision := {
	"reasons": reasons,
	"outputs": {
		"request_id": req.id,
		"path": req.path,
		"action": action,
		"state": req.state,
		"effective_state": effective_state,
		"return_deadline": return_deadline,
		"auto_accept_after": auto_accept_after,
		"appeal_allowed": may_appeal,
		"withdraw_allowed": effective_state in withdrawable_states,
		"invoice_application_allowed": invoice_application_allowed,
		"unsubscribe_state_if_invoice_applied": "failed",
	},
}
