package arbiter.joint.password_reset

# JOINT-07: an administrator resets members' passwords at most once per 3 minutes, 15 times in any rolling
# hour and 60 times a day, each time after an SMS code to the administrator's phone. The engine runs this
# under the lock of the administrator, so the resets read here cannot change before the commit; an
# accepted reset records one unit under that key at the server clock.

req := input.request

limits := input.rules.limits

key := sprintf("joint-reset:%s:%s", [req.enterprise_id, req.admin_id])

now_ns := time.parse_rfc3339_ns(input.now)

# Instants of the earlier resets (a negative entry would be a correction and is not a reset).
resets := [time.parse_rfc3339_ns(r.created_at) | some r in input.facts.usage; dec.gt(r.amount, "0")]

last_ns := max(resets) if count(resets) > 0

hour_count := count([t | some t in resets; t > now_ns - (3600 * 1000000000)])

day_start_ns := cal.beijing_instant(cal.beijing_date(input.now)) if {
	limits.day_basis == "beijing_day"
} else := now_ns - (86400 * 1000000000)

day_count := count([t | some t in resets; t > day_start_ns - 1])

wait_seconds := ceil(((last_ns + (limits.reset_min_interval_seconds * 1000000000)) - now_ns) / 1000000000) if {
	count(resets) > 0
	now_ns - last_ns < limits.reset_min_interval_seconds * 1000000000
}

reasons contains {
	"rule": "JOINT-07", "code": "SMS_CODE_REQUIRED",
	"message": "Enter the SMS code sent to the administrator's phone before resetting a member's password.",
} if {
	not req.sms_verified
}

reasons contains {
	"rule": "JOINT-07", "code": "RESET_TOO_SOON",
	"message": sprintf("Passwords can be reset once every %d seconds; try again in %d seconds.", [limits.reset_min_interval_seconds, wait_seconds]),
} if {
	wait_seconds
}

reasons contains {
	"rule": "JOINT-07", "code": "HOURLY_RESET_LIMIT",
	"message": sprintf("This administrator has reset %d passwords in the last hour; the limit is %d.", [hour_count, limits.resets_per_hour]),
} if {
	hour_count >= limits.resets_per_hour
}

reasons contains {
	"rule": "JOINT-07", "code": "DAILY_RESET_LIMIT",
	"message": sprintf("This administrator has reset %d passwords today; the limit is %d a day.", [day_count, limits.resets_per_day]),
} if {
	day_count >= limits.resets_per_day
}

accepted if count(reasons) == 0

accepted_value if {
	accepted
} else := false

ledger := [{"key": key, "amount": "1"}] if {
	accepted
} else := []

added := 1 if {
	accepted
} else := 0

decision := {
	"reasons": reasons,
	"outputs": {
		"reset_id": req.reset_id,
		"member_account": req.member_account,
		"accepted": accepted_value,
		"resets_last_hour": hour_count + added,
		"resets_today": day_count + added,
		"remaining_this_hour": max([limits.resets_per_hour - (hour_count + added), 0]),
		"remaining_today": max([limits.resets_per_day - (day_count + added), 0]),
	},
	"ledger": ledger,
}
