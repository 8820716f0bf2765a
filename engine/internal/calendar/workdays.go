package calendar

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"
)

// ErrNotPublished is wrapped by every working-day answer that needs a year the table does not publish.
var ErrNotPublished = errors.New("the working-day calendar does not publish")

// Workdays is a parsed calendar.prc_workdays table (CONV-4, AMB-21): rest weekdays, and each
// published year's statutory holidays and make-up working days.
type Workdays struct {
	weekend [7]bool
	years   map[int]*[367]dayKind
}

type dayKind uint8

const (
	ordinary dayKind = iota
	holiday
	makeup
)

// ParseWorkdays reads the table's data as decoded from YAML or JSON:
// {weekend: [Saturday, ...], years: {"2025": {holidays: [dates], makeup_workdays: [dates]}}}.
func ParseWorkdays(table any) (*Workdays, error) {
	m, ok := table.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the calendar table must be an object with weekend and years, got %T", table)
	}
	w := &Workdays{years: map[int]*[367]dayKind{}}
	weekend, ok := m["weekend"].([]any)
	if !ok {
		return nil, errors.New("the calendar table's weekend must be a list of weekday names")
	}
	for _, x := range weekend {
		day, ok := weekdayNamed(x)
		if !ok {
			return nil, fmt.Errorf("the calendar table's weekend lists %v, which is not a weekday name", x)
		}
		w.weekend[day] = true
	}
	years, ok := m["years"].(map[string]any)
	if !ok {
		return nil, errors.New("the calendar table's years must be an object keyed by year")
	}
	for key, raw := range years {
		y, err := strconv.Atoi(key)
		if err != nil || len(key) != 4 {
			return nil, fmt.Errorf("the calendar table's year %q is not a year YYYY", clip(key))
		}
		entry, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("the calendar table's year %s must be an object with holidays and makeup_workdays", key)
		}
		days := new([367]dayKind)
		for _, f := range []struct {
			field string
			kind  dayKind
		}{{"holidays", holiday}, {"makeup_workdays", makeup}} {
			list, ok := entry[f.field].([]any)
			if !ok {
				return nil, fmt.Errorf("the calendar table's year %s needs a list %s", key, f.field)
			}
			for _, x := range list {
				s, _ := x.(string)
				d, err := ParseDate(s)
				if err != nil {
					return nil, fmt.Errorf("the calendar table's year %s lists %v in %s: %w", key, x, f.field, err)
				}
				if d.Year() != y {
					return nil, fmt.Errorf("the calendar table lists %s under year %s", d, key)
				}
				if days[d.t.YearDay()] != ordinary && days[d.t.YearDay()] != f.kind {
					return nil, fmt.Errorf("the calendar table lists %s both as a holiday and as a make-up working day", d)
				}
				days[d.t.YearDay()] = f.kind
			}
		}
		w.years[y] = days
	}
	return w, nil
}

func weekdayNamed(x any) (time.Weekday, bool) {
	s, _ := x.(string)
	for d := time.Sunday; d <= time.Saturday; d++ {
		if d.String() == s {
			return d, true
		}
	}
	return 0, false
}

// Years lists the published years in ascending order.
func (w *Workdays) Years() []int {
	ys := make([]int, 0, len(w.years))
	for y := range w.years {
		ys = append(ys, y)
	}
	sort.Ints(ys)
	return ys
}

// IsWorkingDay reports whether d is a working day: a make-up working day, or neither a rest weekday
// nor a holiday. A day in a year the table does not publish is an error.
func (w *Workdays) IsWorkingDay(d Date) (bool, error) {
	days, ok := w.years[d.Year()]
	if !ok {
		return false, notPublished(d.Year())
	}
	switch days[d.t.YearDay()] {
	case makeup:
		return true, nil
	case holiday:
		return false, nil
	}
	return !w.weekend[d.Weekday()], nil
}

// Covers reports whether the table publishes every year of the days [from, to); an empty range is covered.
func (w *Workdays) Covers(from, to Date) bool {
	if !from.Before(to) {
		return true
	}
	return w.published(from.Year(), to.AddDays(-1).Year()) == nil
}

// Count is the number of working days in [from, to), 0 when to is not after from. Any day of the
// range in an unpublished year is an error.
func (w *Workdays) Count(from, to Date) (int, error) {
	if !from.Before(to) {
		return 0, nil
	}
	if err := w.published(from.Year(), to.AddDays(-1).Year()); err != nil {
		return 0, err
	}
	n := 0
	for d := from; d.Before(to); d = d.AddDays(1) {
		if ok, _ := w.IsWorkingDay(d); ok {
			n++
		}
	}
	return n, nil
}

// Add is the n-th working day after d (before d for negative n; d itself for 0). The year of d and
// of every day passed are to be published, else it is an error.
func (w *Workdays) Add(d Date, n int) (Date, error) {
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	if _, ok := w.years[d.Year()]; !ok {
		return Date{}, notPublished(d.Year())
	}
	for n > 0 {
		d = d.AddDays(step)
		ok, err := w.IsWorkingDay(d)
		if err != nil {
			return Date{}, err
		}
		if ok {
			n--
		}
	}
	return d, nil
}

// CanAdd reports whether Add(d, n) has an answer, that is whether no year it needs is unpublished.
func (w *Workdays) CanAdd(d Date, n int) bool {
	_, err := w.Add(d, n)
	return err == nil
}

func (w *Workdays) published(from, to int) error {
	for y := from; y <= to; y++ {
		if _, ok := w.years[y]; !ok {
			return notPublished(y)
		}
	}
	return nil
}

func notPublished(y int) error { return fmt.Errorf("%w %d", ErrNotPublished, y) }
