package api_test

import (
	"fmt"
	"testing"

	"arbiter/store"
)

// Partner organisation and billing usage limits over PostgreSQL across two server processes on one
// database: a member linked to one partner at a time and to fewer than 3 partners in 12 months
// (partner.member_link), a specialist on one CTSP project (partner.ctsp_occupation), the Huawei account
// name changed once (partner.info_change) and one valid invoice profile (partner.invoice_profile).

func TestPartnerMemberLinkAcrossTwoProcesses(t *testing.T) {
	rows := store.Rows{
		"partner_org_invitees": {{"id": "U1", "site": "cn", "real_name_verified": true}},
		"partner_org_member_links": {
			{"invitee_id": "U1", "partner_id": "PA", "linked_at": "2024-03-01T10:00:00+08:00", "unlinked_at": "2024-05-01T10:00:00+08:00"},
			{"invitee_id": "U1", "partner_id": "PB", "linked_at": "2024-06-01T10:00:00+08:00", "unlinked_at": "2024-08-01T10:00:00+08:00"},
		},
	}
	for i := 0; i < 20; i++ {
		p := fmt.Sprintf("P%02d", i)
		rows["partner_org_accounts"] = append(rows["partner_org_accounts"], map[string]any{"id": p, "site": "cn", "is_main_account": true})
		rows["partner_org_invitations"] = append(rows["partner_org_invitations"], map[string]any{
			"id": "I" + p, "partner_id": p, "invitee_id": "U1", "sent_at": "2025-01-30T10:00:00+08:00",
		})
	}
	db, urls, client := startReplicas(t, canonical(t, rows))
	rs := race(20, func(i int) reply {
		p := fmt.Sprintf("P%02d", i)
		r := decide(client, urls[i%2], "partner.member_link", map[string]any{
			"invitation_id": "I" + p, "partner_id": p, "invitee_id": "U1",
		}, checkoutAt)
		r.label = p
		return r
	})
	w := allowed(t, rs, "LINKED_TO_OTHER_PARTNER")
	if len(w) != 1 {
		t.Fatalf("%d partners linked the invitee, want exactly 1 (a third partner in 12 months, one at a time)", len(w))
	}
	if got, want := ledgerLines(readLedger(t, db)), []string{"member_link:U1=1"}; !sameLines(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}

func TestPartnerCTSPOccupationAcrossTwoProcesses(t *testing.T) {
	rows := store.Rows{
		"partner_org_accounts":     {{"id": "P1", "ctsp": true}},
		"partner_org_members":      {{"id": "M1", "partner_id": "P1", "specialist_paths": []any{"service"}}},
		"partner_org_certificates": {{"id": "K1", "holder_id": "M1", "name": "HCCDP", "source": "koolabs_sync", "valid_until": "2027-01-01"}},
	}
	for i := 0; i < 20; i++ {
		rows["partner_ctsp_projects"] = append(rows["partner_ctsp_projects"], map[string]any{
			"id": fmt.Sprintf("J%02d", i), "partner_id": "P1", "required_certs": []any{"HCCDP"},
		})
	}
	db, urls, client := startReplicas(t, canonical(t, rows))
	rs := race(20, func(i int) reply {
		r := decide(client, urls[i%2], "partner.ctsp_occupation", map[string]any{
			"request_id": fmt.Sprintf("R%02d", i), "partner_id": "P1", "member_id": "M1",
			"project_id": fmt.Sprintf("J%02d", i), "action": "occupy",
		}, checkoutAt)
		r.label = fmt.Sprintf("J%02d", i)
		return r
	})
	w := allowed(t, rs, "SPECIALIST_OCCUPIED")
	if len(w) != 1 {
		t.Fatalf("%d projects occupied one specialist, want exactly 1", len(w))
	}
	if got, want := ledgerLines(readLedger(t, db)), []string{"ctsp_specialist:M1=1"}; !sameLines(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}

func TestPartnerAccountNameChangedOnceAcrossTwoProcesses(t *testing.T) {
	rows := store.Rows{"partner_org_accounts": {{"id": "A1", "is_main_account": true}}}
	db, urls, client := startReplicas(t, canonical(t, rows))
	rs := race(20, func(i int) reply {
		r := decide(client, urls[i%2], "partner.info_change", map[string]any{
			"request_id": fmt.Sprintf("R%02d", i), "account_id": "A1", "actor_id": "A1", "field": "huawei_account_name",
		}, checkoutAt)
		r.label = fmt.Sprintf("R%02d", i)
		return r
	})
	w := allowed(t, rs, "NAME_CHANGE_ONCE_ONLY")
	if len(w) != 1 {
		t.Fatalf("%d name changes succeeded, want exactly 1", len(w))
	}
	if got, want := ledgerLines(readLedger(t, db)), []string{"account_name:A1=1"}; !sameLines(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}

func TestPartnerInvoiceProfileOnceAcrossTwoProcesses(t *testing.T) {
	rows := store.Rows{"partner_invoice_profiles": {{"account_id": "C1", "id": "F0", "valid": false}}}
	db, urls, client := startReplicas(t, canonical(t, rows))
	rs := race(20, func(i int) reply {
		r := decide(client, urls[i%2], "partner.invoice_profile", map[string]any{
			"request_id": fmt.Sprintf("R%02d", i), "account_id": "C1", "title": "示例科技有限公司",
		}, checkoutAt)
		r.label = fmt.Sprintf("R%02d", i)
		return r
	})
	w := allowed(t, rs, "ONE_VALID_PROFILE")
	if len(w) != 1 {
		t.Fatalf("%d invoice profiles were added, want exactly 1", len(w))
	}
	if got, want := ledgerLines(readLedger(t, db)), []string{"invoice_profile:C1=1"}; !sameLines(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}
