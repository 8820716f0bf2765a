package arbiter.refund.path

import data.arbiter.refund.lib

# Every refund path open for the request with its amount bound, approval, coupon fate and invoice
# prerequisite, and every candidate path that is closed with its reasons (rules-marketplace.md §2).
decision := {
	"reasons": lib.reasons,
	"outputs": lib.outputs,
}
