package arbiter.voucher.use

# The life of an issued voucher (rules-benefits.md §C): validity windows (VCH-08, VCH-28, LAB-04,
# LAB-05, CONV-5, CONV-6), no change after approval (VCH-26), no transfer (VCH-29) and the exam order
# (VCH-30); test-voucher spend is not cash (VCH-09). Days are Beijing days; a window [from, to) ends the day before `to`.

req := input.request

terms := input.rules.terms

kind := req.kind

action := req.action

day := object.get(req, "on", cal.beijing_date(input.now))

exam if kind in {"exam_hccdx", "exam_hcix"}

issued_on := object.get(req, "issued_on", null)

redeemed_on := object.get(req, "redeemed_on", null)

# ---------------------------------------------------------------- validity window

# The window runs from issuance (test, HCCDX, an unredeemed lab) or from redemption (HCIX, a redeemed lab).
window_from := issued_on if kind in {"test", "exam_hccdx"}

window_from := redeemed_on if kind == "exam_hcix"

window_from := issued_on if {
	kind == "lab"
	action == "redeem"
}

window_from := redeemed_on if {
	kind == "lab"
	action != "redeem"
}

window_to := cal.months_later(window_from, terms.test_valid_months) if {
	kind == "test"
	window_from != null
}

window_to := cal.months_later(window_from, terms.hccdx_valid_months) if {
	kind == "exam_hccdx"
	window_from != null
}

window_to := cal.months_later(window_from, terms.hcix_valid_months) if {
	kind == "exam_hcix"
	window_from != null
}

# LAB-04 / CONV-5: redeemed within N calendar days after issuance, the N-th day included.
window_to := cal.add_days(window_from, terms.lab_redeem_days + 1) if {
	kind == "lab"
	action == "redeem"
	window_from != null
}

window_to := cal.months_later(window_from, terms.lab_valid_months) if {
	kind == "lab"
	action != "redeem"
	window_from != null
}

default window_to_out := null

window_to_out := window_to

last_valid_day := cal.add_days(window_to, -1) if {
	window_to
} else := null

# Actions that need the voucher to be within its window.
timed := {"use", "redeem", "exam", "book_lab_exam"}

# HCIX: redemption itself has no deadline (AMB-19); the year runs from it.
checks_window if {
	action in timed
	not hcix_redeem
}

hcix_redeem if {
	kind == "exam_hcix"
	action == "redeem"
}

window_rule := {"test": "VCH-08", "exam_hccdx": "VCH-28", "exam_hcix": "VCH-28", "lab": "LAB-05"}[kind] if {
	not lab_redeem
} else := "LAB-04"

lab_redeem if {
	kind == "lab"
	action == "redeem"
}

expired_code := "LAB_REDEMPTION_EXPIRED" if {
	lab_redeem
} else := "VCH_EXPIRED"

# ---------------------------------------------------------------- reasons

reasons contains {
	"rule": "VCH-26", "code": "VCH_APPROVED_IRREVOCABLE",
	"message": sprintf("The application was approved (%s), so it can no longer be withdrawn or changed.", [req.status]),
} if {
	action in {"withdraw", "change"}
	req.status in {"approved", "issued"}
	kind != "test"
}

reasons contains {
	"rule": "VCH-26", "code": "VCH_CHANGE_AFTER_APPROVAL_NOT_STATED", "effect": "refer",
	"message": "The source states no withdrawal or change rule for an approved test-voucher application; an operator decides.",
} if {
	action in {"withdraw", "change"}
	req.status in {"approved", "issued"}
	kind == "test"
}

reasons contains {
	"rule": "VCH-29", "code": "VCH_NOT_TRANSFERABLE",
	"message": "A voucher belongs to the holder account named in the application only; it cannot be given, transferred or resold.",
} if {
	action == "transfer"
}

reasons contains {
	"rule": "VCH-29", "code": "VCH_NOT_TRANSFERABLE",
	"message": sprintf("Account %s is not the holder %s named in the application.", [req.actor_account_id, req.holder_account_id]),
} if {
	action != "transfer"
	req.actor_account_id != req.holder_account_id
}

reasons contains {
	"rule": "VCH-28", "code": "VCH_NO_EXTENSION",
	"message": "Exam vouchers are not extended, refunded or exchanged once issued.",
} if {
	exam
	action in {"extend", "refund", "exchange"}
}

reasons contains {
	"rule": window_rule, "code": "VCH_EXTENSION_NOT_STATED", "effect": "refer",
	"message": "The source states no extension, refund or exchange rule for this voucher; an operator decides.",
} if {
	not exam
	action in {"extend", "refund", "exchange"}
}

reasons contains {
	"rule": window_rule, "code": "VCH_NOT_ISSUED",
	"message": "The voucher has not been issued yet.",
} if {
	action in timed
	req.status != "issued"
}

reasons contains {
	"rule": window_rule, "code": "NEEDS_INFO_DATES", "effect": "refer",
	"message": needs_date_message,
} if {
	checks_window
	req.status == "issued"
	window_from == null
}

needs_date_message := "Give the redemption date: the validity runs from it." if {
	kind == "exam_hcix"
} else := "Give the redemption date: the lab environment's validity runs from it." if {
	kind == "lab"
	not lab_redeem
} else := "Give the issue date: the validity runs from it."

reasons contains {
	"rule": window_rule, "code": "VCH_NOT_YET_VALID",
	"message": sprintf("The voucher is valid from %s.", [window_from]),
} if {
	checks_window
	window_from != null
	day < window_from
}

reasons contains {
	"rule": window_rule, "code": expired_code,
	"message": sprintf("The voucher's window ended on %s (last valid day).", [last_valid_day]),
} if {
	checks_window
	window_to
	day >= window_to
}

reasons contains {
	"rule": "VCH-30", "code": "VCH_THEORY_EXAM_FIRST",
	"message": "The theory exam must be passed before the lab exam can be booked.",
} if {
	action == "book_lab_exam"
	kind == "exam_hccdx"
	not req.theory_passed
}

# VCH-26: informational, the issue expected within N working days of approval.
expected_issue_by := cal.add_working_days(input.rules.calendar, req.approved_on, terms.exam_issue_working_days) if {
	exam
	req.approved_on
	cal.can_add_working_days(input.rules.calendar, req.approved_on, terms.exam_issue_working_days)
} else := null

effects := {object.get(r, "effect", "deny") | some r in reasons}

outcome := "deny" if {
	"deny" in effects
} else := "refer" if {
	"refer" in effects
} else := "allow"

decision := {
	"outcome": outcome,
	"reasons": [r | some r in reasons],
	"outputs": {
		"valid_from": window_from,
		"valid_to": window_to_out,
		"last_valid_day": last_valid_day,
		"expected_issue_by": expected_issue_by,
		"verdict": {"deny": "REJECT", "refer": "NEEDS_INFO", "allow": "ALLOW"}[outcome],
		"counts_as_cash": counts_as_cash,
	},
}

# VCH-09 (GEN-09): spending a test voucher never counts as cash consumption or performance; the source
# says nothing of the other kinds, so they stay null.
counts_as_cash := false if {
	kind == "test"
} else := null
