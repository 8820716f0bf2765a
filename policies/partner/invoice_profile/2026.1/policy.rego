# Invoice profiles (rules-partner.md §G.6, BILL-05). Since 2020-08-01 a cloud account has one valid
# invoice profile: extra profiles kept from before stay, but none is added while the account has one.
# The title is at most 100 GBK bytes (AMB-26). The engine runs this under the lock
# invoice_profile:<account>; each added profile records one ledger entry, so two concurrent additions
# never both pass. Profiles added before this service are partner_invoice_profiles rows.
package arbiter.partner.invoice_profile

req := input.request

cfg := input.rules.billing

limited if cal.beijing_date(input.now) >= cfg.one_profile_from

valid_count := dec.add(count([p | some p in input.facts.profiles; p.valid]), dec.sum([e.amount | some e in input.facts.usage]))

reasons contains {"code": "ONE_VALID_PROFILE", "rule": "BILL-05", "message": sprintf("The account has %s valid invoice profile(s); since %s at most %d.", [valid_count, cfg.one_profile_from, cfg.max_valid_profiles])} if {
	limited
	dec.gte(valid_count, cfg.max_valid_profiles)
}

gbk_title if text.gbk_valid(req.title)

title_bytes := text.gbk_len(req.title) if {
	gbk_title
} else := null

reasons contains {"code": "TITLE_NOT_GBK", "rule": "BILL-05", "message": "The invoice title has a character an invoice (GBK) cannot print."} if {
	not gbk_title
}

reasons contains {"code": "TITLE_TOO_LONG", "rule": "BILL-05", "message": sprintf("The invoice title is %d bytes; at most %d.", [title_bytes, cfg.invoice_title_max_bytes])} if {
	gbk_title
	title_bytes > cfg.invoice_title_max_bytes
}

denied if some r in reasons

ledger := [{"key": sprintf("invoice_profile:%s", [req.account_id]), "amount": "1"}] if {
	not denied
} else := []

decision := {
	"reasons": reasons,
	"outputs": {"valid_profiles_after": dec.add(valid_count, count(ledger)), "title_bytes": title_bytes},
	"ledger": ledger,
}
