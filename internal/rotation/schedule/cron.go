package schedule

import (
	"fmt"
	"strconv"
	"strings"
)

// cronSpec is a parsed AWS cron expression. Every set holds value-min of
// its field. Exactly one of domAny and dowAny is true.
type cronSpec struct {
	minutes, hours, dom, months, dow, years set

	domAny  bool // day-of-month is "?": days match on day-of-week
	domLast bool // day-of-month is "L": the last day of the month
	dowAny  bool // day-of-week is "?": days match on day-of-month
	dowNth  int  // day-of-week is "d#k": the k-th such weekday (1..5)
	dowLast bool // day-of-week is "dL": the last such weekday of the month
}

// field describes one cron field: its name in error messages, its range,
// and the names it accepts in place of numbers (index 0 is min).
type field struct {
	name     string
	min, max int
	names    []string
	nameKind string // "month name", "day name"
}

var (
	minutesField = field{name: "minutes", min: 0, max: 59}
	hoursField   = field{name: "hours", min: 0, max: 23}
	domField     = field{name: "day-of-month", min: 1, max: 31}
	monthField   = field{name: "month", min: 1, max: 12, nameKind: "month name",
		names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}}
	dowField = field{name: "day-of-week", min: 1, max: 7, nameKind: "day name",
		names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}}
	yearField = field{name: "year", min: 1970, max: 2199}
)

// parseCron parses "Minutes Hours Day-of-month Month Day-of-week Year".
// Names and the letters L and W are case-insensitive, as in AWS.
func parseCron(body string) (c cronSpec, err error) {
	fs := strings.Fields(strings.ToUpper(body))
	if len(fs) != 6 {
		return c, fmt.Errorf("cron expression: %d fields, want 6: minutes hours day-of-month month day-of-week year", len(fs))
	}
	if c.minutes, err = minutesField.parseList(fs[0]); err != nil {
		return c, err
	}
	if c.hours, err = hoursField.parseList(fs[1]); err != nil {
		return c, err
	}
	if err = c.parseDOM(fs[2]); err != nil {
		return c, err
	}
	if c.months, err = monthField.parseList(fs[3]); err != nil {
		return c, err
	}
	if err = c.parseDOW(fs[4]); err != nil {
		return c, err
	}
	if c.years, err = yearField.parseList(fs[5]); err != nil {
		return c, err
	}
	if c.domAny == c.dowAny {
		return c, fmt.Errorf(`cron expression: exactly one of day-of-month and day-of-week must be "?"`)
	}
	return c, nil
}

// parseDOM handles the day-of-month extras: "?" and "L". AWS Secrets
// Manager does not list W among its day-of-month wildcards, so neither
// do we.
func (c *cronSpec) parseDOM(s string) error {
	switch {
	case s == "?":
		c.domAny = true
		return nil
	case s == "L":
		c.domLast = true
		return nil
	case strings.Contains(s, "W"):
		return domField.errorf(s, "the W (nearest weekday) wildcard is not supported")
	case strings.ContainsAny(s, "?L"):
		return domField.errorf(s, `"?" and "L" must stand alone`)
	}
	var err error
	c.dom, err = domField.parseList(s)
	return err
}

// parseDOW handles the day-of-week extras: "?", "L" (Saturday, the last
// day of the week), "dL" (the last weekday d of the month) and "d#k" (the
// k-th weekday d of the month).
func (c *cronSpec) parseDOW(s string) error {
	switch {
	case s == "?":
		c.dowAny = true
		return nil
	case strings.Contains(s, ",") && strings.ContainsAny(s, "?L#"):
		return dowField.errorf(s, `"?", "L" and "#" must stand alone`)
	case s == "L":
		c.dow.add(dowField.max - dowField.min)
		return nil
	case strings.Contains(s, "#"):
		return c.parseNth(s)
	case strings.HasSuffix(s, "L"):
		d, err := dowField.value(strings.TrimSuffix(s, "L"))
		if err != nil {
			return err
		}
		c.dow.add(d - dowField.min)
		c.dowLast = true
		return nil
	}
	var err error
	c.dow, err = dowField.parseList(s)
	return err
}

func (c *cronSpec) parseNth(s string) error {
	day, nth, _ := strings.Cut(s, "#")
	d, err := dowField.value(day)
	if err != nil {
		return err
	}
	k, err := strconv.Atoi(nth)
	if err != nil || !allDigits(nth) || k < 1 || k > 5 {
		return dowField.errorf(s, "week of the month %s: out of range 1-5", quote(nth))
	}
	c.dow.add(d - dowField.min)
	c.dowNth = k
	return nil
}

// parseList parses a comma-separated list of "*", "v", "a-b", "*/n",
// "a/n" and "a-b/n".
func (f field) parseList(s string) (set, error) {
	var out set
	for part := range strings.SplitSeq(s, ",") {
		if err := f.addPart(&out, part); err != nil {
			return set{}, err
		}
	}
	return out, nil
}

func (f field) addPart(out *set, part string) error {
	if strings.ContainsAny(part, "?#") || part == "L" {
		return f.errorf(part, `"?", "L" and "#" stand alone, in day-of-month or day-of-week only`)
	}
	span, stepText, hasStep := strings.Cut(part, "/")
	lo, hi, err := f.span(span, hasStep)
	if err != nil {
		return err
	}
	step := 1
	if hasStep {
		step, err = strconv.Atoi(stepText)
		if err != nil || !allDigits(stepText) || step < 1 || step > f.max-f.min+1 {
			return f.errorf(part, "step %s: out of range 1-%d", quote(stepText), f.max-f.min+1)
		}
	}
	for v := lo; v <= hi; v += step {
		out.add(v - f.min)
	}
	return nil
}

// span parses "*", "v" or "a-b". A lone value before a step ("5/15")
// starts a run to the end of the field.
func (f field) span(s string, hasStep bool) (lo, hi int, err error) {
	if s == "*" {
		return f.min, f.max, nil
	}
	a, b, isRange := strings.Cut(s, "-")
	if lo, err = f.value(a); err != nil {
		return 0, 0, err
	}
	switch {
	case isRange:
		if hi, err = f.value(b); err != nil {
			return 0, 0, err
		}
		if lo > hi {
			return 0, 0, f.errorf(s, "range starts after it ends")
		}
	case hasStep:
		hi = f.max
	default:
		hi = lo
	}
	return lo, hi, nil
}

// value parses a number or, in month and day-of-week, a name.
func (f field) value(s string) (int, error) {
	if allDigits(s) {
		v, err := strconv.Atoi(s)
		if err != nil || v < f.min || v > f.max {
			return 0, f.errorf(s, "out of range %d-%d", f.min, f.max)
		}
		return v, nil
	}
	for i, name := range f.names {
		if strings.EqualFold(s, name) {
			return f.min + i, nil
		}
	}
	switch {
	case s == "":
		return 0, f.errorf(s, "empty value")
	case f.nameKind != "":
		return 0, f.errorf(s, "not a number or a %s", f.nameKind)
	}
	return 0, f.errorf(s, "not a number")
}

func (f field) errorf(token, format string, args ...any) error {
	return fmt.Errorf("cron expression: %s %s: %s", f.name, quote(token), fmt.Sprintf(format, args...))
}
