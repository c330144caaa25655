// Package schedule owns secret rotation schedules as AWS Secrets Manager
// spells them (AutomaticallyAfterDays, rate() and cron() expressions, the
// window Duration) and as Tencent SSM spells them (a Frequency in days), and
// computes when a secret is next due. Every time it returns is in UTC.
package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// Bounds of the interval forms. AWS documents AutomaticallyAfterDays as
// 1..1000; rate() in days takes the same range so that Days(n).String()
// parses back. AWS rotates "as often as every four hours"; a rate in hours
// beyond 23 is spelt in days.
const (
	MinDays      = 1
	MaxDays      = 1000
	MinRateHours = 4
	MaxRateHours = 23
	// Tencent SSM's UpdateRotationStatus Frequency, in days.
	MinFrequency = 30
	MaxFrequency = 365
	// MaxExpressionLength is AWS's limit on ScheduleExpression.
	MaxExpressionLength = 256
	// HorizonYears is how far past now Next searches a cron schedule.
	HorizonYears = 5
)

// Schedule is a parsed rotation schedule: a fixed interval (Days, Frequency,
// rate()) or a cron() expression. The zero Schedule never fires.
// Schedules are comparable with ==; two parsed from the same text are equal.
type Schedule struct {
	expr  string        // as the caller spelt it; what String echoes
	every time.Duration // the interval; zero for cron and for the zero Schedule
	cron  cronSpec      // meaningful when every is zero and expr is not empty
}

// Days returns a schedule that rotates every n days, AWS's
// AutomaticallyAfterDays. It returns a fault.Invalid error when n is outside
// 1..1000.
func Days(n int) (Schedule, error) {
	if n < MinDays || n > MaxDays {
		return Schedule{}, fault.E("schedule.Days", fault.Invalid,
			fmt.Sprintf("rotation interval of %d days: out of range %d-%d", n, MinDays, MaxDays))
	}
	return days(n), nil
}

// Frequency returns a schedule that rotates every n days, Tencent SSM's
// Frequency. It returns a fault.Invalid error when n is outside 30..365.
func Frequency(n int) (Schedule, error) {
	if n < MinFrequency || n > MaxFrequency {
		return Schedule{}, fault.E("schedule.Frequency", fault.Invalid,
			fmt.Sprintf("rotation frequency of %d days: out of range %d-%d", n, MinFrequency, MaxFrequency))
	}
	return days(n), nil
}

func days(n int) Schedule {
	return Schedule{expr: rateText(n, "day"), every: time.Duration(n) * 24 * time.Hour}
}

// rateText spells an interval as AWS does: singular unit for 1, plural otherwise.
func rateText(n int, unit string) string {
	if n != 1 {
		unit += "s"
	}
	return "rate(" + strconv.Itoa(n) + " " + unit + ")"
}

// Parse parses an AWS ScheduleExpression: "rate(N hours)", "rate(N days)" or
// "cron(Minutes Hours Day-of-month Month Day-of-week Year)". It returns a
// fault.Invalid error whose message names the bad part, for example
// `cron expression: day-of-week "9": out of range 1-7`.
func Parse(expr string) (Schedule, error) {
	s, err := parse(expr)
	if err != nil {
		return Schedule{}, fault.E("schedule.Parse", fault.Invalid, err.Error())
	}
	return s, nil
}

func parse(expr string) (Schedule, error) {
	if err := checkCharacters(expr); err != nil {
		return Schedule{}, err
	}
	if body, ok := enclosed(expr, "rate("); ok {
		return parseRate(expr, body)
	}
	if body, ok := enclosed(expr, "cron("); ok {
		c, err := parseCron(body)
		return Schedule{expr: expr, cron: c}, err
	}
	return Schedule{}, fmt.Errorf("schedule expression %s: want rate(...) or cron(...)", quote(expr))
}

// checkCharacters applies AWS's length limit and character pattern
// [0-9A-Za-z()#?*\-/, ]+ before any parsing.
func checkCharacters(expr string) error {
	switch {
	case expr == "":
		return fmt.Errorf("schedule expression is empty")
	case len(expr) > MaxExpressionLength:
		return fmt.Errorf("schedule expression is longer than %d characters", MaxExpressionLength)
	}
	for i := range len(expr) {
		c := expr[i]
		if !isAlnum(c) && !strings.ContainsRune("()#?*-/, ", rune(c)) {
			return fmt.Errorf("schedule expression: character %q is not allowed", rune(c))
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func enclosed(expr, prefix string) (string, bool) {
	if !strings.HasPrefix(expr, prefix) || !strings.HasSuffix(expr, ")") {
		return "", false
	}
	return expr[len(prefix) : len(expr)-1], true
}

// quote quotes user input for an error message, shortened so that a long
// input does not flood a log line.
func quote(s string) string {
	const limit = 40
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "…"
	}
	return strconv.Quote(s)
}

// Next returns when the secret is next due, in UTC.
//
// For an interval (Days, Frequency, rate()): last plus the interval, or now
// plus the interval when last is zero (never rotated). When last plus the
// interval is not after now the secret is overdue and Next returns now.
//
// For cron(): the first minute strictly after now that matches the
// expression; last is ignored. The search gives up after HorizonYears (five
// years) of candidates and returns the zero time, which is also the answer
// for an expression that can never match (cron(0 0 30 2 ? *)) and for one
// whose years have all passed. Next never takes more than a few thousand
// steps.
//
// The zero Schedule returns the zero time.
func (s Schedule) Next(last, now time.Time) time.Time {
	switch {
	case s.every > 0:
		if last.IsZero() {
			return now.UTC().Add(s.every)
		}
		if t := last.UTC().Add(s.every); t.After(now) {
			return t
		}
		return now.UTC()
	case s.expr != "":
		t, _ := s.cron.next(now)
		return t
	}
	return time.Time{}
}

// String returns the expression as AWS echoes it: the text given to Parse,
// or "rate(N days)" for Days and Frequency. It is "" for the zero Schedule.
func (s Schedule) String() string { return s.expr }

// Interval returns the fixed interval of a Days, Frequency or rate()
// schedule. It returns false for cron() and for the zero Schedule.
func (s Schedule) Interval() (time.Duration, bool) { return s.every, s.every > 0 }

// ParseDuration parses AWS's rotation window Duration, "Nh" with N from 1 to
// 24. It returns a fault.Invalid error for anything else.
func ParseDuration(s string) (time.Duration, error) {
	const op = "schedule.ParseDuration"
	n, ok := strings.CutSuffix(s, "h")
	if !ok || n == "" || len(n) > 2 || !allDigits(n) {
		return 0, fault.E(op, fault.Invalid, fmt.Sprintf("duration %s: want hours, for example 3h", quote(s)))
	}
	h, _ := strconv.Atoi(n)
	if h < 1 || h > 24 {
		return 0, fault.E(op, fault.Invalid, fmt.Sprintf("duration %s: out of range 1h-24h", quote(s)))
	}
	return time.Duration(h) * time.Hour, nil
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
