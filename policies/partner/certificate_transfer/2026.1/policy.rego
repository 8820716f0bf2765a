# Certificate transfer (rules-partner.md §G.1). A certificate synced automatically from Koolabs never
# moves to another personal account (PS-07); an uploaded one moves by deleting it from A and uploading it
# to B, where a career certificate is reviewed by Huawei again (PS-06).
package arbiter.partner.certificate_transfer

cert := input.facts.certificate

reasons contains {"code": "SYNCED_CERTIFICATE_FIXED", "rule": "PS-07", "message": sprintf("%s was synced from Koolabs and stays with %s.", [cert.name, cert.holder_id])} if {
	cert.source == "koolabs_sync"
}

reasons contains {"code": "SAME_HOLDER", "rule": "PS-07", "message": "The certificate already belongs to this account."} if {
	cert.holder_id == input.request.to_holder_id
}

reasons contains {"code": "REVIEWED_AGAIN", "rule": "PS-06", "effect": "note", "message": "An uploaded career certificate is reviewed by Huawei on the new account."} if {
	cert.source == "upload"
	cert.name in {"HCIA", "HCIP", "HCIE"}
}

steps := ["delete_from_current_holder", "upload_to_new_holder"] if {
	cert.source == "upload"
} else := []

decision := {"reasons": reasons, "outputs": {"steps": steps}}
