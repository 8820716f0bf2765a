// Package calendar holds the business calendar both policy languages share: Beijing dates and
// instants, whole months with end-of-month clamping, natural quarters, and PRC working days over
// the effective-dated calendar table.
package calendar

import (
	"fmt"
	"time"
)

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

// AddDays adds n calendar days in Beijing time; with no daylight saving that is exactly n x 24 h.
func AddDays(t time.Time, n int) time.Time { return t.In(Beijing).AddDate(0, 0, n) }

// BeijingTime is t as Beijing wall-clock text to the second, "2006-01-02T15:04:05+08:00".
func BeijingTime(t time.Time) string { return t.In(Beijing).Format("2006-01-02T15:04:05-07:00") }

// Date is a calendar day with no time of day or zone.
type Date struct {
	// t is the day's midnight in UTC, so that day arithmetic never meets a zone.
	t time.Time
}

// ParseDate reads "YYYY-MM-DD" and rejects days that do not exist (2025-02-30).
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != len(time.DateOnly) {
		return Date{}, fmt.Errorf("%q is not a date YYYY-MM-DD", clip(s))
	}
	return Date{t}, nil
}

// DateOf is the Beijing calendar day of instant t.
func DateOf(t time.Time) Date {
	y, m, d := t.In(Beijing).Date()
	return NewDate(y, m, d)
}

// NewDate is the day y-m-d, normalised the way time.Date normalises (month 13 is January next year).
func NewDate(y int, m time.Month, d int) Date { return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)} }

// CheckYear fails for a day outside the years 0000-9999 that "YYYY-MM-DD" can write.
func (d Date) CheckYear() error {
	if y := d.Year(); y < 0 || y > 9999 {
		return fmt.Errorf("year %d is outside 0000-9999", y)
	}
	return nil
}

// String is the day as "YYYY-MM-DD".
func (d Date) String() string { return d.t.Format(time.DateOnly) }

// Instant is the first instant of the day in Beijing (its midnight, +08:00).
func (d Date) Instant() time.Time {
	y, m, dd := d.t.Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, Beijing)
}

// Year is the day's calendar year.
func (d Date) Year() int { return d.t.Year() }

// Month is the day's calendar month.
func (d Date) Month() time.Month { return d.t.Month() }

// Day is the day of the month.
func (d Date) Day() int { return d.t.Day() }

// Weekday is the day of the week.
func (d Date) Weekday() time.Weekday { return d.t.Weekday() }

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool { return d.t.Before(e.t) }

// DaysUntil is e - d in whole days (negative when e is earlier).
func (d Date) DaysUntil(e Date) int { return int(e.t.Sub(d.t).Hours()) / 24 }

// AddDays is the day n days later (earlier for negative n).
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }

// AddMonths is the same day n months later, clamped to the last day of a shorter month
// (2024-11-30 + 3 = 2025-02-28).
func (d Date) AddMonths(n int) Date {
	first := NewDate(d.Year(), d.Month()+time.Month(n), 1)
	if last := first.shiftMonths(1).AddDays(-1).Day(); d.Day() > last {
		return first.AddDays(last - 1)
	}
	return first.AddDays(d.Day() - 1)
}

// shiftMonths adds n months to a first of the month, where no clamping can happen.
func (d Date) shiftMonths(n int) Date { return NewDate(d.Year(), d.Month()+time.Month(n), d.Day()) }

// MonthsLater is CONV-6 MonthsLater(d, n): the same day n months later, or the 1st of the following
// month when that day does not exist (2025-11-30 + 3 = 2026-03-01).
func (d Date) MonthsLater(n int) Date {
	first := NewDate(d.Year(), d.Month()+time.Month(n), 1)
	if last := first.shiftMonths(1).AddDays(-1).Day(); d.Day() > last {
		return first.shiftMonths(1)
	}
	return first.AddDays(d.Day() - 1)
}

// Quarter is the natural quarter of the day, 1 to 4.
func (d Date) Quarter() int { return (int(d.Month())-1)/3 + 1 }

// QuarterStart is the first day of the day's natural quarter.
func (d Date) QuarterStart() Date { return NewDate(d.Year(), time.Month((d.Quarter()-1)*3+1), 1) }

func clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
