# Combined transaction orders (rules-partner.md §G.6, BILL-18): until the order is paid its instances are
# paid or cancelled together; once paid, each instance is traded on its own.
package arbiter.partner.combined_order

req := input.request

all := {i | some i in req.order_instances}

chosen := {i | some i in req.selected_instances}

left_out := all - chosen

foreign := chosen - all

reasons contains {"code": "NOT_IN_ORDER", "rule": "BILL-18", "message": sprintf("Instances %s are not in the order.", [concat(", ", sort([i | some i in foreign]))])} if {
	count(foreign) > 0
}

reasons contains {"code": "ORDER_NOT_PAID", "rule": "BILL-18", "message": sprintf("An unpaid combined order is only paid or cancelled; %s waits for the payment.", [req.action])} if {
	not req.order_paid
	not req.action in {"pay", "cancel"}
}

reasons contains {"code": "WHOLE_ORDER_ONLY", "rule": "BILL-18", "message": sprintf("The combined order is paid or cancelled as a whole; %s are left out.", [concat(", ", sort([i | some i in left_out]))])} if {
	not req.order_paid
	req.action in {"pay", "cancel"}
	count(left_out) > 0
}

reasons contains {"code": "ALREADY_PAID", "rule": "BILL-18", "message": "The order is paid; it is not paid or cancelled again."} if {
	req.order_paid
	req.action in {"pay", "cancel"}
}

decision := {"reasons": reasons, "outputs": {"traded_independently": req.order_paid}}
