# Basic-information changes (rules-partner.md §G.2). Business-licence data is edited by the main account
# only and the USCC or organisation code never (INFO-01); the logo, contact details and profile change
# through a ticket from the main account (INFO-02); the Huawei account name changes once (INFO-04). The
# engine runs this under the lock account_name:<account>: a name change records one ledger entry, so two
# concurrent changes never both pass; earlier changes are huawei_account_name_changes.
package arbiter.partner.info_change

req := input.request

account := input.facts.account

cfg := input.rules.org

main_account if {
	some a in input.facts.actor
	a.id == account.id
	a.is_main_account
}

reasons contains {"code": "FIELD_IMMUTABLE", "rule": "INFO-01", "message": sprintf("%s cannot be edited.", [req.field])} if {
	req.field in cfg.immutable_fields
}

reasons contains {"code": "MAIN_ACCOUNT_ONLY", "rule": "INFO-01", "message": sprintf("Business-licence data (%s) is edited by the main account only.", [req.field])} if {
	req.field in cfg.licence_fields
	not main_account
}

reasons contains {"code": "TICKET_REQUIRED", "rule": "INFO-02", "message": sprintf("%s is changed by the main account through a ticket; there is no online entry.", [req.field])} if {
	req.field in cfg.main_account_ticket_fields
}

name_change if req.field == "huawei_account_name"

changes := dec.add(account.huawei_account_name_changes, dec.sum([e.amount | some e in input.facts.usage]))

reasons contains {"code": "NAME_CHANGE_ONCE_ONLY", "rule": "INFO-04", "message": sprintf("The Huawei account name has been changed %s time(s); at most %d.", [changes, cfg.name_changes_max])} if {
	name_change
	dec.gte(changes, cfg.name_changes_max)
}

known_field if req.field in cfg.immutable_fields

known_field if req.field in cfg.licence_fields

known_field if req.field in cfg.main_account_ticket_fields

known_field if req.field in {"huawei_account_name", "account_contact"}

reasons contains {"code": "UNKNOWN_FIELD", "rule": "INFO-01", "message": sprintf("%s is not a basic-information field.", [req.field])} if {
	not known_field
}

denied if some r in reasons

ledger := [{"key": sprintf("account_name:%s", [account.id]), "amount": "1"}] if {
	name_change
	not denied
} else := []

decision := {
	"reasons": reasons,
	"outputs": {"name_changes_after": dec.add(changes, count(ledger))},
	"ledger": ledger,
}
