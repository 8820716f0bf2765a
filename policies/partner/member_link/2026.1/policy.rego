# Accepting a member invitation (rules-partner.md §G.1). The link is valid 7 days from sending (PS-05);
# the invitee is a personal account of the partner's site (PS-04) that is not an enterprise real-name
# account, not linked to another partner, real-name verified on the China site, not a partner account,
# and has not been linked with 3 partners within a year (PS-03). The engine runs this under the lock
# member_link:<invitee>; each accepted link records one ledger entry whose idempotency key starts with
# the partner id, so two partners accepting at once never take an invitee past the limit or into two
# partners at a time. Earlier links come from partner_org_member_links.
package arbiter.partner.member_link

req := input.request

inv := input.facts.invitation

invitee := input.facts.invitee

cfg := input.rules.org

now_ns := time.parse_rfc3339_ns(input.now)

reasons contains {"code": "INVITATION_MISMATCH", "rule": "PS-05", "message": sprintf("Invitation %s was not sent by %s to %s.", [inv.id, req.partner_id, req.invitee_id])} if {
	not matches
}

matches if {
	inv.partner_id == req.partner_id
	inv.invitee_id == req.invitee_id
}

# PS-05: valid 7 x 24 h from sending, the last instant included.
expires_ns := cal.add_days(time.parse_rfc3339_ns(inv.sent_at), cfg.member_invite_validity_days)

reasons contains {"code": "INVITATION_EXPIRED", "rule": "PS-05", "message": sprintf("The invitation expired at %s; the admin may invite again.", [cal.beijing_time(expires_ns)])} if {
	now_ns > expires_ns
}

reasons contains {"code": "NOT_PERSONAL_ACCOUNT", "rule": "PS-04", "message": sprintf("Only a personal HC account is linked; %s is %s.", [invitee.id, invitee.account_kind])} if {
	invitee.account_kind != "personal"
}

reasons contains {"code": "SITE_MISMATCH", "rule": "PS-04", "message": sprintf("The invitee is on the %s site, the partner on the %s site.", [invitee.site, input.facts.partner.site])} if {
	invitee.site != input.facts.partner.site
}

reasons contains {"code": "ENTERPRISE_REAL_NAME", "rule": "PS-03", "message": "An account real-name verified as an enterprise cannot be linked."} if {
	invitee.realname_as_enterprise
}

reasons contains {"code": "LINKED_TO_OTHER_PARTNER", "rule": "PS-03", "message": sprintf("The invitee is linked to partner %s.", [p])} if {
	some p in current_partners
	p != req.partner_id
}

reasons contains {"code": "REAL_NAME_REQUIRED", "rule": "PS-03", "message": "On the China site the invitee must be real-name verified."} if {
	invitee.site == "cn"
	not invitee.real_name_verified
}

reasons contains {"code": "PARTNER_ACCOUNT", "rule": "PS-03", "message": "A partner account cannot be linked as a member."} if {
	invitee.is_partner_account
}

reasons contains {"code": "TOO_MANY_PARTNERS_IN_12_MONTHS", "rule": "PS-03", "message": sprintf("The invitee was linked with %d partners in the last %d months (fewer than %d required).", [count(recent_partners), cfg.invitee_partner_window_months, cfg.invitee_max_partners])} if {
	count(recent_partners) >= cfg.invitee_max_partners
}

window_start := cal.add_months(now_ns, 0 - cfg.invitee_partner_window_months)

partner_of(e) := split(e.idempotency_key, "/")[0]

committed := [{"partner": partner_of(e), "at": time.parse_rfc3339_ns(e.created_at)} | some e in input.facts.usage]

unlinked_after(p, at) if {
	some l in input.facts.links
	l.partner_id == p
	l.unlinked_at != null
	time.parse_rfc3339_ns(l.unlinked_at) >= at
}

# Links still open: a recorded link without an unlink, or a link committed here and not unlinked since.
current_partners contains l.partner_id if {
	some l in input.facts.links
	l.unlinked_at == null
}

current_partners contains c.partner if {
	some c in committed
	not unlinked_after(c.partner, c.at)
}

# PS-03 (5): partners linked with at any time in (now - 12 months, now], counting links still open.
recent_partners contains l.partner_id if {
	some l in input.facts.links
	linked_in_window(l)
}

recent_partners contains c.partner if {
	some c in committed
	c.at > window_start
}

recent_partners contains p if some p in current_partners

linked_in_window(l) if l.unlinked_at == null

linked_in_window(l) if {
	l.unlinked_at != null
	time.parse_rfc3339_ns(l.unlinked_at) > window_start
}

denied if some r in reasons

ledger := [{"key": sprintf("member_link:%s", [req.invitee_id]), "amount": "1"}] if {
	not denied
} else := []

decision := {
	"reasons": reasons,
	"outputs": {
		"expires_at": cal.beijing_time(expires_ns),
		"partners_in_window": sort([p | some p in recent_partners]),
	},
	"ledger": ledger,
}
