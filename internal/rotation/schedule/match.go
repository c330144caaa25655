package schedule

import "time"

// next returns the first minute strictly after now that c matches, or the
// zero time if there is none within HorizonYears. It also returns how many
// steps the search took, for tests that bound it.
//
// Each step either returns or skips to the start of the next candidate
// year, month, day, hour or minute, so the search visits each day of the
// horizon at most once and each field only a bounded number of times.
func (c *cronSpec) next(now time.Time) (time.Time, int) {
	t := now.UTC().Truncate(time.Minute).Add(time.Minute)
	limit := t.AddDate(HorizonYears, 0, 0)
	steps := 0
	for ; t.Before(limit); steps++ {
		y, mo, d := t.Date()
		h, mi := t.Hour(), t.Minute()
		switch {
		case !c.years.has(y - yearField.min):
			ny := c.years.next(y - yearField.min + 1)
			if ny < 0 {
				return time.Time{}, steps
			}
			t = date(ny+yearField.min, time.January, 1, 0, 0)
		case !c.months.has(int(mo) - monthField.min):
			t = date(y, mo+1, 1, 0, 0)
		case !c.dayMatches(t):
			t = date(y, mo, d+1, 0, 0)
		case !c.hours.has(h):
			t = date(y, mo, d, nextOr(&c.hours, h, 24), 0)
		case !c.minutes.has(mi):
			t = date(y, mo, d, h, nextOr(&c.minutes, mi, 60))
		default:
			return t, steps
		}
	}
	return time.Time{}, steps
}

// nextOr returns the smallest member of s after i, or end when there is
// none, so that time.Date rolls over into the next hour or day.
func nextOr(s *set, i, end int) int {
	if n := s.next(i + 1); n >= 0 {
		return n
	}
	return end
}

func date(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
}

// matches reports whether c fires at the minute that holds t.
func (c *cronSpec) matches(t time.Time) bool {
	t = t.UTC()
	return c.years.has(t.Year()-yearField.min) &&
		c.months.has(int(t.Month())-monthField.min) &&
		c.dayMatches(t) &&
		c.hours.has(t.Hour()) &&
		c.minutes.has(t.Minute())
}

// dayMatches reports whether the day of t (in UTC) matches. Exactly one of
// day-of-month and day-of-week is "?", so the other alone decides.
func (c *cronSpec) dayMatches(t time.Time) bool {
	y, mo, d := t.Date()
	if !c.domAny {
		if c.domLast {
			return d == daysIn(y, mo)
		}
		return c.dom.has(d - domField.min)
	}
	if !c.dow.has(int(t.Weekday()) + 1 - dowField.min) {
		return false
	}
	switch {
	case c.dowNth > 0:
		return (d-1)/7+1 == c.dowNth
	case c.dowLast:
		return d+7 > daysIn(y, mo)
	}
	return true
}

func daysIn(y int, mo time.Month) int { return date(y, mo+1, 0, 0, 0).Day() }
