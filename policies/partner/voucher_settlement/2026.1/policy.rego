# Partner vouchers against a partner bill (CPN-10, PROPOSED algorithm): lines in ascending customer
# transaction time; each line first takes the vouchers restricted to its customer, then unrestricted
# ones. Each pool is drawn as a prefix, so a line's draw is the overlap of its slice of the pool with
# each voucher's slice: no state is carried from line to line.
package arbiter.partner.voucher_settlement

req := input.request

n := count(req.lines)

order := sort([[time.parse_rfc3339_ns(l.transaction_time), l.id, i] | some i, l in req.lines])

lines := [req.lines[order[k][2]] | some k in numbers.range(0, n - 1)]

# Pools: vouchers restricted to a customer, and the unrestricted ones, each with its slice [start, end).
pool_of(v) := v.restricted_customer_id if {
	v.restricted_customer_id
} else := ""

slices[p] := [{"id": v.id, "start": dec.sum([w.amount | some j, w in vs; j < i]), "end": dec.sum([w.amount | some j, w in vs; j <= i])} |
	some i, v in vs
] if {
	some p in {pool_of(v) | some v in req.vouchers}
	vs := [v | some v in req.vouchers; pool_of(v) == p]
}

pool_total(p) := slices[p][count(slices[p]) - 1].end if {
	count(object.get(slices, p, [])) > 0
} else := "0"

clamp(x, hi) := dec.max("0", dec.min(hi, x))

# Per sorted line k: restricted draw r, then unrestricted draw g.
prior_same(k) := dec.sum([lines[j].amount | some j in numbers.range(0, k - 1); lines[j].customer_id == lines[k].customer_id]) if {
	k > 0
} else := "0"

restricted_used[k] := clamp(dec.sub(pool_total(lines[k].customer_id), prior_same(k)), lines[k].amount) if some k in numbers.range(0, n - 1)

need[k] := dec.sub(lines[k].amount, restricted_used[k]) if some k in numbers.range(0, n - 1)

prior_need(k) := dec.sum([need[j] | some j in numbers.range(0, k - 1)]) if {
	k > 0
} else := "0"

general_used[k] := clamp(dec.sub(pool_total(""), prior_need(k)), need[k]) if some k in numbers.range(0, n - 1)

overlap(s, e, a, b) := dec.max("0", dec.sub(dec.min(e, b), dec.max(s, a)))

draws(k, p, from, used) := [{"voucher_id": s.id, "amount": dec.fixed(x, 2)} |
	some s in object.get(slices, p, [])
	x := overlap(s.start, s.end, from, dec.add(from, used))
	dec.gt(x, "0")
]

matched := [{
	"line_id": lines[k].id,
	"customer_id": lines[k].customer_id,
	"amount": dec.fixed(lines[k].amount, 2),
	"vouchers": array.concat(
		draws(k, lines[k].customer_id, prior_same(k), restricted_used[k]),
		draws(k, "", prior_need(k), general_used[k]),
	),
	"settlement_due": dec.fixed(dec.sub(need[k], general_used[k]), 2),
} |
	some k in numbers.range(0, n - 1)
]

used_of(id) := dec.sum([d.amount | some m in matched; some d in m.vouchers; d.voucher_id == id])

remaining := [{"voucher_id": v.id, "used": dec.fixed(used_of(v.id), 2), "remaining": dec.fixed(dec.sub(v.amount, used_of(v.id)), 2)} | some v in req.vouchers]

reasons contains {"code": "VOUCHERS_MATCHED_BY_TRANSACTION_TIME", "rule": "CPN-10", "effect": "note", "message": "Lines are matched in customer transaction-time order, customer-restricted vouchers first (PROPOSED algorithm)."}

decision := {
	"reasons": reasons,
	"outputs": {
		"lines": matched,
		"vouchers": remaining,
		"settlement_due": dec.fixed(dec.sum([m.settlement_due | some m in matched]), 2),
	},
}
