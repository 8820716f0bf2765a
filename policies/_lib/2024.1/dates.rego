package arbiter.benefits.dates

# Month arithmetic of the benefit policies over months "YYYY-MM". Days, quarters and working days are
# the cal.* built-ins (docs/authoring.md); this module only numbers and names months.

month_of(d) := substring(d, 0, 7)

# month_index numbers months consecutively: year * 12 + month - 1.
month_index(m) := ((to_number(substring(m, 0, 4)) * 12) + to_number(substring(m, 5, 2))) - 1

month_at(i) := sprintf("%04d-%02d", [floor(i / 12), (i % 12) + 1])

month_first(m) := concat("", [m, "-01"])

# month_last is the last day of month m.
month_last(m) := cal.add_days(cal.add_months(month_first(m), 1), -1)
