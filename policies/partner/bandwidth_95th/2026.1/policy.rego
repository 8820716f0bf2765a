# Monthly 95th-percentile bandwidth billing (rules-partner.md §G.6, BILL-16). A natural month is billed
# in the next: its sample points are sorted, the highest 5% dropped, and the highest remaining point is
# the billing point. How 5% of the points is made a whole count is not stated: the setting
# p95_drop_rounding of partner.customer_billing says (floor or ceil); unset, the bill is referred.
package arbiter.partner.bandwidth_95th

req := input.request

cfg := input.rules.billing

month_start := sprintf("%s-01", [req.month])

next_month := cal.add_months(month_start, 1)

outside := [s.at | some s in req.samples; not in_month(s)]

in_month(s) if startswith(cal.beijing_date(s.at), req.month)

reasons contains {"code": "MONTH_NOT_ENDED", "rule": "BILL-16", "message": sprintf("%s is billed from %s, once the month has ended.", [req.month, next_month])} if {
	cal.beijing_date(input.now) < next_month
}

reasons contains {"code": "SAMPLE_OUTSIDE_MONTH", "rule": "BILL-16", "message": sprintf("%d sample(s) lie outside %s, e.g. %s.", [count(outside), req.month, outside[0]])} if {
	count(outside) > 0
}

reasons contains {"code": "DROP_ROUNDING_NOT_SET", "rule": "BILL-16", "effect": "refer", "message": "How 5% of the points is counted is not configured (partner.customer_billing p95_drop_rounding)."} if {
	cfg.p95_drop_rounding == null
}

n := count(req.samples)

share := dec.mul(n, cfg.p95_dropped_share)

whole := dec.truncate(share, 0)

dropped := to_number(whole) if cfg.p95_drop_rounding == "floor"

dropped := to_number(whole) if {
	cfg.p95_drop_rounding == "ceil"
	dec.eq(whole, share)
}

dropped := to_number(dec.add(whole, 1)) if {
	cfg.p95_drop_rounding == "ceil"
	not dec.eq(whole, share)
}

dropped_out := dropped if {
	cfg.p95_drop_rounding != null
} else := null

# Highest first; a point's decimal text is kept as sent.
ranked := array.reverse(sort([[to_number(s.mbps), s.mbps] | some s in req.samples]))

billing_point := ranked[dropped][1] if {
	dropped < n
} else := null

decision := {
	"reasons": reasons,
	"outputs": {"points": n, "dropped": dropped_out, "billing_point_mbps": billing_point},
}
