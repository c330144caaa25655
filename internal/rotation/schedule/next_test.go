package schedule

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestNextInterval(t *testing.T) {
	days30, _ := Days(30)
	tests := []struct {
		name      string
		s         Schedule
		last, now string // RFC 3339; last "" for never rotated
		want      string
	}{
		{"days: not yet due", days30, "2024-01-01T00:00:00Z", "2024-01-15T08:00:00Z", "2024-01-31T00:00:00Z"},
		{"days: never rotated", days30, "", "2024-01-15T08:00:00Z", "2024-02-14T08:00:00Z"},
		{"days: overdue is due now", days30, "2024-01-01T00:00:00Z", "2024-03-01T10:30:00Z", "2024-03-01T10:30:00Z"},
		{"days: due exactly now", days30, "2024-01-01T00:00:00Z", "2024-01-31T00:00:00Z", "2024-01-31T00:00:00Z"},
		{"days: across leap day", days30, "2024-02-15T06:00:00Z", "2024-02-20T00:00:00Z", "2024-03-16T06:00:00Z"},
		{"rate hours", mustParse(t, "rate(4 hours)"), "2024-01-01T22:00:00Z", "2024-01-01T23:00:00Z", "2024-01-02T02:00:00Z"},
		{"rate day", mustParse(t, "rate(1 day)"), "2024-12-31T12:00:00Z", "2024-12-31T13:00:00Z", "2025-01-01T12:00:00Z"},
		{"rate days, never rotated", mustParse(t, "rate(10 days)"), "", "2024-01-01T00:00:00Z", "2024-01-11T00:00:00Z"},
		{"zone of last is dropped", days30, "2024-01-01T09:00:00+09:00", "2024-01-02T00:00:00Z", "2024-01-31T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var last time.Time
			if tt.last != "" {
				last = mustTime(t, tt.last)
			}
			got := tt.s.Next(last, mustTime(t, tt.now))
			if want := mustTime(t, tt.want); !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("Next = %v, want %v in UTC", got, want)
			}
		})
	}
}

func TestNextCron(t *testing.T) {
	tests := []struct {
		expr, now string
		want      string // "" for the zero time
	}{
		// Plain times, and "strictly after now".
		{"cron(0 12 * * ? *)", "2024-01-01T11:59:30Z", "2024-01-01T12:00:00Z"},
		{"cron(0 12 * * ? *)", "2024-01-01T12:00:00Z", "2024-01-02T12:00:00Z"},
		{"cron(0 12 * * ? *)", "2024-01-01T12:00:59.999Z", "2024-01-02T12:00:00Z"},
		{"cron(* * * * ? *)", "2024-01-01T12:00:00Z", "2024-01-01T12:01:00Z"},
		{"cron(* * * * ? *)", "2024-01-01T12:00:00.5Z", "2024-01-01T12:01:00Z"},
		{"cron(*/15 * * * ? *)", "2024-01-01T12:15:00Z", "2024-01-01T12:30:00Z"},
		{"cron(*/15 * * * ? *)", "2024-01-01T23:50:00Z", "2024-01-02T00:00:00Z"},
		{"cron(0 0 1 1 ? *)", "2024-12-31T23:59:00Z", "2025-01-01T00:00:00Z"},
		// Increments of hours reset each day (AWS: 4:00, 16:00, then 4:00).
		{"cron(0 4/12 * * ? *)", "2024-01-01T16:00:00Z", "2024-01-02T04:00:00Z"},
		{"cron(0 8 1/7 * ? *)", "2024-01-29T09:00:00Z", "2024-02-01T08:00:00Z"},
		{"cron(30 9-17/4 * * ? *)", "2024-01-01T13:31:00Z", "2024-01-01T17:30:00Z"},
		// A time in another zone is read as the instant it is.
		{"cron(0 12 * * ? *)", "2024-01-01T20:30:00+09:00", "2024-01-01T12:00:00Z"},
		// Month ends and leap years.
		{"cron(0 0 31 * ? *)", "2024-04-01T00:00:00Z", "2024-05-31T00:00:00Z"},
		{"cron(0 0 30 * ? *)", "2024-01-30T00:00:00Z", "2024-03-30T00:00:00Z"},
		{"cron(0 0 29 2 ? *)", "2025-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"cron(0 0 29 FEB ? *)", "2024-02-28T00:00:00Z", "2024-02-29T00:00:00Z"},
		{"cron(0 0 29 2 ? *)", "2096-03-01T00:00:00Z", ""}, // 2100 is not a leap year, and 2104 is past the horizon
		{"cron(0 0 29 2 ? *)", "2099-03-01T00:00:00Z", "2104-02-29T00:00:00Z"},
		{"cron(0 0 30 2 ? *)", "2024-01-01T00:00:00Z", ""},
		{"cron(0 0 31 4,6,9,11 ? *)", "2024-01-01T00:00:00Z", ""},
		{"cron(0 16 L * ? *)", "2024-02-10T00:00:00Z", "2024-02-29T16:00:00Z"},
		{"cron(0 16 L * ? *)", "2023-02-10T00:00:00Z", "2023-02-28T16:00:00Z"},
		{"cron(0 16 L * ? *)", "2024-02-29T16:00:00Z", "2024-03-31T16:00:00Z"},
		{"cron(0 16 L * ? *)", "2100-02-01T00:00:00Z", "2100-02-28T16:00:00Z"},
		{"cron(0 0 L 4 ? *)", "2024-01-01T00:00:00Z", "2024-04-30T00:00:00Z"},
		// Day-of-week, with 1 = SUN.
		{"cron(0 9 ? * MON-FRI *)", "2024-01-05T10:00:00Z", "2024-01-08T09:00:00Z"}, // Friday to Monday
		{"cron(0 9 ? * 2-6 *)", "2024-01-05T10:00:00Z", "2024-01-08T09:00:00Z"},
		{"cron(0 0 ? * 1 *)", "2024-01-01T00:00:00Z", "2024-01-07T00:00:00Z"}, // a Sunday
		{"cron(0 0 ? * L *)", "2024-01-01T00:00:00Z", "2024-01-06T00:00:00Z"}, // L alone is Saturday
		{"cron(0 0 ? * SUN#1 *)", "2024-08-05T00:00:00Z", "2024-09-01T00:00:00Z"},
		{"cron(0 0 ? * 3#2 *)", "2024-01-01T00:00:00Z", "2024-01-09T00:00:00Z"}, // second Tuesday
		{"cron(0 0 ? * 2#5 *)", "2024-01-01T00:00:00Z", "2024-01-29T00:00:00Z"}, // fifth Monday
		{"cron(0 0 ? * 2#5 *)", "2024-01-29T00:00:00Z", "2024-04-29T00:00:00Z"}, // Feb and Mar have four
		{"cron(0 0 ? * 6L *)", "2024-01-01T00:00:00Z", "2024-01-26T00:00:00Z"},  // last Friday
		{"cron(0 0 ? * FRIL *)", "2024-01-26T00:00:00Z", "2024-02-23T00:00:00Z"},
		{"cron(0 0 ? * 5#5 *)", "2024-03-01T00:00:00Z", "2024-05-30T00:00:00Z"}, // fifth Thursday
		{"cron(0 0 1 * ? *)", "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"},
		// Year field limits and the five-year horizon.
		{"cron(0 0 1 1 ? 2030)", "2026-06-01T00:00:00Z", "2030-01-01T00:00:00Z"},
		{"cron(0 0 1 1 ? 2030)", "2030-01-01T00:00:00Z", ""},
		{"cron(0 0 1 1 ? 2031)", "2026-01-01T00:00:00Z", "2031-01-01T00:00:00Z"},
		{"cron(0 0 1 1 ? 2031)", "2025-12-31T23:59:00Z", ""},
		{"cron(0 0 1 1 ? 2199)", "2026-01-01T00:00:00Z", ""},
		{"cron(59 23 31 12 ? 2199)", "2199-06-01T00:00:00Z", "2199-12-31T23:59:00Z"},
		{"cron(0 0 * * ? *)", "2199-12-31T00:00:00Z", ""},
		{"cron(0 0 1 1 ? 1970)", "1960-01-01T00:00:00Z", ""},
		{"cron(0 0 1 1 ? 1970)", "1969-06-01T00:00:00Z", "1970-01-01T00:00:00Z"},
		{"cron(0 0 1 1 ? 2024,2027/2)", "2024-06-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"cron(0 0 1 JAN,JUL ? 2025-2026)", "2025-01-01T00:00:00Z", "2025-07-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.expr+" after "+tt.now, func(t *testing.T) {
			s := mustParse(t, tt.expr)
			got := s.Next(mustTime(t, "2000-01-01T00:00:00Z"), mustTime(t, tt.now))
			if tt.want == "" {
				if !got.IsZero() {
					t.Errorf("Next = %v, want the zero time", got)
				}
				return
			}
			if want := mustTime(t, tt.want); !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("Next = %v, want %v in UTC", got, want)
			}
		})
	}
}

// TestNextSteps checks that the search is bounded for the slowest kinds of
// expression: a day that never comes, and a far year.
func TestNextSteps(t *testing.T) {
	for _, expr := range []string{
		"cron(0 0 30 2 ? *)", "cron(0 0 31 4,6,9,11 ? *)", "cron(59 23 ? * 1#5 *)",
		"cron(* * * * ? 2199)", "cron(0 0 ? 2 6#5 *)",
	} {
		s := mustParse(t, expr)
		for _, now := range []string{"1970-01-01T00:00:00Z", "2024-02-29T12:34:56Z", "2198-12-31T23:59:00Z"} {
			if _, steps := s.cron.next(mustTime(t, now)); steps > maxSteps {
				t.Errorf("%s after %s: %d steps, want at most %d", expr, now, steps, maxSteps)
			}
		}
	}
}

// maxSteps bounds the cron search: a few steps a year, one a day, and a few
// for the hours and minutes of the day it stops on.
const maxSteps = (HorizonYears+1)*(1+12+366) + 2*24 + 2*60

// TestNextMatchesBruteForce checks Next against stepping minute by minute
// over a bounded horizon: no minute between now and Next matches, and Next
// itself does.
func TestNextMatchesBruteForce(t *testing.T) {
	const horizon = 8 * 24 * 60 // minutes
	rapid.Check(t, func(t *rapid.T) {
		expr := cronGen().Draw(t, "expr")
		s, err := Parse(expr)
		if err != nil {
			t.Fatalf("generated %q: %v", expr, err)
		}
		now := time.Unix(rapid.Int64Range(0, 7000000000).Draw(t, "now"), 0).UTC()
		got, steps := s.cron.next(now)
		if steps > maxSteps {
			t.Fatalf("%s: %d steps", expr, steps)
		}
		if !got.IsZero() && (!got.After(now) || !s.cron.matches(got) || got.Second() != 0 || got.Nanosecond() != 0) {
			t.Fatalf("%s after %v: Next = %v, which is not a later matching minute", expr, now, got)
		}
		c := now.Truncate(time.Minute).Add(time.Minute)
		for range horizon {
			if !got.IsZero() && !c.Before(got) {
				return
			}
			if s.cron.matches(c) {
				t.Fatalf("%s after %v: Next = %v, but %v matches first", expr, now, got, c)
			}
			c = c.Add(time.Minute)
		}
	})
}

// cronGen generates valid cron expressions, mostly dense enough that a
// match falls within the brute-force horizon.
func cronGen() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		dom, dow := "?", "?"
		if rapid.Bool().Draw(t, "by day of month") {
			dom = rapid.OneOf(listGen(1, 31, nil), rapid.Just("L")).Draw(t, "dom")
		} else {
			dow = rapid.OneOf(listGen(1, 7, dowField.names), nthGen(), lastGen()).Draw(t, "dow")
		}
		return fmt.Sprintf("cron(%s %s %s %s %s %s)",
			listGen(0, 59, nil).Draw(t, "minutes"), listGen(0, 23, nil).Draw(t, "hours"), dom,
			listGen(1, 12, monthField.names).Draw(t, "month"), dow,
			rapid.OneOf(rapid.Just("*"), listGen(1970, 2199, nil)).Draw(t, "year"))
	})
}

// listGen generates a field: "*" or a list of values, ranges and steps,
// with names where the field has them.
func listGen(lo, hi int, names []string) *rapid.Generator[string] {
	val := func(t *rapid.T, label string, min int) int { return rapid.IntRange(min, hi).Draw(t, label) }
	show := func(t *rapid.T, v int) string {
		if names != nil && rapid.Bool().Draw(t, "by name") {
			return names[v-lo]
		}
		return fmt.Sprint(v)
	}
	part := rapid.Custom(func(t *rapid.T) string {
		a := val(t, "a", lo)
		switch rapid.IntRange(0, 4).Draw(t, "form") {
		case 0:
			return show(t, a)
		case 1:
			return show(t, a) + "-" + show(t, val(t, "b", a))
		case 2:
			return "*/" + fmt.Sprint(rapid.IntRange(1, hi-lo+1).Draw(t, "step"))
		case 3:
			return show(t, a) + "/" + fmt.Sprint(rapid.IntRange(1, hi-lo+1).Draw(t, "step"))
		}
		return show(t, a) + "-" + show(t, val(t, "b", a)) + "/" + fmt.Sprint(rapid.IntRange(1, hi-lo+1).Draw(t, "step"))
	})
	return rapid.Custom(func(t *rapid.T) string {
		if rapid.IntRange(0, 2).Draw(t, "star") == 0 {
			return "*"
		}
		return strings.Join(rapid.SliceOfN(part, 1, 4).Draw(t, "parts"), ",")
	})
}

func nthGen() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		return fmt.Sprintf("%d#%d", rapid.IntRange(1, 7).Draw(t, "day"), rapid.IntRange(1, 5).Draw(t, "k"))
	})
}

func lastGen() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		if rapid.Bool().Draw(t, "saturday") {
			return "L"
		}
		return dowField.names[rapid.IntRange(0, 6).Draw(t, "day")] + "L"
	})
}
