package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseRate parses the body of "rate(N unit)". AWS takes a singular unit
// only for N = 1 and a plural one otherwise.
func parseRate(expr, body string) (Schedule, error) {
	value, unit, ok := strings.Cut(body, " ")
	if !ok || !allDigits(value) || len(value) > 4 {
		return Schedule{}, fmt.Errorf("rate expression %s: want rate(value unit), for example rate(10 days)", quote(expr))
	}
	n, _ := strconv.Atoi(value)
	var lo, hi int
	var per time.Duration
	switch unit {
	case "hour", "hours":
		lo, hi, per = MinRateHours, MaxRateHours, time.Hour
	case "day", "days":
		lo, hi, per = MinDays, MaxDays, 24*time.Hour
	default:
		return Schedule{}, fmt.Errorf("rate expression: unit %s: want hours or days", quote(unit))
	}
	singular := !strings.HasSuffix(unit, "s")
	switch {
	case n < lo || n > hi:
		return Schedule{}, fmt.Errorf("rate expression: %d %s: out of range %d-%d", n, unit, lo, hi)
	case n == 1 && !singular:
		return Schedule{}, fmt.Errorf("rate expression: unit %q with value 1: use %q", unit, strings.TrimSuffix(unit, "s"))
	case n != 1 && singular:
		return Schedule{}, fmt.Errorf("rate expression: unit %q with value %d: use %q", unit, n, unit+"s")
	}
	return Schedule{expr: expr, every: time.Duration(n) * per}, nil
}
