# Free-trial eligibility of rules-marketplace.md §3.1, shared by trial.eligibility and trial.order.
# Both manifests load the same facts: account, product, sku, spec, settings, history, product_usage,
# sku_usage; and the table trial.
package arbiter.trial.lib

req := input.request

facts := input.facts

settings := input.rules.trial

now_ns := time.parse_rfc3339_ns(input.now)

# The account's storefront settings; an account without a row has none of them.
account_settings := facts.settings[0] if {
	count(facts.settings) > 0
} else := {}

spec := facts.spec[0] if {
	count(facts.spec) > 0
} else := {}

trial_days := spec.trial_days if is_number(object.get(spec, "trial_days", null))

# TRIAL-01: personal real-name verification, and enterprise verification where the product asks for it.
reasons contains {
	"rule": "TRIAL-01", "code": "REAL_NAME_REQUIRED",
	"message": "Complete personal real-name verification before ordering a free trial.",
} if {
	not facts.account.personal_real_name_verified
}

reasons contains {
	"rule": "TRIAL-01", "code": "ENTERPRISE_REAL_NAME_REQUIRED",
	"message": "This product's trial is for enterprise-verified accounts: complete enterprise real-name verification first.",
} if {
	facts.product.trial_requires_enterprise_verification
	not facts.account.enterprise_real_name_verified
}

# TRIAL-02 / AMB-20: an earlier trial in scope (same product, or same spec) blocks another one.
history_in_scope contains t if {
	some t in facts.history
	settings.repeat_scope == "product"
}

history_in_scope contains t if {
	some t in facts.history
	settings.repeat_scope == "sku"
	t.sku_id == req.sku_id
}

usage_in_scope := facts.product_usage if {
	settings.repeat_scope == "product"
} else := facts.sku_usage

earlier_from_history contains t.id if {
	some t in history_in_scope
	settings.repeat_window == "lifetime"
}

earlier_from_history contains t.id if {
	some t in history_in_scope
	settings.repeat_window == "while_active"
	t.expires_at != null
	time.parse_rfc3339_ns(t.expires_at) > now_ns
}

earlier_from_ledger contains e.idempotency_key if {
	settings.repeat_window == "lifetime"
	dec.gt(dec.sum([r.amount | some r in usage_in_scope]), "0")
	some e in usage_in_scope
	dec.gt(e.amount, "0")
}

earlier_from_ledger contains e.idempotency_key if {
	settings.repeat_window == "while_active"
	some e in usage_in_scope
	dec.gt(e.amount, "0")
	cal.add_days(time.parse_rfc3339_ns(e.created_at), trial_days) > now_ns
}

earlier_trials := sort(earlier_from_history | earlier_from_ledger)

reasons contains {
	"rule": "TRIAL-02", "code": "TRIAL_ALREADY_PURCHASED",
	"message": sprintf("This account already had a free trial of this %s (%s); a trial cannot be ordered again.", [scope_noun, concat(", ", earlier_trials)]),
} if {
	count(earlier_trials) > 0
}

scope_noun := "product" if {
	settings.repeat_scope == "product"
} else := "spec"

# TRIAL-03: a trial order is a 0-yuan order of a trial spec of this product (the amount is checked when given).
reasons contains {
	"rule": "TRIAL-03", "code": "NOT_A_TRIAL_SPEC",
	"message": sprintf("Spec %s of product %s has no free trial.", [req.sku_id, req.product_id]),
} if {
	not trial_days
}

reasons contains {
	"rule": "TRIAL-03", "code": "SPEC_NOT_OF_PRODUCT",
	"message": sprintf("Spec %s does not belong to product %s.", [req.sku_id, req.product_id]),
} if {
	facts.sku.product_id != req.product_id
}

reasons contains {
	"rule": "TRIAL-03", "code": "TRIAL_AMOUNT_NOT_ZERO",
	"message": sprintf("A trial order must be payable %s; this one is payable %s.", [settings.trial_amount, req.payable_amount]),
} if {
	is_string(req.payable_amount)
	not dec.eq(req.payable_amount, settings.trial_amount)
}

# TRIAL-07: products that create their initial account from the email need one, settled for a while.
reasons contains {
	"rule": "TRIAL-07", "code": "EMAIL_REQUIRED",
	"message": "This product creates its initial account from your email: add an email address in the account center first.",
} if {
	facts.product.requires_account_email
	not facts.account.email_set
}

reasons contains {
	"rule": "TRIAL-07", "code": "EMAIL_NOT_YET_EFFECTIVE",
	"message": sprintf("The email address added at %s takes %d minutes to take effect; order the trial after that.", [facts.account.email_set_at, settings.email_settle_minutes]),
} if {
	facts.product.requires_account_email
	facts.account.email_set
	facts.account.email_set_at != null
	time.parse_rfc3339_ns(facts.account.email_set_at) + ((settings.email_settle_minutes * 60) * 1000000000) > now_ns
}

# TRIAL-08: joint-operation trials sign in through a joint-operation organization.
reasons contains {
	"rule": "TRIAL-08", "code": "JOINT_OPERATION_ORG_REQUIRED",
	"message": "Joint-operation products sign in through a joint-operation organization: bind the account to one before the trial.",
} if {
	facts.product.commercial_category in settings.joint_operation_categories
	object.get(account_settings, "joint_org_id", null) == null
}

eligible if {
	count(reasons) == 0
} else := false

outputs := {
	"eligible": eligible,
	"trial_days": trial_days,
	"payable_amount": dec.fixed(settings.trial_amount, 2),
	"expires_at": cal.beijing_time(cal.add_days(now_ns, trial_days)),
	"repeat_scope": settings.repeat_scope,
	"earlier_trials": earlier_trials,
} if {
	trial_days
} else := {
	"eligible": eligible,
	"repeat_scope": settings.repeat_scope,
	"earlier_trials": earlier_trials,
}
