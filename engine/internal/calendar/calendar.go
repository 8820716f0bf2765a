// Package calendar holds the business calendar both policy languages share: Beijing dates and
// instants, whole months with end-of-month clamping, natural quarters, and PRC working days over
// the effective-dated calendar table.
package calendar

import "time"

// Beijing is the business calendar's time zone (UTC+08:00, no daylight saving).
var Beijing = time.FixedZone("Asia/Shanghai", 8*60*60)

// AddMonths adds whole calendar months in Beijing time, clamping to the last day of a shorter month.
func AddMonths(t time.Time, months int) time.Time {
	local := t.In(Beijing)
	y, m, d := local.Date()
	first := time.Date(y, m+time.Month(months), 1, local.Hour(), local.Minute(), local.Second(), local.Nanosecond(), Beijing)
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, local.Hour(), local.Minute(), local.Second(), local.Nanosecond(), Beijing)
}
