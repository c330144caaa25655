package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// mustParse returns the schedule expr spells or fails the test.
func mustParse(tb testing.TB, expr string) Schedule {
	tb.Helper()
	s, err := Parse(expr)
	if err != nil {
		tb.Fatalf("Parse(%q): %v", expr, err)
	}
	return s
}

// mustTime parses an RFC 3339 time or fails the test.
func mustTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// message returns the client-safe message of a fault error.
func message(tb testing.TB, err error) string {
	tb.Helper()
	var e *fault.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error %v is not a *fault.Error", err)
	}
	if e.Kind != fault.Invalid {
		tb.Fatalf("error %v: kind %v, want invalid", err, e.Kind)
	}
	return e.Msg
}

func TestParseGood(t *testing.T) {
	tests := []struct {
		expr  string
		every time.Duration // zero for cron
	}{
		{"rate(4 hours)", 4 * time.Hour},
		{"rate(23 hours)", 23 * time.Hour},
		{"rate(1 day)", 24 * time.Hour},
		{"rate(10 days)", 240 * time.Hour},
		{"rate(1000 days)", 1000 * 24 * time.Hour},
		{"cron(0 12 * * ? *)", 0},
		{"cron(0 4/12 * * ? *)", 0},
		{"cron(0 8 1/7 * ? *)", 0},
		{"cron(0 0 ? * SUN#1 *)", 0},
		{"cron(0 16 L * ? *)", 0},
		{"cron(0 10 ? * MON-FRI *)", 0},
		{"cron(0 10 ? * mon-fri *)", 0},
		{"cron(15,45 */2 1,15 JAN,JUL ? 2024-2030)", 0},
		{"cron(0-59/20 0-23/6 ? * 1,7 1970/10)", 0},
		{"cron(0 0 ? * 6L *)", 0},
		{"cron(0 0 ? * L *)", 0},
		{"cron(0 0 ? * 5#5 2199)", 0},
		{"cron(59 23 31 DEC ? 1970)", 0},
		{"cron(0  0  1  *  ?  *)", 0},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			s := mustParse(t, tt.expr)
			if got := s.String(); got != tt.expr {
				t.Errorf("String() = %q, want %q", got, tt.expr)
			}
			got, ok := s.Interval()
			if got != tt.every || ok != (tt.every > 0) {
				t.Errorf("Interval() = %v, %t, want %v, %t", got, ok, tt.every, tt.every > 0)
			}
		})
	}
}

func TestParseBad(t *testing.T) {
	long := "cron(" + strings.Repeat("0,", 130) + "0 * * * ? *)"
	tests := []struct {
		expr string
		want string // the error message
	}{
		{"", "schedule expression is empty"},
		{long, "schedule expression is longer than 256 characters"},
		{"cron(0 12 * * ? *)\n", `schedule expression: character '\n' is not allowed`},
		{"cron(0 12 * * ? *);", `schedule expression: character ';' is not allowed`},
		{"every(10 days)", `schedule expression "every(10 days)": want rate(...) or cron(...)`},
		{"rate(10 days", `schedule expression "rate(10 days": want rate(...) or cron(...)`},
		{"Rate(10 days)", `schedule expression "Rate(10 days)": want rate(...) or cron(...)`},
		{"rate()", `rate expression "rate()": want rate(value unit), for example rate(10 days)`},
		{"rate(10)", `rate expression "rate(10)": want rate(value unit), for example rate(10 days)`},
		{"rate(-1 days)", `rate expression "rate(-1 days)": want rate(value unit), for example rate(10 days)`},
		{"rate(10  days)", `rate expression: unit " days": want hours or days`},
		{"rate(10 weeks)", `rate expression: unit "weeks": want hours or days`},
		{"rate(10 minutes)", `rate expression: unit "minutes": want hours or days`},
		{"rate(10 Days)", `rate expression: unit "Days": want hours or days`},
		{"rate(1 hour)", "rate expression: 1 hour: out of range 4-23"},
		{"rate(3 hours)", "rate expression: 3 hours: out of range 4-23"},
		{"rate(24 hours)", "rate expression: 24 hours: out of range 4-23"},
		{"rate(0 days)", "rate expression: 0 days: out of range 1-1000"},
		{"rate(1001 days)", "rate expression: 1001 days: out of range 1-1000"},
		{"rate(99999 days)", `rate expression "rate(99999 days)": want rate(value unit), for example rate(10 days)`},
		{"rate(1 days)", `rate expression: unit "days" with value 1: use "day"`},
		{"rate(10 day)", `rate expression: unit "day" with value 10: use "days"`},
		{"rate(5 hour)", `rate expression: unit "hour" with value 5: use "hours"`},
		{"cron()", "cron expression: 0 fields, want 6: minutes hours day-of-month month day-of-week year"},
		{"cron(0 12 * * ?)", "cron expression: 5 fields, want 6: minutes hours day-of-month month day-of-week year"},
		{"cron(0 0 12 * * ? *)", "cron expression: 7 fields, want 6: minutes hours day-of-month month day-of-week year"},
		{"cron(60 12 * * ? *)", `cron expression: minutes "60": out of range 0-59`},
		{"cron(0 24 * * ? *)", `cron expression: hours "24": out of range 0-23`},
		{"cron(0 12 0 * ? *)", `cron expression: day-of-month "0": out of range 1-31`},
		{"cron(0 12 32 * ? *)", `cron expression: day-of-month "32": out of range 1-31`},
		{"cron(0 12 * 13 ? *)", `cron expression: month "13": out of range 1-12`},
		{"cron(0 12 * FOO ? *)", `cron expression: month "FOO": not a number or a month name`},
		{"cron(0 12 ? * 9 *)", `cron expression: day-of-week "9": out of range 1-7`},
		{"cron(0 12 ? * 0 *)", `cron expression: day-of-week "0": out of range 1-7`},
		{"cron(0 12 ? * SUNDAY *)", `cron expression: day-of-week "SUNDAY": not a number or a day name`},
		{"cron(0 12 * * ? 1969)", `cron expression: year "1969": out of range 1970-2199`},
		{"cron(0 12 * * ? 2200)", `cron expression: year "2200": out of range 1970-2199`},
		{"cron(0 12 * * ? 2030-2020)", `cron expression: year "2030-2020": range starts after it ends`},
		{"cron(0 5-2 * * ? *)", `cron expression: hours "5-2": range starts after it ends`},
		{"cron(*/0 * * * ? *)", `cron expression: minutes "*/0": step "0": out of range 1-60`},
		{"cron(*/61 * * * ? *)", `cron expression: minutes "*/61": step "61": out of range 1-60`},
		{"cron(*/ * * * ? *)", `cron expression: minutes "*/": step "": out of range 1-60`},
		{"cron(1,,2 * * * ? *)", `cron expression: minutes "": empty value`},
		{"cron(0 X * * ? *)", `cron expression: hours "X": not a number`},
		{"cron(0 12 * * * *)", `cron expression: exactly one of day-of-month and day-of-week must be "?"`},
		{"cron(0 12 ? * ? *)", `cron expression: exactly one of day-of-month and day-of-week must be "?"`},
		{"cron(0 12 1 * MON *)", `cron expression: exactly one of day-of-month and day-of-week must be "?"`},
		{"cron(? 12 * * ? *)", `cron expression: minutes "?": "?", "L" and "#" stand alone, in day-of-month or day-of-week only`},
		{"cron(0 12 * ? ? *)", `cron expression: month "?": "?", "L" and "#" stand alone, in day-of-month or day-of-week only`},
		{"cron(0 L * * ? *)", `cron expression: hours "L": "?", "L" and "#" stand alone, in day-of-month or day-of-week only`},
		{"cron(0 12 15W * ? *)", `cron expression: day-of-month "15W": the W (nearest weekday) wildcard is not supported`},
		{"cron(0 12 LW * ? *)", `cron expression: day-of-month "LW": the W (nearest weekday) wildcard is not supported`},
		{"cron(0 12 L-3 * ? *)", `cron expression: day-of-month "L-3": "?" and "L" must stand alone`},
		{"cron(0 12 1,L * ? *)", `cron expression: day-of-month "1,L": "?" and "L" must stand alone`},
		{"cron(0 12 1#2 * ? *)", `cron expression: day-of-month "1#2": "?", "L" and "#" stand alone, in day-of-month or day-of-week only`},
		{"cron(0 12 ? * 2#6 *)", `cron expression: day-of-week "2#6": week of the month "6": out of range 1-5`},
		{"cron(0 12 ? * 2#0 *)", `cron expression: day-of-week "2#0": week of the month "0": out of range 1-5`},
		{"cron(0 12 ? * 8#1 *)", `cron expression: day-of-week "8": out of range 1-7`},
		{"cron(0 12 ? * 1#1,2#2 *)", `cron expression: day-of-week "1#1,2#2": "?", "L" and "#" must stand alone`},
		{"cron(0 12 ? * 8L *)", `cron expression: day-of-week "8": out of range 1-7`},
		{"cron(0 12 ? * FRI,L *)", `cron expression: day-of-week "FRI,L": "?", "L" and "#" must stand alone`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			s, err := Parse(tt.expr)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error", tt.expr, s)
			}
			if got := message(t, err); got != tt.want {
				t.Errorf("Parse(%q) error:\n got %s\nwant %s", tt.expr, got, tt.want)
			}
			if s != (Schedule{}) {
				t.Errorf("Parse(%q) returned %v with its error, want the zero Schedule", tt.expr, s)
			}
		})
	}
}

func TestDaysAndFrequency(t *testing.T) {
	tests := []struct {
		name    string
		make    func(int) (Schedule, error)
		n       int
		want    string // String(), or the error message
		wantErr bool
	}{
		{"Days 1", Days, 1, "rate(1 day)", false},
		{"Days 30", Days, 30, "rate(30 days)", false},
		{"Days 1000", Days, 1000, "rate(1000 days)", false},
		{"Days 0", Days, 0, "rotation interval of 0 days: out of range 1-1000", true},
		{"Days -5", Days, -5, "rotation interval of -5 days: out of range 1-1000", true},
		{"Days 1001", Days, 1001, "rotation interval of 1001 days: out of range 1-1000", true},
		{"Frequency 30", Frequency, 30, "rate(30 days)", false},
		{"Frequency 365", Frequency, 365, "rate(365 days)", false},
		{"Frequency 29", Frequency, 29, "rotation frequency of 29 days: out of range 30-365", true},
		{"Frequency 366", Frequency, 366, "rotation frequency of 366 days: out of range 30-365", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.make(tt.n)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %v, want an error", s)
				}
				if got := message(t, err); got != tt.want {
					t.Errorf("got error %q, want %q", got, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got, ok := s.Interval(); !ok || got != time.Duration(tt.n)*24*time.Hour {
				t.Errorf("Interval() = %v, %t, want %d days", got, ok, tt.n)
			}
			if p := mustParse(t, s.String()); p != s {
				t.Errorf("Parse(%q) = %#v, want %#v", s.String(), p, s)
			}
		})
	}
}

func TestZeroSchedule(t *testing.T) {
	var s Schedule
	now := mustTime(t, "2024-06-01T12:00:00Z")
	if got := s.Next(now, now); !got.IsZero() {
		t.Errorf("Next = %v, want the zero time", got)
	}
	if got := s.String(); got != "" {
		t.Errorf("String() = %q, want empty", got)
	}
	if got, ok := s.Interval(); ok || got != 0 {
		t.Errorf("Interval() = %v, %t, want 0, false", got, ok)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"1h", time.Hour, ""},
		{"3h", 3 * time.Hour, ""},
		{"03h", 3 * time.Hour, ""},
		{"24h", 24 * time.Hour, ""},
		{"0h", 0, `duration "0h": out of range 1h-24h`},
		{"25h", 0, `duration "25h": out of range 1h-24h`},
		{"99h", 0, `duration "99h": out of range 1h-24h`},
		{"", 0, `duration "": want hours, for example 3h`},
		{"h", 0, `duration "h": want hours, for example 3h`},
		{"3", 0, `duration "3": want hours, for example 3h`},
		{"3H", 0, `duration "3H": want hours, for example 3h`},
		{"180m", 0, `duration "180m": want hours, for example 3h`},
		{"100h", 0, `duration "100h": want hours, for example 3h`},
		{"-3h", 0, `duration "-3h": want hours, for example 3h`},
		{"3h ", 0, `duration "3h ": want hours, for example 3h`},
		{"1h30m", 0, `duration "1h30m": want hours, for example 3h`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.err != "" {
				if err == nil {
					t.Fatalf("got %v, want an error", got)
				}
				if msg := message(t, err); msg != tt.err {
					t.Errorf("got error %q, want %q", msg, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %v, %v, want %v", got, err, tt.want)
			}
		})
	}
}

func TestErrorQuotesLongInputShortened(t *testing.T) {
	_, err := Parse("every(" + strings.Repeat("x", 200) + ")")
	if msg := message(t, err); len(msg) > 120 {
		t.Errorf("message is %d bytes, want a shortened quote: %s", len(msg), msg)
	}
}
