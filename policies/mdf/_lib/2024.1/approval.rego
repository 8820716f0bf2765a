package arbiter.mdf.approval

# The application-date rules MDF-23, MDF-25 and MDF-26 (rules-benefits.md §A3), judged the same way
# when an application is made (mdf.application, mdf.apply) and when it is settled (mdf.claim).
# a is {year, approved_on, submitted_on, first_start, last_start, last_end}, days as YYYY-MM-DD and
# null when unknown; timing is the mdf.timing table.

reasons(a, timing) := (before_approval(a, timing) | not_approved_in_year(a, timing)) | lapsed(a, timing)

before_approval(a, timing) := {{
	"rule": "MDF-23", "code": "MDF_ACTIVITY_BEFORE_APPROVAL",
	"message": sprintf("Approval completed on %s but the activity started on %s; costs of an activity started before approval are not paid.", [a.approved_on, a.first_start]),
} |
	a.approved_on != null
	a.first_start != null
	not approved_in_time(a, timing)
}

approved_in_time(a, _) if a.approved_on < a.first_start

approved_in_time(a, timing) if {
	timing.same_day_approval_ok
	a.approved_on == a.first_start
}

approval_deadline(a, timing) := sprintf("%d-%s", [a.year, timing.approval_deadline])

not_approved_in_year(a, timing) := {{
	"rule": "MDF-25", "code": "MDF_NOT_APPROVED_IN_BUDGET_YEAR",
	"message": sprintf("An application on the %d budget must complete approval by %s; it completed on %s.", [a.year, approval_deadline(a, timing), a.approved_on]),
} |
	a.approved_on != null
	a.approved_on > approval_deadline(a, timing)
} | {{
	"rule": "MDF-25", "code": "MDF_NOT_APPROVED_IN_BUDGET_YEAR",
	"message": sprintf("An application on the %d budget must complete approval by %s; it was submitted on %s.", [a.year, approval_deadline(a, timing), a.submitted_on]),
} |
	a.approved_on == null
	a.submitted_on != null
	a.submitted_on > approval_deadline(a, timing)
}

next_year_deadline(a, timing) := sprintf("%d-%s", [a.year + 1, timing.next_year_deadline])

# The day MDF-26 compares: the last session's end or start, as the timing table says (AMB).
next_year_date(a, timing) := a.last_end if timing.next_year_date_basis == "end"

next_year_date(a, timing) := a.last_start if timing.next_year_date_basis == "start"

lapsed(a, timing) := {{
	"rule": "MDF-26", "code": "MDF_BUDGET_LAPSED_JAN31",
	"message": sprintf("An activity on the %d budget must be held by %s; this one is held until %s. The budget lapses and cannot be extended.", [a.year, next_year_deadline(a, timing), d]),
} |
	d := next_year_date(a, timing)
	d != null
	d > next_year_deadline(a, timing)
}
