package schedule

import (
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics, that what it accepts echoes and
// parses back to the same schedule, and that Next on it, after any time,
// stays bounded and returns a later matching minute or the zero time.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"rate(4 hours)", "rate(1 day)", "rate(1000 days)", "cron(0 12 * * ? *)",
		"cron(0 4/12 * * ? *)", "cron(0 0 ? * SUN#1 *)", "cron(0 16 L * ? *)",
		"cron(0 0 ? * 6L 2024-2030)", "cron(0 0 30 2 ? *)", "cron(15,45 */2 1,15 JAN,JUL ? 1970/10)",
		"cron(0 12 15W * ? *)", "cron(0 0 12 * * ? *)", "rate(0 days)", "cron(1,,2 * * * ? *)",
	} {
		f.Add(seed, int64(1709251199))
	}
	nows := []time.Time{
		time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 30, 0, time.UTC),
		time.Date(2198, 12, 31, 23, 59, 0, 0, time.UTC),
		time.Date(2199, 12, 31, 23, 59, 0, 0, time.UTC),
	}
	f.Fuzz(func(t *testing.T, expr string, unix int64) {
		s, err := Parse(expr)
		if err != nil {
			if msg := message(t, err); msg == "" {
				t.Fatalf("Parse(%q): empty message", expr)
			}
			return
		}
		if s.String() != expr {
			t.Fatalf("Parse(%q).String() = %q", expr, s.String())
		}
		if again := mustParse(t, s.String()); again != s {
			t.Fatalf("Parse(%q) twice gave different schedules", expr)
		}
		if _, ok := s.Interval(); ok {
			return
		}
		for _, now := range append(nows, time.Unix(unix, 0)) {
			got, steps := s.cron.next(now)
			if steps > maxSteps {
				t.Fatalf("%s after %v: %d steps", expr, now, steps)
			}
			if !got.IsZero() && (!got.After(now) || !s.cron.matches(got)) {
				t.Fatalf("%s after %v: Next = %v, not a later matching minute", expr, now, got)
			}
		}
	})
}

// FuzzParseDuration checks that ParseDuration never panics and accepts
// only whole hours from 1 to 24.
func FuzzParseDuration(f *testing.F) {
	for _, seed := range []string{"1h", "24h", "25h", "03h", "h", "", "1h30m"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			message(t, err)
			return
		}
		if d < time.Hour || d > 24*time.Hour || d%time.Hour != 0 {
			t.Fatalf("ParseDuration(%q) = %v", s, d)
		}
	})
}
