# One order line's performance (rules-partner.md §C.1). A custody sub-account's consumption and
# performance go to the partner of its master account (PERF-12); a non-write-off line counts at once,
# a write-off line when written off (PERF-14); an order paid on day D shows as performance on the evening
# of D+1 (PERF-06); an unsubscribe or downgrade in the incentive period makes a negative incentive
# (PERF-08); special commercial terms win over the standard rules, e.g. performance with no rebate
# (PERF-13).
package arbiter.incentive.line_attribution

req := input.request

customer := input.facts.customer

custody_sub if {
	customer.enterprise_role == "sub"
	customer.finance_mode == "custody"
}

master := input.facts.master[0] if {
	count(input.facts.master) > 0
} else := null

partner := master.associated_partner_id if {
	custody_sub
} else := customer.associated_partner_id

reasons contains {"code": "CUSTODY_TO_MASTER_PARTNER", "rule": "PERF-12", "effect": "note", "message": sprintf("%s is a custody sub-account: its performance goes to %s, the partner of master %s.", [customer.id, partner, customer.master_id])} if {
	custody_sub
	master != null
}

reasons contains {"code": "MASTER_NOT_FOUND", "rule": "PERF-12", "effect": "refer", "message": sprintf("Custody sub-account %s has no master account on record.", [customer.id])} if {
	custody_sub
	master == null
}

reasons contains {"code": "NO_PARTNER", "rule": "PERF-12", "effect": "note", "message": "No partner is associated; the line is nobody's performance."} if {
	partner == null
	not master_missing
}

master_missing if {
	custody_sub
	master == null
}

write_off if object.get(req, "write_off", false) == true

counts_from := req.paid_at if {
	not write_off
} else := object.get(req, "written_off_at", null)

reasons contains {"code": "NOT_WRITTEN_OFF", "rule": "PERF-14", "effect": "note", "message": "A write-off line counts once it is written off."} if {
	write_off
	counts_from == null
}

paid_day := cal.beijing_date(req.paid_at)

negative if req.kind in {"unsubscribe", "downgrade"}

in_period if {
	counts_from != null
	startswith(cal.beijing_date(counts_from), req.incentive_period)
}

reasons contains {"code": "NEGATIVE_INCENTIVE", "rule": "PERF-08", "effect": "note", "message": sprintf("A %s in %s makes a negative incentive.", [req.kind, req.incentive_period])} if {
	negative
	in_period
}

no_rebate := object.get(req, "special_terms_no_rebate", false)

reasons contains {"code": "SPECIAL_TERMS_NO_REBATE", "rule": "PERF-13", "effect": "note", "message": "Special commercial terms take precedence: the performance earns no rebate."} if {
	no_rebate == true
}

performance := dec.neg(req.amount) if {
	negative
} else := req.amount

period_performance := performance if {
	in_period
} else := "0"

decision := {
	"reasons": reasons,
	"outputs": {
		"partner_id": partner,
		"performance": dec.fixed(performance, 2),
		"performance_in_period": dec.fixed(period_performance, 2),
		"counts_from": counts_from,
		"visible_on": cal.add_days(paid_day, 1),
		"rebate": no_rebate == false,
	},
}
