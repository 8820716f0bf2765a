# Performance statement feedback (rules-partner.md §C.1, PERF-15): feedback is given while a statement
# is 预估 (estimated), 初稿 (first draft) or 公示中 (in publication); once 公示结束 (publication ended) or
# 终稿 (final) it is final, and only a ticket or the eco manager remain.
package arbiter.incentive.statement_feedback

status := input.request.statement_status

reasons contains {"code": "STATEMENT_FINAL", "rule": "PERF-15", "message": sprintf("The statement is %s and final: raise a ticket or contact the eco manager.", [status])} if {
	status in {"publication_ended", "final"}
}

channel := "ticket_or_eco_manager" if {
	status in {"publication_ended", "final"}
} else := "feedback"

decision := {"reasons": reasons, "outputs": {"channel": channel}}
