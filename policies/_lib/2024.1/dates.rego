package arbiter.benefits.dates

# Calendar arithmetic shared by the benefit policies (one identical copy per policy version).
# Dates are "YYYY-MM-DD" and months "YYYY-MM". Arithmetic runs on UTC midnights so that no time zone
# shifts a day; timestamps are first turned into their Beijing date (CONV-3).

day_ns := 86400000000000

beijing_offset_ns := 28800000000000

# ns is the UTC midnight of date d, in nanoseconds.
ns(d) := time.parse_ns("2006-01-02", d)

# date is the UTC date of an instant given in nanoseconds.
date(n) := sprintf("%04d-%02d-%02d", time.date(n))

# beijing_date is the Beijing calendar date of an RFC 3339 timestamp.
beijing_date(ts) := date(time.parse_rfc3339_ns(ts) + beijing_offset_ns)

# today is the Beijing date of the decision's as_of.
today := beijing_date(input.now)

add_days(d, k) := date(ns(d) + (k * day_ns))

# days_between is b - a in whole days.
days_between(a, b) := round((ns(b) - ns(a)) / day_ns)

year_of(d) := to_number(substring(d, 0, 4))

month_of(d) := substring(d, 0, 7)

# month_index numbers months consecutively: year * 12 + month - 1.
month_index(m) := ((to_number(substring(m, 0, 4)) * 12) + to_number(substring(m, 5, 2))) - 1

month_at(i) := sprintf("%04d-%02d", [floor(i / 12), (i % 12) + 1])

month_first(m) := concat("", [m, "-01"])

# month_last is the last day of month m.
month_last(m) := add_days(month_first(month_at(month_index(m) + 1)), -1)

# quarter_start is the first month of the natural quarter of month m.
quarter_start(m) := month_at(month_index(m) - ((month_index(m) % 12) % 3))

# months_later is CONV-6 MonthsLater(d, n): the same day n months later, or the 1st of the following
# month when that day does not exist (2025-11-30 + 3 = 2026-03-01).
months_later(d, n) := _same_day_or_next(month_at(month_index(month_of(d)) + n), substring(d, 8, 2))

_same_day_or_next(m, dd) := concat("-", [m, dd]) if {
	to_number(dd) <= to_number(substring(month_last(m), 8, 2))
}

_same_day_or_next(m, dd) := month_first(month_at(month_index(m) + 1)) if {
	to_number(dd) > to_number(substring(month_last(m), 8, 2))
}

# calendar turns the calendar.prc_workdays table into sets (CONV-4).
calendar(t) := {
	"holidays": {d | some yr in t.years; some d in yr.holidays},
	"makeup": {d | some yr in t.years; some d in yr.makeup_workdays},
	"weekend": {w | some w in t.weekend},
	"years": {y | some y, _ in t.years},
}

workday(cal, d) if d in cal.makeup

workday(cal, d) if {
	not d in cal.makeup
	not d in cal.holidays
	wd := time.weekday(ns(d))
	not wd in cal.weekend
}

# working_days counts the working days in [from, to).
working_days(cal, from, to) := count([i |
	some i in numbers.range(0, days_between(from, to) - 1)
	workday(cal, add_days(from, i))
]) if {
	days_between(from, to) > 0
} else := 0

# covered holds when the calendar knows every year of [from, to).
covered(cal, from, to) if {
	days_between(from, to) <= 0
}

covered(cal, from, to) if {
	days_between(from, to) > 0
	every y in numbers.range(year_of(from), year_of(add_days(to, -1))) {
		sprintf("%d", [y]) in cal.years
	}
}
