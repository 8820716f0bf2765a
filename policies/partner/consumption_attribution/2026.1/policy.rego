# Custody-sub unbind month (ASSOC-26): the summary shows the sub; a detail line shows the sub up to and
# including the unbind-completion instant and the master after it.
package arbiter.partner.consumption_attribution

req := input.request

customer := input.facts.customer

cut := time.parse_rfc3339_ns(req.unbind_completed_at)

reasons contains {"code": "NOT_CUSTODY_SUB", "rule": "ASSOC-26", "message": sprintf("Account %s is not a financial-custody sub-account with a master.", [customer.id])} if {
	not custody_sub
}

custody_sub if {
	customer.enterprise_role == "sub"
	customer.finance_mode == "custody"
	customer.master_id != null
}

account_of(t) := customer.id if {
	time.parse_rfc3339_ns(t) <= cut
} else := customer.master_id

decision := {
	"reasons": reasons,
	"outputs": {
		"summary_account": customer.id,
		"lines": [{"id": l.id, "account": account_of(l.transaction_time)} | some l in req.lines],
	},
}
