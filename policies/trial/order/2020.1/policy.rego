package arbiter.trial.order

import data.arbiter.trial.lib

# Order a free trial, once per account and product (TRIAL-02, AMB-20). The engine runs this under the
# locks trial:<account>:<product> and trial-sku:<account>:<spec>, so the ledger read by the library
# cannot change before the commit; an allowed order records one unit under both keys.

ledger := [
	{"key": sprintf("trial:%s:%s", [input.request.account_id, input.request.product_id]), "amount": "1"},
	{"key": sprintf("trial-sku:%s:%s", [input.request.account_id, input.request.sku_id]), "amount": "1"},
] if {
	lib.eligible
} else := []

decision := {
	"reasons": lib.reasons,
	"outputs": object.union(lib.outputs, {"order_id": input.request.order_id, "ordered": lib.eligible}),
	"ledger": ledger,
}
